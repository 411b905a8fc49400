"""Reads for the dashboard and its exports. They read the OfficeDay table (plus the user's
memberships and the offices in scope) and one grouped count of hoarding flags: a fixed number of
queries whatever the number of applications."""

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Avg as _Avg
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from appointments.models import Application
from appointments.stock_outlook import USE_WINDOW_DAYS, run_out_date, working_days_before
from mpaspor.db_router import reads_replica
from offices import permissions
from offices.models import Office, PassportStock, StockUse

from .capacity import OfficeCapacity, office_capacities
from .models import OfficeDay

SUM_FIELDS = (
    "online_offered",
    "priority_offered",
    "online_taken",
    "priority_taken",
    "booked",
    "paid",
    "expired_unpaid",
    "cancelled",
    "checked_in",
    "no_show",
    "walk_ins",
    "walk_ins_beyond_pool",
    "walk_in_offered",
    "walk_in_taken",
    "express_offered",
    "express_taken",
    "searches",
    "searches_unmet",
    "documents_deleted",
)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "int"  # int, pct (0..1 shown as %), dec (one decimal), text


# The columns of each table, in order: the page, the CSV and the XLSX all use these.
SUMMARY_COLUMNS = [
    Column("office", _("Office"), "text"),
    Column("online_offered", _("Online places offered")),
    Column("online_taken", _("Online places taken")),
    Column("utilisation", _("Utilisation"), "pct"),
    Column("priority_offered", _("Priority places offered")),
    Column("priority_taken", _("Priority places taken")),
    Column("booked", _("Booked online")),
    Column("paid", _("Paid")),
    Column("expired_unpaid", _("Expired unpaid")),
    Column("cancelled", _("Cancelled")),
    Column("checked_in", _("Checked in")),
    Column("no_show", _("No-shows")),
    Column("no_show_rate", _("No-show rate"), "pct"),
    Column("walk_ins", _("Walk-ins")),
    Column("walk_ins_beyond_pool", _("Walk-ins beyond the priority pool")),
    Column("walk_in_offered", _("Walk-in session places offered")),
    Column("walk_in_taken", _("Walk-in session places taken")),
    Column("express_offered", _("Same-day places offered")),
    Column("express_taken", _("Same-day places taken")),
    Column("weekend_share", _("Weekend share of places taken"), "pct"),
    Column("sold_out_days", _("Days sold out")),
    Column("avg_sellout_minutes", _("Average minutes from release to sell-out"), "dec"),
    Column("avg_lead_time_days", _("Average days to the first free date"), "dec"),
    Column("nothing_free_days", _("Days with nothing free to book")),
    Column("searches", _("Availability searches")),
    Column("searches_unmet", _("Searches that found nothing free")),
    Column("unmet_share", _("Unmet demand"), "pct"),
    Column("documents_deleted", _("Documents deleted (retention)")),
    Column("hoarding_flags", _("Hoarding flags")),
]

DAILY_COLUMNS = [
    Column("date", _("Date"), "text"),
    Column("weekday", _("Day"), "text"),
    Column("online_offered", _("Online places offered")),
    Column("online_taken", _("Online places taken")),
    Column("utilisation", _("Utilisation"), "pct"),
    Column("priority_offered", _("Priority places offered")),
    Column("priority_taken", _("Priority places taken")),
    Column("booked", _("Booked online")),
    Column("paid", _("Paid")),
    Column("checked_in", _("Checked in")),
    Column("no_show", _("No-shows")),
    Column("walk_ins", _("Walk-ins")),
    Column("walk_ins_beyond_pool", _("Walk-ins beyond the priority pool")),
    Column("walk_in_offered", _("Walk-in session places offered")),
    Column("walk_in_taken", _("Walk-in session places taken")),
    Column("express_offered", _("Same-day places offered")),
    Column("express_taken", _("Same-day places taken")),
    Column("sellout_minutes", _("Minutes from release to sell-out"), "dec"),
    Column("lead_time_days", _("Days to the first free date"), "dec"),
    Column("searches", _("Availability searches")),
    Column("searches_unmet", _("Searches that found nothing free")),
]

WEEKPART_COLUMNS = [
    Column("part", _("Days"), "text"),
    Column("open_days", _("Days with sessions")),
    Column("online_offered", _("Online places offered")),
    Column("online_taken", _("Online places taken")),
    Column("taken_per_open_day", _("Places taken per day with sessions"), "dec"),
    Column("utilisation", _("Utilisation"), "pct"),
]

CAPACITY_COLUMNS = [
    Column("office", _("Office"), "text"),
    Column("bottleneck", _("Bottleneck step"), "text"),
    Column("capacity_per_day", _("Applications the office can serve per day")),
    Column("offered_per_open_day", _("Places offered per day with sessions"), "dec"),
    Column("headroom_per_day", _("Headroom per day (can serve minus offered)"), "dec"),
    Column("searches_per_place", _("Availability searches per online place"), "dec"),
    Column("avg_sellout_minutes", _("Average minutes from release to sell-out"), "dec"),
    Column("wait_minutes", _("Median minutes from check-in to the first call"), "dec"),
    Column("saturdays_without_sessions", _("Saturdays without sessions")),
    Column("sundays_without_sessions", _("Sundays without sessions")),
    Column("extra_with_saturdays", _("Extra places with Saturday sessions")),
    Column("extra_with_weekends", _("Extra places with Saturday and Sunday sessions")),
]


def report_offices(*, user) -> list[Office] | None:
    """The offices a user may read reports of (offices.permissions), or None when none (the
    view answers 403)."""
    offices = list(permissions.report_offices(user).select_related("region").order_by("region__name", "name"))
    return offices or None


def month_range(month: dt.date) -> tuple[dt.date, dt.date]:
    last = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=1), month.replace(day=last)


def _ratio(part, whole):
    return part / whole if whole else None


@dataclass
class Report:
    date_from: dt.date
    date_to: dt.date
    offices: list[Office]
    summary: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)
    daily: list[dict] = field(default_factory=list)
    weekparts: list[dict] = field(default_factory=list)
    capacity: list[dict] = field(default_factory=list)
    capacities: dict = field(default_factory=dict)  # office id: capacity.OfficeCapacity
    computed_at: dt.datetime | None = None

    def chart_data(self) -> dict:
        """Every day of the range on the time axis; a day without a row had no sessions: 0."""
        by_date = {row["date"]: row for row in self.daily}
        days = [
            (self.date_from + dt.timedelta(days=n)).isoformat() for n in range((self.date_to - self.date_from).days + 1)
        ]
        return {
            "labels": days,
            "offered": [by_date[day]["online_offered"] if day in by_date else 0 for day in days],
            "taken": [by_date[day]["online_taken"] if day in by_date else 0 for day in days],
            "weekparts": {
                "labels": [str(row["part"]) for row in self.weekparts],
                "offered": [row["online_offered"] for row in self.weekparts],
                "taken": [row["online_taken"] for row in self.weekparts],
            },
            "text": {
                "offered": str(_("Online places offered")),
                "taken": str(_("Online places taken")),
            },
        }


def _figures(values: dict) -> dict:
    """Rates from summed counts; None where the denominator is zero (shown as a dash)."""
    values["utilisation"] = _ratio(values["online_taken"], values["online_offered"])
    values["no_show_rate"] = _ratio(values["no_show"], values["checked_in"] + values["no_show"])
    values["unmet_share"] = _ratio(values["searches_unmet"], values["searches"])
    return values


# Summed and counted per office and per date; the totals add up the per-office figures.
TOTAL_FIELDS = SUM_FIELDS + (
    "weekend_taken",
    "open_days",
    "sold_out_days",
    "lead_days",
    "nothing_free_days",
    "hoarding_flags",
)
OPEN_DAY = Q(online_offered__gt=0) | Q(priority_offered__gt=0) | Q(walk_in_offered__gt=0)


@reads_replica()
def office_report(*, offices: list[Office], date_from: dt.date, date_to: dt.date) -> Report:
    """Everything the dashboard shows for these offices and dates (its exports and the capacity
    evaluation too): two grouped queries and the capacity model's three, on the read replica when
    one is usable."""
    report = Report(date_from=date_from, date_to=date_to, offices=offices)
    rows = OfficeDay.objects.filter(office_id__in=[o.pk for o in offices], date__gte=date_from, date__lte=date_to)
    per_office = _per_office(rows)
    report.capacities = office_capacities(offices=offices, date_from=date_from, date_to=date_to)
    flags = flags_per_office(offices=offices, date_from=date_from, date_to=date_to)
    saturdays, sundays = _weekend_dates(date_from, date_to)
    for office in offices:
        values = {**(per_office.get(office.pk) or _no_office_days()), "hoarding_flags": flags.get(office.pk, 0)}
        report.summary.append(_office_summary(office, values))
        report.capacity.append(
            _office_capacity(office, values, report.capacities[office.pk], saturdays=saturdays, sundays=sundays)
        )
    report.computed_at = max((row["computed_at"] for row in report.summary if row["computed_at"]), default=None)
    report.totals = _totals(report.summary)
    report.daily, report.weekparts = _daily_and_weekparts(rows)
    return report


def flags_per_office(*, offices: list[Office], date_from: dt.date, date_to: dt.date) -> dict[int, int]:
    """Hoarding flags raised in the dates (TIME_ZONE), by office: a flag counts at each office
    where its account applied within the flag's window (so at two offices if it applied at two;
    a flag of an account that never applied, as for sign-ups from one address, at none)."""
    start = timezone.make_aware(dt.datetime.combine(date_from, dt.time()))
    end = timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()))
    rows = (
        Application.objects.filter(
            slot__office_id__in=[o.pk for o in offices],
            account__flags__raised_at__gte=start,
            account__flags__raised_at__lt=end,
            created_at__gte=F("account__flags__window_start"),
            created_at__lte=F("account__flags__raised_at"),
        )
        .values("slot__office_id")
        .annotate(flags=Count("account__flags", distinct=True))
        .order_by()
    )
    return {row["slot__office_id"]: row["flags"] for row in rows}


def _sums() -> dict:
    return {name: Sum(name, default=0) for name in SUM_FIELDS}


def _per_office(rows) -> dict[int, dict]:
    """Each office's summed figures and day counts over the rows, by office id."""
    return {
        row["office_id"]: row
        # Filtered counts first: in the second annotate the field names mean the sums.
        for row in rows.values("office_id")
        .annotate(
            weekend_taken=Sum(F("online_taken") + F("priority_taken"), filter=Q(is_weekend=True), default=0),
            open_days=Count("id", filter=OPEN_DAY),
            open_saturdays=Count("id", filter=OPEN_DAY & Q(date__iso_week_day=6)),
            open_sundays=Count("id", filter=OPEN_DAY & Q(date__iso_week_day=7)),
            sold_out_days=Count("id", filter=Q(sellout_minutes__isnull=False)),
            avg_sellout_minutes=_Avg("sellout_minutes"),
            avg_lead_time_days=_Avg("lead_time_days"),
            lead_days=Count("id", filter=Q(lead_time_days__isnull=False)),
            nothing_free_days=Count("id", filter=Q(nothing_free=True)),
            computed_at=Max("computed_at"),
        )
        .annotate(**_sums())
    }


def _no_office_days() -> dict:
    """The figures of an office without a row in the range."""
    values = dict.fromkeys(TOTAL_FIELDS + ("open_saturdays", "open_sundays"), 0)
    values.update(avg_sellout_minutes=None, avg_lead_time_days=None, computed_at=None)
    return values


def _office_summary(office: Office, values: dict) -> dict:
    summary = _figures({**values, "office": office.name, "office_code": office.code})
    summary["weekend_share"] = _ratio(values["weekend_taken"], values["online_taken"] + values["priority_taken"])
    return summary


def _office_capacity(office: Office, values: dict, capacity: OfficeCapacity, *, saturdays: int, sundays: int) -> dict:
    """What the office can serve in a day (its bottleneck step) against what it offered and the
    demand measured, and what sessions on the weekends it left closed would add."""
    per_day = capacity.per_day
    offered_per_day = _ratio(values["online_offered"] + values["priority_offered"], values["open_days"])
    missing_saturdays = max(saturdays - values["open_saturdays"], 0)
    missing_sundays = max(sundays - values["open_sundays"], 0)
    return {
        "office": office.name,
        "office_code": office.code,
        "bottleneck": capacity.bottleneck.label if capacity.bottleneck else None,
        "capacity_per_day": per_day,
        "offered_per_open_day": offered_per_day,
        "headroom_per_day": per_day - offered_per_day if per_day is not None and offered_per_day is not None else None,
        "searches_per_place": _ratio(values["searches"], values["online_offered"]),
        "avg_sellout_minutes": values["avg_sellout_minutes"],
        "wait_minutes": capacity.wait_minutes,
        "saturdays_without_sessions": missing_saturdays,
        "sundays_without_sessions": missing_sundays,
        "extra_with_saturdays": (per_day or 0) * missing_saturdays if per_day is not None else None,
        "extra_with_weekends": (per_day or 0) * (missing_saturdays + missing_sundays) if per_day is not None else None,
    }


def _totals(summary: list[dict]) -> dict:
    totals = _figures({key: sum(row[key] for row in summary) for key in TOTAL_FIELDS})
    totals["office"] = _("All offices shown")
    totals["weekend_share"] = _ratio(totals["weekend_taken"], totals["online_taken"] + totals["priority_taken"])
    # Averages over all office-days (weighted by each office's days), not averages of averages.
    totals["avg_sellout_minutes"] = _weighted(summary, "avg_sellout_minutes", "sold_out_days")
    totals["avg_lead_time_days"] = _weighted(summary, "avg_lead_time_days", "lead_days")
    return totals


def _daily_and_weekparts(rows) -> tuple[list[dict], list[dict]]:
    """The figures of each date over the offices, and of weekdays against weekend days."""
    weekparts = {
        False: {"part": _("Monday to Friday"), "open_days": 0, "online_offered": 0, "online_taken": 0},
        True: {"part": _("Saturday and Sunday"), "open_days": 0, "online_offered": 0, "online_taken": 0},
    }
    daily = []
    for day in (
        rows.values("date")
        .annotate(
            open_offices=Count("id", filter=OPEN_DAY),
            avg_sellout=_Avg("sellout_minutes"),
            avg_lead=_Avg("lead_time_days"),
        )
        .annotate(**_sums())
        .order_by("date")
    ):
        day["sellout_minutes"], day["lead_time_days"] = day.pop("avg_sellout"), day.pop("avg_lead")
        part = weekparts[day["date"].weekday() >= 5]
        part["open_days"] += 1 if day["open_offices"] else 0
        part["online_offered"] += day["online_offered"]
        part["online_taken"] += day["online_taken"]
        day["utilisation"] = _ratio(day["online_taken"], day["online_offered"])
        day["weekday"] = date_format(day["date"], "l")
        day["date"] = day["date"].isoformat()
        daily.append(day)
    for part in weekparts.values():
        part["taken_per_open_day"] = _ratio(part["online_taken"], part["open_days"])
        part["utilisation"] = _ratio(part["online_taken"], part["online_offered"])
    return daily, list(weekparts.values())


def _weighted(rows: list[dict], average: str, weight: str):
    pairs = [(row[average], row[weight]) for row in rows if row[average] is not None]
    return _ratio(sum(float(a) * n for a, n in pairs), sum(n for _a, n in pairs))


def _weekend_dates(date_from: dt.date, date_to: dt.date) -> tuple[int, int]:
    saturdays = sundays = 0
    day = date_from
    while day <= date_to:
        saturdays += day.weekday() == 5
        sundays += day.weekday() == 6
        day += dt.timedelta(days=1)
    return saturdays, sundays


def table(rows: list[dict], columns: list[Column]) -> list[list]:
    """Rows as cell values in column order (the page, CSV and XLSX all render these)."""
    return [[row.get(column.key) for column in columns] for row in rows]


@dataclass
class StockRow:
    office: Office
    label: str
    issued: bool
    on_hand: int
    booked_ahead: int
    used_last_week: int
    use_per_week: float  # average over the last USE_WINDOW_DAYS
    closed_from: dt.date | None
    runs_out_on: dt.date | None
    working_days: int | None  # working days the stock covers from today (None: no run-out in sight)
    low: bool


def stock_overview(*, offices: list[Office], now: dt.datetime | None = None) -> list[StockRow]:
    """Each office's blank books per passport type: on hand, booked ahead, books used per week
    and the run-out date (docs/book-stock.md). Two queries, whatever the number of offices."""
    now = now or timezone.now()
    stocks = list(PassportStock.objects.filter(office__in=offices).select_related("office").order_by("office__name"))
    earliest = min((now.astimezone(s.office.tzinfo).date() for s in stocks), default=now.date())
    since = earliest - dt.timedelta(days=USE_WINDOW_DAYS)
    uses: dict[int, list[dt.date]] = {}
    for stock_id, used_on in StockUse.objects.filter(stock__in=stocks, used_on__gte=since).values_list(
        "stock_id", "used_on"
    ):
        uses.setdefault(stock_id, []).append(used_on)
    rows = []
    for stock in stocks:
        today = now.astimezone(stock.office.tzinfo).date()
        used = [d for d in uses.get(stock.pk, []) if today - dt.timedelta(days=USE_WINDOW_DAYS) <= d < today]
        window_working_days = max(working_days_before(today=today - dt.timedelta(days=USE_WINDOW_DAYS), end=today), 1)
        runs_out = (
            run_out_date(stock=stock, today=today, daily_use=len(used) / window_working_days) if stock.issued else None
        )
        covered = working_days_before(today=today, end=runs_out) if runs_out else None
        rows.append(
            StockRow(
                office=stock.office,
                label=stock.get_passport_type_display(),
                issued=stock.issued,
                on_hand=stock.on_hand,
                booked_ahead=stock.booked_ahead,
                used_last_week=sum(1 for d in used if d >= today - dt.timedelta(days=7)),
                use_per_week=len(used) * 7 / USE_WINDOW_DAYS,
                closed_from=stock.closed_from if stock.issued else None,
                runs_out_on=runs_out,
                working_days=covered,
                low=covered is not None and covered < settings.STOCK_ALERT_WORKING_DAYS,
            )
        )
    return rows
