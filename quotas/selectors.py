"""Reads of availability. The API caches what they return; the claim never trusts either."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offices.models import Office

from . import calendar
from .models import DateOverride, Pool, ReleaseMode, Slot


class DayState(models.TextChoices):
    FREE = "free", _("Places free")
    FULL = "full", _("Full")
    WALK_IN = "walk_in", _("Walk-in, no booking")
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
    # How its places are handed out now: by a release's draw until its public opening, then
    # first come (what the draw left).
    mode: str = ReleaseMode.FIRST_COME


@dataclass
class DayAvailability:
    date: dt.date
    state: str
    is_weekend: bool
    holiday_name: str = ""
    closed_reason: str = ""
    opens_at: dt.datetime | None = None  # the earliest opening of the day's sessions, office zone
    sessions: list[SessionAvailability] = field(default_factory=list)
    # Sessions for walk-ins without booking, not over yet: registered at the counter.
    walk_in: list[SessionAvailability] = field(default_factory=list)

    @property
    def available(self) -> int:
        return sum(s.available for s in self.sessions)

    @property
    def is_holiday(self) -> bool:
        return bool(self.holiday_name)


def office_availability(
    *, office: Office, date_from: dt.date, date_to: dt.date, now: dt.datetime | None = None
) -> list[DayAvailability]:
    """Each day from date_from to date_to (inclusive) with its online sessions and state, its
    walk-in sessions (a day with only those is WALK_IN), holiday name (in Indonesian) and
    closure reason.

    Two queries (slots, closed overrides) whatever the number of days, slots and applications.
    The API serves these days pre-rendered from the cache (quotas/availability_cache.py)."""
    now = now or timezone.now()
    tz = office.tzinfo
    dates = [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]
    rows = _load_days(office_id=office.pk, dates=dates)
    holidays = calendar.holidays_between(date_from, date_to) if dates else {}

    days = []
    for day in dates:
        entry = rows[day]
        all_sessions = [_session(slot, tz, now) for slot in entry["slots"] if slot["pool"] == Pool.ONLINE]
        sessions = [s for s in all_sessions if s.starts_at > now]
        walk_in = [_session(slot, tz, now) for slot in entry["slots"] if slot["pool"] == Pool.WALK_IN]
        result = _day(day, sessions, had_sessions=bool(all_sessions), now=now)
        result.walk_in = [s for s in walk_in if s.ends_at > now]
        if result.walk_in and result.state in (DayState.CLOSED, DayState.PAST):
            result.state = DayState.WALK_IN
        result.holiday_name = holidays.get(day, "")
        if result.state == DayState.CLOSED:
            result.closed_reason = entry["closed_reason"] or result.holiday_name
        days.append(result)
    return days


def _session(slot: dict, tz, now: dt.datetime) -> SessionAvailability:
    return SessionAvailability(
        slot_id=slot["id"],
        starts_at=slot["starts_at"].astimezone(tz),
        ends_at=slot["ends_at"].astimezone(tz),
        capacity=slot["capacity"],
        available=max(slot["capacity"] - slot["taken"] - slot["held"], 0),
        opens_at=slot["opens_at"].astimezone(tz),
        allowed_kinds=slot["allowed_kinds"],
        mode=slot["mode"] if slot["opens_at"] > now else ReleaseMode.FIRST_COME,
    )


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


def _load_days(*, office_id: int, dates: list[dt.date]) -> dict[dt.date, dict]:
    """Each day's online and walk-in slot rows and closure reason, from the database: two queries."""
    loaded = {day: {"slots": [], "closed_reason": ""} for day in dates}
    if not dates:
        return loaded
    first, last = min(dates), max(dates)
    for slot in (
        Slot.objects.filter(
            office_id=office_id,
            pool__in=[Pool.ONLINE, Pool.WALK_IN],
            date__gte=first,
            date__lte=last,
            capacity__gt=0,
            closed_by__isnull=True,  # an incident closed the office (docs/incidents.md)
            walk_in_by__isnull=True,  # or the day is served by walk-in: its places are in the walk-in pool
        )
        .order_by("starts_at")
        .values(
            "id",
            "date",
            "starts_at",
            "ends_at",
            "pool",
            "capacity",
            "taken",
            "held",
            "opens_at",
            "allowed_kinds",
            "mode",
        )
    ):
        if slot["date"] in loaded:
            loaded[slot["date"]]["slots"].append(slot)
    for day, reason in (
        DateOverride.objects.filter(office_id=office_id, date__gte=first, date__lte=last, closed=True)
        .order_by()
        .values_list("date", "reason")
    ):
        if day in loaded:
            loaded[day]["closed_reason"] = reason or str(_("Closed"))
    return loaded
