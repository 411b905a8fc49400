"""The daily aggregate per office and date. Set-based: a few GROUP BY queries over slots,
applications and search tallies, then one upsert of the office-day rows (never a Python
loop over applications)."""

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from appointments.models import Application, DeletedDocuments, Status
from offices.models import Office
from quotas.models import Pool, SearchTally, Slot
from quotas.services.searches import flush_search_counts

from .models import OfficeDay

logger = logging.getLogger(__name__)

# How far ahead the first free date is looked for; beyond it the lead time is left empty.
LEAD_TIME_HORIZON_DAYS = 90
# These gave the place back before the session; a no-show held it until then.
GAVE_PLACE_BACK = (Status.CANCELLED, Status.EXPIRED)
# Statuses that mean the applicant came to the counter (checked_in_at may be empty on old rows).
SEEN_AT_COUNTER = (
    Status.CHECKED_IN,
    Status.IN_PROCESS,
    Status.APPROVED,
    Status.ISSUED,
    Status.COLLECTED,
    Status.REJECTED,
)
FIGURE_FIELDS = (
    "is_weekend",
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
    "released_at",
    "sold_out_at",
    "sellout_minutes",
    "lead_time_days",
    "nothing_free",
    "searches",
    "searches_unmet",
    "documents_deleted",
    "computed_at",
)


@dataclass
class _DayState:
    online_offered: int = 0
    released_at: dt.datetime | None = None
    sold_out_at: dt.datetime | None = None


@dataclass(frozen=True)
class _Scope:
    """The office dates one refresh covers, on every office (office_ids None) or on some."""

    date_from: dt.date
    date_to: dt.date
    office_ids: list[int] | None

    @property
    def horizon_end(self) -> dt.date:
        """The last date the lead time of the range's days may look at."""
        return self.date_to + dt.timedelta(days=LEAD_TIME_HORIZON_DAYS)

    def of_offices(self, field: str = "office_id") -> dict:
        """The filter on the offices in scope, through `field`."""
        return {} if self.office_ids is None else {f"{field}__in": self.office_ids}


def refresh_office_days(
    *, date_from: dt.date, date_to: dt.date, office_ids: list[int] | None = None, now: dt.datetime | None = None
) -> int:
    """Recompute the OfficeDay rows of [date_from, date_to] (offices' own dates) and upsert
    them; rows left without any slot, application or search are removed. Idempotent:
    a re-run over unchanged data writes the same figures. Returns the rows written."""
    now = now or timezone.now()
    if date_to < date_from:
        return 0
    offices = Office.objects.all() if office_ids is None else Office.objects.filter(pk__in=office_ids)
    timezones = dict(offices.values_list("pk", "timezone"))
    if not timezones:
        return 0
    scope = _Scope(date_from, date_to, office_ids=None if office_ids is None else list(timezones))

    slot_figures, states = _slot_figures(scope)
    rows: dict[tuple[int, dt.date], dict] = {}
    for figures in (slot_figures, _application_figures(scope), _search_figures(scope), _deletion_figures(scope)):
        for (office_id, day), values in figures.items():
            rows.setdefault((office_id, day), {"office_id": office_id, "date": day}).update(values)
    objects = [
        _office_day(values, states=states.get(office_id, {}), tz=ZoneInfo(timezones[office_id]), now=now)
        for (office_id, _day), values in rows.items()
    ]
    _replace_office_days(scope, objects, kept=rows.keys())
    return len(objects)


def _slot_figures(scope: _Scope) -> tuple[dict[tuple[int, dt.date], dict], dict[int, dict[dt.date, _DayState]]]:
    """Places offered per pool, release and sell-out times of the range's days, and each
    office's day states up to the lead-time horizon."""
    online, priority = Q(pool=Pool.ONLINE), Q(pool=Pool.PRIORITY)
    slot_rows = (
        Slot.objects.filter(date__gte=scope.date_from, date__lte=scope.horizon_end, **scope.of_offices())
        .values("office_id", "date")
        .annotate(
            online_offered=Sum("capacity", filter=online, default=0),
            # Places added for walk-ins beyond the pool were not offered: they are counted apart.
            priority_offered=Sum(F("capacity") - F("overflow"), filter=priority, default=0),
            walk_in_offered=Sum("capacity", filter=Q(pool=Pool.WALK_IN), default=0),
            express_offered=Sum("capacity", filter=Q(pool=Pool.EXPRESS), default=0),
            released_at=Min("opens_at", filter=online),
            online_sessions=Count("id", filter=online),
        )
    )
    fills = _session_fills(scope)
    figures: dict[tuple[int, dt.date], dict] = {}
    states: dict[int, dict[dt.date, _DayState]] = {}
    for s in slot_rows:
        key = (s["office_id"], s["date"])
        session_fills = fills.get(key, [])
        sold_out_at = None
        if s["online_sessions"] and len(session_fills) == s["online_sessions"]:
            sold_out_at = max(session_fills)
        states.setdefault(s["office_id"], {})[s["date"]] = _DayState(
            online_offered=s["online_offered"], released_at=s["released_at"], sold_out_at=sold_out_at
        )
        if s["date"] > scope.date_to:
            continue
        sellout_minutes = None
        if sold_out_at and s["released_at"]:
            sellout_minutes = max(int((sold_out_at - s["released_at"]).total_seconds() // 60), 0)
        figures[key] = {
            "online_offered": s["online_offered"],
            "priority_offered": s["priority_offered"],
            "walk_in_offered": s["walk_in_offered"],
            "express_offered": s["express_offered"],
            "released_at": s["released_at"],
            "sold_out_at": sold_out_at,
            "sellout_minutes": sellout_minutes,
        }
    return figures, states


def _session_fills(scope: _Scope) -> dict[tuple[int, dt.date], list[dt.datetime]]:
    """When each online session filled, per office and date: the booking that took its last
    place, i.e. the capacity-th application (by time) among those that kept their place up to
    the session (no-shows included: they held it; cancelled and expired ones gave it back)."""
    filled = (
        Application.objects.filter(
            slot__date__gte=scope.date_from,
            slot__date__lte=scope.horizon_end,
            slot__pool=Pool.ONLINE,
            **scope.of_offices("slot__office_id"),
        )
        .exclude(status__in=GAVE_PLACE_BACK)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("slot_id")], order_by=[F("created_at").asc(), F("id").asc()])
        )
        .filter(rank=F("slot__capacity"))
        .values_list("slot__office_id", "slot__date", "created_at")
    )
    fills: dict[tuple[int, dt.date], list[dt.datetime]] = {}
    for office_id, day, created_at in filled:
        fills.setdefault((office_id, day), []).append(created_at)
    return fills


def _application_figures(scope: _Scope) -> dict[tuple[int, dt.date], dict]:
    """What happened to the applications on each date's sessions."""
    kept_place = ~Q(status__in=GAVE_PLACE_BACK)
    app_rows = (
        Application.objects.filter(
            slot__date__gte=scope.date_from, slot__date__lte=scope.date_to, **scope.of_offices("slot__office_id")
        )
        .values("slot__office_id", "slot__date")
        .annotate(
            online_taken=Count("id", filter=Q(slot__pool=Pool.ONLINE) & kept_place),
            priority_taken=Count("id", filter=Q(slot__pool=Pool.PRIORITY) & kept_place),
            booked=Count("id", filter=Q(walk_in=False)),
            paid=Count("id", filter=Q(paid_at__isnull=False)),
            expired_unpaid=Count("id", filter=Q(status=Status.EXPIRED)),
            cancelled=Count("id", filter=Q(status=Status.CANCELLED)),
            checked_in=Count("id", filter=Q(checked_in_at__isnull=False) | Q(status__in=SEEN_AT_COUNTER)),
            no_show=Count("id", filter=Q(status=Status.NO_SHOW)),
            walk_ins=Count("id", filter=Q(walk_in=True)),
            walk_ins_beyond_pool=Count("id", filter=Q(beyond_pool=True)),
            walk_in_taken=Count("id", filter=Q(slot__pool=Pool.WALK_IN) & kept_place),
            express_taken=Count("id", filter=Q(express=True) & kept_place),
        )
    )
    return {
        (a["slot__office_id"], a["slot__date"]): {k: v for k, v in a.items() if not k.startswith("slot__")}
        for a in app_rows
    }


def _search_figures(scope: _Scope) -> dict[tuple[int, dt.date], dict]:
    """Availability searches (flushed from the cache counters by quotas)."""
    search_rows = SearchTally.objects.filter(
        day__gte=scope.date_from, day__lte=scope.date_to, **scope.of_offices()
    ).values("office_id", "day", "searches", "found_nothing")
    return {
        (t["office_id"], t["day"]): {"searches": t["searches"], "searches_unmet": t["found_nothing"]}
        for t in search_rows
    }


def _deletion_figures(scope: _Scope) -> dict[tuple[int, dt.date], dict]:
    """Supporting documents deleted by the retention job, per office and day of the run."""
    rows = (
        DeletedDocuments.objects.filter(date__gte=scope.date_from, date__lte=scope.date_to, **scope.of_offices())
        .values("office_id", "date")
        .annotate(deleted=Sum("count"))
    )
    return {(r["office_id"], r["date"]): {"documents_deleted": r["deleted"]} for r in rows}


def _office_day(values: dict, *, states: dict[dt.date, _DayState], tz: ZoneInfo, now: dt.datetime) -> OfficeDay:
    """One office-day row from its summed figures and the figures derived from its date."""
    day = values["date"]
    lead_time_days = _lead_time(day, states, tz, now)
    return OfficeDay(
        **values,
        is_weekend=day.weekday() >= 5,
        lead_time_days=lead_time_days,
        nothing_free=lead_time_days is None and day <= now.astimezone(tz).date(),
        computed_at=now,
    )


def _replace_office_days(scope: _Scope, objects: list[OfficeDay], *, kept) -> None:
    """Upsert the rows and remove the scope's rows whose (office, date) is not in `kept`."""
    with transaction.atomic():
        stale = OfficeDay.objects.filter(
            date__gte=scope.date_from, date__lte=scope.date_to, **scope.of_offices()
        ).values_list("pk", "office_id", "date")
        stale_ids = [pk for pk, office_id, day in stale if (office_id, day) not in kept]
        if stale_ids:
            OfficeDay.objects.filter(pk__in=stale_ids).delete()
        OfficeDay.objects.bulk_create(
            objects,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["office", "date"],
            update_fields=list(FIGURE_FIELDS),
        )


def _lead_time(day: dt.date, states: dict[dt.date, _DayState], tz: ZoneInfo, now: dt.datetime) -> int | None:
    """Days from `day` to the first later date that, at the end of `day` (or now, for today),
    was released and not yet sold out. None for future dates or nothing free in the horizon."""
    today = now.astimezone(tz).date()
    if day > today:
        return None
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    seen_at = min(end_of_day, now)
    for ahead in range(1, LEAD_TIME_HORIZON_DAYS + 1):
        state = states.get(day + dt.timedelta(days=ahead))
        if (
            state
            and state.online_offered
            and state.released_at is not None
            and state.released_at <= seen_at
            and (state.sold_out_at is None or state.sold_out_at > seen_at)
        ):
            return ahead
    return None


def refresh_recent_office_days(*, days_back: int = 7, office_ids: list[int] | None = None, now=None) -> int:
    """The nightly job and the dashboard's "refresh today": move the search counters into
    their table, then rebuild the last `days_back` days up to today (late no-shows and
    check-ins change recent days)."""
    now = now or timezone.now()
    flush_search_counts(now=now)
    # The latest office date anywhere in Indonesia is WIT's; the earliest is WIB's.
    latest = now.astimezone(ZoneInfo("Asia/Jayapura")).date()
    earliest = now.astimezone(ZoneInfo("Asia/Jakarta")).date()
    return refresh_office_days(
        date_from=earliest - dt.timedelta(days=days_back), date_to=latest, office_ids=office_ids, now=now
    )
