"""Reads for the applicant's pages; availability itself comes from quotas.selectors."""

import calendar
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mpaspor.db import fetch
from offices.models import Office
from quotas.models import Pool, Slot
from quotas.selectors import DayAvailability, DayState, office_availability

from .exceptions import InvalidInput
from .models import ACTIVE_STATUSES, Applicant, Application, Fee, Payment, Status


def account_applications(*, account):
    return Application.objects.filter(account=account).select_related("slot__office").order_by("-created_at")


def account_application(*, account, booking_code: str) -> Application | None:
    return (
        Application.objects.filter(account=account, booking_code=booking_code.upper())
        .select_related("slot__office__region")
        .first()
    )


def slot_state(slot: Slot, *, now: dt.datetime | None = None) -> str:
    """What the booking form can say up front; the claim decides for real."""
    now = now or timezone.now()
    if slot.starts_at <= now:
        return DayState.PAST
    if slot.opens_at > now:
        return DayState.NOT_OPEN
    return DayState.FREE if slot.taken < slot.capacity else DayState.FULL


def bookable_slot(*, slot_id: int) -> Slot | None:
    return (
        Slot.objects.filter(pk=slot_id, pool=Pool.ONLINE, office__is_active=True)
        .select_related("office__region")
        .first()
    )


@dataclass
class ReleaseNote:
    opens_at: dt.datetime
    first: dt.date
    last: dt.date


@dataclass
class MonthCalendar:
    office: Office
    month: dt.date  # the first day of the month shown
    weeks: list[list[DayAvailability | None]]  # Monday first; None pads days of other months
    today: dt.date
    previous_month: dt.date | None
    next_month: dt.date | None
    releases: list[ReleaseNote]
    closures: list[DayAvailability]

    @property
    def has_free_day(self) -> bool:
        return any(day and day.state == DayState.FREE for week in self.weeks for day in week)

    @property
    def has_bookable_day(self) -> bool:
        """A day free now or opening later."""
        return any(day and day.state in (DayState.FREE, DayState.NOT_OPEN) for week in self.weeks for day in week)


MONTHS_AHEAD = 3


def month_calendar(*, office: Office, year: int, month: int, now: dt.datetime | None = None) -> MonthCalendar:
    """One month of an office's days (in the office's zone), with navigation limits, the dates
    whose quota opens later grouped by opening time, and the holidays and closures."""
    now = now or timezone.now()
    today = now.astimezone(office.tzinfo).date()
    this_month = today.replace(day=1)
    last_month = _add_months(this_month, MONTHS_AHEAD)
    first = min(max(dt.date(year, month, 1), this_month), last_month)
    last = _add_months(first, 1) - dt.timedelta(days=1)
    days = {day.date: day for day in office_availability(office=office, date_from=first, date_to=last, now=now)}
    weeks = [
        [days.get(date) if date.month == first.month else None for date in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    releases: dict[dt.datetime, ReleaseNote] = {}
    for day in days.values():
        if day.state == DayState.NOT_OPEN and day.opens_at:
            note = releases.setdefault(day.opens_at, ReleaseNote(opens_at=day.opens_at, first=day.date, last=day.date))
            note.last = max(note.last, day.date)
    closures = [d for d in days.values() if d.date >= today and (d.holiday_name or d.closed_reason)]
    return MonthCalendar(
        office=office,
        month=first,
        weeks=weeks,
        today=today,
        previous_month=_add_months(first, -1) if first > this_month else None,
        next_month=_add_months(first, 1) if first < last_month else None,
        releases=sorted(releases.values(), key=lambda r: r.opens_at),
        closures=closures,
    )


def office_day(*, office: Office, date: dt.date, now: dt.datetime | None = None) -> DayAvailability:
    return office_availability(office=office, date_from=date, date_to=date, now=now)[0]


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def payment_recorded(*, transaction_id: str) -> bool:
    return Payment.objects.filter(transaction_id=transaction_id).exists()


def application_events(*, application: Application) -> list:
    return list(application.events.order_by("at", "id"))


def reschedule_options(*, application: Application, now: dt.datetime, days: int = 60, limit: int = 60) -> list[Slot]:
    """Open sessions at the same office, if it is not switched off, with a free place that accept
    this kind of application."""
    return list(
        Slot.objects.filter(
            office_id=application.slot.office_id,
            office__is_active=True,
            pool=Pool.ONLINE,
            starts_at__gt=now,
            starts_at__lt=now + dt.timedelta(days=days),
            opens_at__lte=now,
            taken__lt=F("capacity"),
        )
        .filter(Q(allowed_kinds=[]) | Q(allowed_kinds__contains=[application.kind]))
        .exclude(pk=application.slot_id)
        .select_related("office")
        .order_by("starts_at")[:limit]
    )


def account_people(*, account) -> list[Applicant]:
    return list(
        Applicant.objects.filter(account=account)
        .annotate(active=Count("applications", filter=Q(applications__status__in=ACTIVE_STATUSES)))
        .order_by("full_name")
    )


# Every booking that finds a place reads its fees: written out and prepared (mpaspor.db), as
# building the query cost more than running it.
@functools.cache
def _fees_sql(items: int) -> str:
    return (
        f"SELECT item, amount FROM {Fee._meta.db_table}"
        f" WHERE item IN ({', '.join(['%s'] * items)}) AND effective_from <= %s ORDER BY item, effective_from DESC"
    )


def fees_in_force(*, on: dt.date, items: Sequence[str] = Fee.Item.values) -> dict[str, int]:
    """Each fee item's amount in force on a date: its newest row effective by then (the fee table
    is data, edited by staff). Same rows as Fee.objects.filter(item__in=items,
    effective_from__lte=on).order_by("item", "-effective_from")."""
    fees: dict[str, int] = {}
    for item, amount in fetch(f"fees_{len(items)}", _fees_sql(len(items)), [*items, on]):
        fees.setdefault(item, amount)
    return fees


def fee_amount(*, passport_type: str, validity_years: int, express: bool, on: dt.date) -> int:
    """The PNBP amount of one application: the passport's fee plus the same-day surcharge."""
    items = [f"{passport_type}_{validity_years}", *(["express"] if express else [])]
    fees = fees_in_force(on=on, items=items)
    if len(fees) < len(items):
        raise InvalidInput(_("No fee is set for this passport type."), field="passport_type")
    return sum(fees.values())


# --- The office counter -----------------------------------------------------------------

# Paid bookings: the people the counter expects (awaiting payment and released ones are not).
EXPECTED_STATUSES = (
    Status.BOOKED,
    Status.CHECKED_IN,
    Status.IN_PROCESS,
    Status.APPROVED,
    Status.ISSUED,
    Status.COLLECTED,
    Status.REJECTED,
    Status.NO_SHOW,
)


@dataclass
class CounterSession:
    starts_at: dt.datetime  # office zone
    ends_at: dt.datetime
    expected: int = 0
    checked_in: int = 0
    no_show: int = 0
    walk_ins: int = 0
    priority_slot_id: int | None = None
    priority_capacity: int = 0
    priority_taken: int = 0

    @property
    def priority_left(self) -> int:
        return max(self.priority_capacity - self.priority_taken, 0)


def office_today(*, office, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(office.tzinfo).date()


def counter_sessions(*, office, day: dt.date) -> list[CounterSession]:
    """The day's sessions of an office with its counter figures, in two queries."""
    tz = office.tzinfo
    sessions: dict[dt.datetime, CounterSession] = {}
    slots = Slot.objects.filter(office=office, date=day).order_by("starts_at", "pool")
    for slot in slots.values("id", "starts_at", "ends_at", "pool", "capacity", "taken"):
        session = sessions.setdefault(
            slot["starts_at"],
            CounterSession(starts_at=slot["starts_at"].astimezone(tz), ends_at=slot["ends_at"].astimezone(tz)),
        )
        if slot["pool"] == Pool.PRIORITY:
            session.priority_slot_id = slot["id"]
            session.priority_capacity = slot["capacity"]
            session.priority_taken = slot["taken"]
    counts = (
        Application.objects.filter(slot__office=office, slot__date=day)
        .values("slot__starts_at")
        .annotate(
            expected=Count("pk", filter=Q(walk_in=False, status__in=EXPECTED_STATUSES)),
            checked_in=Count("pk", filter=Q(walk_in=False, checked_in_at__isnull=False)),
            no_show=Count("pk", filter=Q(status=Status.NO_SHOW)),
            walk_ins=Count("pk", filter=Q(walk_in=True)),
        )
    )
    for row in counts:
        session = sessions.get(row["slot__starts_at"])
        if session:
            session.expected = row["expected"]
            session.checked_in = row["checked_in"]
            session.no_show = row["no_show"]
            session.walk_ins = row["walk_ins"]
    return list(sessions.values())


def find_application_for_counter(*, office, booking_code: str) -> Application | None:
    """An application of this office by its booking code (case and spaces forgiven)."""
    code = "".join(booking_code.split()).upper()
    if not code:
        return None
    return Application.objects.select_related("slot__office").filter(booking_code=code, slot__office=office).first()
