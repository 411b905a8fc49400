"""Reads of availability. They may be cached briefly; the claim never trusts them."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offices.models import Office

from .models import Pool, Slot


class DayState(models.TextChoices):
    FREE = "free", _("Places free")
    FULL = "full", _("Full")
    NOT_OPEN = "not_open", _("Not open yet")
    CLOSED = "closed", _("Closed")
    PAST = "past", _("Past")


@dataclass
class SessionAvailability:
    slot_id: int
    starts_at: dt.datetime  # in the office's zone
    ends_at: dt.datetime
    capacity: int
    available: int
    opens_at: dt.datetime
    allowed_kinds: list


@dataclass
class DayAvailability:
    date: dt.date
    state: str
    is_weekend: bool
    holiday_name: str = ""
    closed_reason: str = ""
    opens_at: dt.datetime | None = None  # the earliest opening of the day's sessions, office zone
    sessions: list[SessionAvailability] = field(default_factory=list)

    @property
    def available(self) -> int:
        return sum(s.available for s in self.sessions)

    @property
    def is_holiday(self) -> bool:
        return bool(self.holiday_name)


def office_availability(
    *, office: Office, date_from: dt.date, date_to: dt.date, now: dt.datetime | None = None
) -> list[DayAvailability]:
    """Each day from date_from to date_to (inclusive) with its online sessions and state.
    A fixed number of queries, whatever the number of slots."""
    now = now or timezone.now()
    tz = office.tzinfo
    by_date: dict[dt.date, list[SessionAvailability]] = {}
    for slot in (
        Slot.objects.filter(office=office, pool=Pool.ONLINE, date__gte=date_from, date__lte=date_to)
        .order_by("starts_at")
        .values("id", "date", "starts_at", "ends_at", "capacity", "taken", "opens_at", "allowed_kinds")
    ):
        by_date.setdefault(slot["date"], []).append(
            SessionAvailability(
                slot_id=slot["id"],
                starts_at=slot["starts_at"].astimezone(tz),
                ends_at=slot["ends_at"].astimezone(tz),
                capacity=slot["capacity"],
                available=max(slot["capacity"] - slot["taken"], 0),
                opens_at=slot["opens_at"].astimezone(tz),
                allowed_kinds=slot["allowed_kinds"],
            )
        )

    days = []
    day = date_from
    while day <= date_to:
        sessions = [s for s in by_date.get(day, []) if s.starts_at > now]
        days.append(_day(day, sessions, had_sessions=day in by_date, now=now))
        day += dt.timedelta(days=1)
    return days


def _day(day: dt.date, sessions: list[SessionAvailability], *, had_sessions: bool, now: dt.datetime) -> DayAvailability:
    result = DayAvailability(date=day, state=DayState.CLOSED, is_weekend=day.weekday() >= 5, sessions=sessions)
    if not sessions:
        result.state = DayState.PAST if had_sessions else DayState.CLOSED
        return result
    open_sessions = [s for s in sessions if s.opens_at <= now]
    if not open_sessions:
        result.state = DayState.NOT_OPEN
        result.opens_at = min(s.opens_at for s in sessions)
    else:
        result.state = DayState.FREE if any(s.available for s in open_sessions) else DayState.FULL
    return result
