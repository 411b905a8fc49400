"""Reads for the applicant's pages; availability itself comes from quotas.selectors."""

import calendar
import datetime as dt
import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mpaspor.db import fetch
from offices import permissions
from offices.models import Office
from quotas.models import SESSION_POOLS, Pool, Slot
from quotas.selectors import DayAvailability, DayState, office_availability

from .exceptions import InvalidInput
from .models import (
    ACTIVE_STATUSES,
    Applicant,
    Application,
    ApplicationDocument,
    ApplicationKind,
    Fee,
    NikDispute,
    Payment,
    QueueState,
    RequiredDocument,
    Status,
    Step,
    StepRecord,
)


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


def express_check_in_by(*, application: Application) -> dt.datetime | None:
    """For a same-day (express) application: the latest check-in for same-day issue on its day, in
    the office's zone (the end of the day's express slot, set by the office); otherwise None."""
    if not application.express:
        return None
    slot = application.slot
    ends_at = (
        Slot.objects.filter(office_id=slot.office_id, date=slot.date, pool=Pool.EXPRESS)
        .values_list("ends_at", flat=True)
        .first()
    )
    return ends_at.astimezone(slot.office.tzinfo) if ends_at else None


def missed_same_day_cut_off(*, application: Application) -> dt.datetime | None:
    """The same-day cut-off an express application was checked in after, or None."""
    check_in_by = express_check_in_by(application=application)
    late = check_in_by and application.checked_in_at and application.checked_in_at > check_in_by
    return check_in_by if late else None


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
    walk_in_days: list[DayAvailability]  # from today: days with sessions for walk-ins without booking

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
    walk_in_days = [d for d in days.values() if d.date >= today and d.walk_in]
    return MonthCalendar(
        office=office,
        month=first,
        weeks=weeks,
        today=today,
        previous_month=_add_months(first, -1) if first > this_month else None,
        next_month=_add_months(first, 1) if first < last_month else None,
        releases=sorted(releases.values(), key=lambda r: r.opens_at),
        closures=closures,
        walk_in_days=walk_in_days,
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
    this kind of application, and that no incident closed or had served by walk-in. An application whose session an
    incident closed also sees the office's priority places (docs/incidents.md): the online
    session first when both have room."""
    pools = [Pool.ONLINE, Pool.PRIORITY] if application.displaced_by_id else [Pool.ONLINE]
    candidates = (
        Slot.objects.filter(
            office_id=application.slot.office_id,
            office__is_active=True,
            pool__in=pools,
            starts_at__gt=now,
            starts_at__lt=now + dt.timedelta(days=days),
            opens_at__lte=now,
            taken__lt=F("capacity") - F("held"),
            closed_by__isnull=True,
            walk_in_by__isnull=True,
        )
        .exclude(pk=application.slot_id)
        .select_related("office")
        .order_by("starts_at", "pool")
    )
    # The accepted kinds (a JSON list) are compared here, not in SQL: SQLite, which `make run`
    # uses, has no JSON containment. One office's online sessions over `days` are a few hundred.
    sessions: set = set()  # one line per session: its online slot when both pools have room
    fitting = (
        slot
        for slot in candidates
        if slot.accepts(application.kind) and not (slot.starts_at in sessions or sessions.add(slot.starts_at))
    )
    return list(itertools.islice(fitting, limit))


def account_people(*, account) -> list[Applicant]:
    return list(
        Applicant.objects.filter(account=account)
        .annotate(active=Count("applications", filter=Q(applications__status__in=ACTIVE_STATUSES)))
        .order_by("full_name")
    )


def booked_people_not_listed(*, account) -> list[dict]:
    """The people the account has booked for who are not on its list (a booking for someone
    typed in by hand does not list them): newest data per NIK."""
    listed = Applicant.objects.filter(account=account).values("nik")
    people: dict[str, dict] = {}
    for row in (
        Application.objects.filter(account=account)
        .exclude(nik__in=listed)
        .order_by("-created_at")
        .values("nik", "full_name", "birth_date", "sex", "phone")
    ):
        people.setdefault(row["nik"], row)
    return list(people.values())


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


# The fine each kind carries at the counter; force majeure has its own item (Rp0), so the amounts
# of all three are data.
FINE_ITEMS = {ApplicationKind.LOST: Fee.Item.FINE_LOST, ApplicationKind.DAMAGED: Fee.Item.FINE_DAMAGED}


def fine_item(*, kind: str, force_majeure: bool) -> str | None:
    """The fine item of a kind of application: a lost or a damaged passport's, or the force-majeure
    one when staff find the loss or damage beyond the holder's control; None for other kinds."""
    if kind not in FINE_ITEMS:
        return None
    return Fee.Item.FINE_FORCE_MAJEURE if force_majeure else FINE_ITEMS[kind]


def charges(
    *, passport_type: str, validity_years: int, express: bool, on: dt.date, kind: str = "", force_majeure: bool = False
) -> dict[str, int]:
    """What one application is charged, by fee item, in force on a date: the passport's fee, the
    same-day surcharge and, for a lost or damaged passport, its fine."""
    items = [f"{passport_type}_{validity_years}", *(["express"] if express else [])]
    fine = fine_item(kind=kind, force_majeure=force_majeure)
    fees = fees_in_force(on=on, items=[*items, *([fine] if fine else [])])
    if any(item not in fees for item in items):
        raise InvalidInput(_("No fee is set for this passport type."), field="passport_type")
    if fine and fine not in fees:
        raise InvalidInput(_("No fine is set for this kind of application."), field="kind")
    return fees


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
    present: int = 0  # checked in: booked applicants and walk-ins
    walk_ins: int = 0
    no_show: int = 0
    priority_slot_id: int | None = None
    priority_capacity: int = 0
    priority_taken: int = 0
    priority_overflow: int = 0  # places added for walk-ins beyond the pool
    # A walk-in session's own pool (anyone, without booking), when the session has one.
    walk_in_slot_id: int | None = None
    walk_in_capacity: int = 0
    walk_in_taken: int = 0

    @property
    def priority_left(self) -> int:
        return max(self.priority_capacity - self.priority_taken, 0)

    @property
    def walk_in_left(self) -> int:
        return max(self.walk_in_capacity - self.walk_in_taken, 0)

    @property
    def priority_pool(self) -> int:
        """The pool's places before any were added for walk-ins beyond it."""
        return self.priority_capacity - self.priority_overflow


def office_today(*, office, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(office.tzinfo).date()


def counter_sessions(*, office, day: dt.date) -> list[CounterSession]:
    """The day's sessions of an office with its counter figures, in two queries."""
    tz = office.tzinfo
    sessions: dict[dt.datetime, CounterSession] = {}
    slots = Slot.objects.filter(office=office, date=day, pool__in=SESSION_POOLS).order_by("starts_at", "pool")
    for slot in slots.values("id", "starts_at", "ends_at", "pool", "capacity", "taken", "overflow"):
        session = sessions.setdefault(
            slot["starts_at"],
            CounterSession(starts_at=slot["starts_at"].astimezone(tz), ends_at=slot["ends_at"].astimezone(tz)),
        )
        if slot["pool"] == Pool.PRIORITY:
            session.priority_slot_id = slot["id"]
            session.priority_capacity = slot["capacity"]
            session.priority_taken = slot["taken"]
            session.priority_overflow = slot["overflow"]
        elif slot["pool"] == Pool.WALK_IN:
            session.walk_in_slot_id = slot["id"]
            session.walk_in_capacity = slot["capacity"]
            session.walk_in_taken = slot["taken"]
    counts = (
        Application.objects.filter(slot__office=office, slot__date=day)
        .values("slot__starts_at")
        .annotate(
            expected=Count("pk", filter=Q(walk_in=False, status__in=EXPECTED_STATUSES)),
            present=Count("pk", filter=Q(checked_in_at__isnull=False)),
            walk_ins=Count("pk", filter=Q(walk_in=True)),
            no_show=Count("pk", filter=Q(status=Status.NO_SHOW)),
        )
    )
    for row in counts:
        session = sessions.get(row["slot__starts_at"])
        if session:
            session.expected = row["expected"]
            session.present = row["present"]
            session.walk_ins = row["walk_ins"]
            session.no_show = row["no_show"]
    return list(sessions.values())


def find_application_for_counter(*, office, booking_code: str) -> Application | None:
    """An application of this office by its booking code (case and spaces forgiven)."""
    code = "".join(booking_code.split()).upper()
    if not code:
        return None
    return Application.objects.select_related("slot__office").filter(booking_code=code, slot__office=office).first()


# --- The day's queue ------------------------------------------------------------------------


@dataclass
class CounterQueue:
    """Today's queue at an office, in check-in order (the order desks call it)."""

    called: list[Application]
    waiting: list[Application]
    no_answer: list[Application]
    served: list[Application]


def counter_queue(*, office, day: dt.date) -> CounterQueue:
    """Everyone in an office's queue on a day, by state, in one query."""
    entries = (
        Application.objects.filter(slot__office=office, slot__date=day)
        .exclude(queue_state="")
        .only(
            "queue_number",
            "full_name",
            "kind",
            "priority_group",
            "walk_in",
            "status",
            "queue_state",
            "desk",
            "checked_in_at",
            "called_at",
        )
        .order_by("checked_in_at", "pk")
    )
    by_state: dict[str, list[Application]] = {state: [] for state in QueueState.values}
    for entry in entries:
        by_state[entry.queue_state].append(entry)
    called = sorted(by_state[QueueState.CALLED], key=lambda a: a.called_at, reverse=True)
    return CounterQueue(
        called=called,
        waiting=by_state[QueueState.WAITING],
        no_answer=by_state[QueueState.NO_ANSWER],
        served=by_state[QueueState.SERVED],
    )


@dataclass
class QueueScreen:
    """What the waiting-room screen shows: queue numbers and desks only, no personal data."""

    office: Office
    calls: list[tuple[str, int]]  # (queue number, desk), the latest call first
    waiting: int


SCREEN_CALLS = 7  # the number being called now and the six before it


def queue_screen(*, key: str, now: dt.datetime | None = None) -> QueueScreen | None:
    """The screen of the office whose display key this is (None: no such key), in three queries."""
    office = Office.objects.filter(queue_display__key=key).first() if key else None
    if office is None:
        return None
    today = office_today(office=office, now=now)
    queue = Application.objects.filter(slot__office=office, slot__date=today)
    calls = list(
        queue.filter(called_at__isnull=False)
        .order_by("-called_at", "-pk")
        .values_list("queue_number", "desk")[:SCREEN_CALLS]
    )
    waiting = queue.filter(queue_state=QueueState.WAITING, status=Status.CHECKED_IN).count()
    return QueueScreen(office=office, calls=calls, waiting=waiting)


def printing_recorded(*, application_id: int) -> bool:
    """Whether the printing step of the application was finished: one passport book used."""
    return StepRecord.objects.filter(
        application_id=application_id, step=Step.PRINTING, finished_at__isnull=False
    ).exists()


def steps_in_progress(*, office, day: dt.date) -> list[StepRecord]:
    """The steps started and not finished today at an office, oldest first, for the counter."""
    return list(
        StepRecord.objects.filter(
            application__slot__office=office, application__slot__date=day, finished_at__isnull=True
        )
        .select_related("application")
        .order_by("started_at", "pk")
    )


# --- Supporting documents ------------------------------------------------------------------


@dataclass
class DocumentItem:
    """One document asked of an application, with the files sent for it (oldest first)."""

    requirement: RequiredDocument
    files: list[ApplicationDocument]

    @property
    def rejected_only(self) -> bool:
        """Every file sent was rejected: the applicant must send it again."""
        return bool(self.files) and all(f.status == "rejected" for f in self.files)


def document_checklist(*, application: Application) -> list[DocumentItem]:
    """The documents of the application's kind, required first, each with its files. Two queries."""
    files = list(ApplicationDocument.objects.filter(application=application).select_related("reviewed_by"))
    requirements = RequiredDocument.objects.filter(kind=application.kind).order_by("-required", "position", "id")
    return [DocumentItem(requirement=r, files=[f for f in files if f.requirement_id == r.pk]) for r in requirements]


def own_document(*, account, booking_code: str, document_id: int) -> ApplicationDocument | None:
    """One file of the account's own application; anyone else's is as absent as a missing one."""
    return (
        ApplicationDocument.objects.filter(
            pk=document_id, application__account=account, application__booking_code=booking_code.upper()
        )
        .select_related("application")
        .first()
    )


def counter_application(*, user, application_id: int) -> Application | None:
    """An application of an office whose applicants this user serves (offices.permissions)."""
    return (
        Application.objects.filter(pk=application_id, slot__office__in=permissions.counter_offices(user))
        .select_related("slot__office")
        .first()
    )


def counter_document(*, user, document_id: int) -> ApplicationDocument | None:
    """A file of an application of an office whose applicants this user serves."""
    return (
        ApplicationDocument.objects.filter(
            pk=document_id, application__slot__office__in=permissions.counter_offices(user)
        )
        .select_related("application__slot__office", "requirement")
        .first()
    )


# --- NIK disputes ---------------------------------------------------------------------------------


def account_disputes(*, account) -> list[NikDispute]:
    """The disputes this account filed, newest first."""
    return list(NikDispute.objects.filter(account=account).order_by("-created_at", "-pk")[:50])


def office_disputes(*, user, open_only: bool = True) -> list[NikDispute]:
    """The disputes of applications held at the offices whose applicants this user serves (an
    officer's office; a head's office and its outlets): open ones oldest first, or the latest decided."""
    disputes = NikDispute.objects.filter(
        application__slot__office__in=permissions.counter_offices(user)
    ).select_related("application__slot__office", "decided_by")
    if open_only:
        return list(disputes.filter(state=NikDispute.State.OPEN).order_by("created_at", "pk")[:200])
    return list(disputes.exclude(state=NikDispute.State.OPEN).order_by("-decided_at", "-pk")[:50])


def office_dispute(*, user, dispute_id: int) -> NikDispute | None:
    """One dispute of an application at an office this user serves; anyone else's is None."""
    return (
        NikDispute.objects.filter(pk=dispute_id, application__slot__office__in=permissions.counter_offices(user))
        .select_related("account", "application__account", "application__slot__office", "decided_by")
        .first()
    )


def other_open_disputes(*, dispute: NikDispute) -> int:
    """How many other accounts contest the same NIK and wait for a decision."""
    return NikDispute.objects.filter(nik=dispute.nik, state=NikDispute.State.OPEN).exclude(pk=dispute.pk).count()
