import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from quotas.models import Pool, Slot

from .models import Application, Status


def account_applications(*, account):
    return Application.objects.filter(account=account).select_related("slot__office").order_by("-created_at")


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

    @property
    def waiting(self) -> int:
        return max(self.expected - self.checked_in - self.no_show, 0)


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
