"""Reads of availability. They may be cached briefly; the claim never trusts them."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offices.models import Office

from . import calendar
from .models import DateOverride, Pool, Slot

logger = logging.getLogger(__name__)


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
    """Each day from date_from to date_to (inclusive) with its online sessions and state,
    holiday name (in Indonesian) and closure reason.

    Two queries at most (slots, closed overrides) whatever the number of days, slots and
    applications; none when the days are cached. The cache holds each day's raw slot rows
    for AVAILABILITY_CACHE_SECONDS; the day's state is always worked out against `now`."""
    now = now or timezone.now()
    tz = office.tzinfo
    dates = [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]
    rows = _day_rows(office_id=office.pk, dates=dates)
    holidays = calendar.holidays_between(date_from, date_to) if dates else {}

    days = []
    for day in dates:
        entry = rows[day]
        all_sessions = [
            SessionAvailability(
                slot_id=slot["id"],
                starts_at=slot["starts_at"].astimezone(tz),
                ends_at=slot["ends_at"].astimezone(tz),
                capacity=slot["capacity"],
                available=max(slot["capacity"] - slot["taken"] - slot["held"], 0),
                opens_at=slot["opens_at"].astimezone(tz),
                allowed_kinds=slot["allowed_kinds"],
            )
            for slot in entry["slots"]
        ]
        sessions = [s for s in all_sessions if s.starts_at > now]
        result = _day(day, sessions, had_sessions=bool(all_sessions), now=now)
        result.holiday_name = holidays.get(day, "")
        if result.state == DayState.CLOSED:
            result.closed_reason = entry["closed_reason"] or result.holiday_name
        days.append(result)
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


# --- The short availability cache ---------------------------------------------------------


def _key(office_id: int, day: dt.date) -> str:
    return f"availability:v2:{office_id}:{day.isoformat()}"


def _load_days(*, office_id: int, dates: list[dt.date]) -> dict[dt.date, dict]:
    """Each day's online slot rows and closure reason, from the database: two queries."""
    loaded = {day: {"slots": [], "closed_reason": ""} for day in dates}
    if not dates:
        return loaded
    first, last = min(dates), max(dates)
    for slot in (
        Slot.objects.filter(office_id=office_id, pool=Pool.ONLINE, date__gte=first, date__lte=last, capacity__gt=0)
        .order_by("starts_at")
        .values("id", "date", "starts_at", "ends_at", "capacity", "taken", "held", "opens_at", "allowed_kinds")
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


def _day_rows(*, office_id: int, dates: list[dt.date]) -> dict[dt.date, dict]:
    seconds = settings.AVAILABILITY_CACHE_SECONDS
    found: dict[dt.date, dict] = {}
    if seconds > 0 and dates:
        try:
            cached = cache.get_many([_key(office_id, d) for d in dates])
        except Exception:  # the cache fails safe: a Redis outage only costs the queries
            logger.warning("availability cache unreachable", exc_info=True)
            cached = {}
        found = {d: cached[_key(office_id, d)] for d in dates if _key(office_id, d) in cached}
    missing = [d for d in dates if d not in found]
    if missing:
        loaded = _load_days(office_id=office_id, dates=missing)
        found.update(loaded)
        if seconds > 0:
            _store({_key(office_id, d): v for d, v in loaded.items()}, seconds)
    return found


def _store(values: dict, seconds: float) -> None:
    try:
        cache.set_many(values, timeout=seconds)
    except Exception:
        logger.warning("availability cache unreachable", exc_info=True)


def forget_cached_days(*, office_id: int, dates) -> None:
    """Drop cached days after their slots changed (slot generation calls it after commit)."""
    try:
        cache.delete_many([_key(office_id, d) for d in dates])
    except Exception:
        logger.warning("availability cache unreachable", exc_info=True)


def warm_opening_days(*, now: dt.datetime | None = None, ahead_seconds: int = 90) -> int:
    """Cache the days whose online sessions open within `ahead_seconds`, until just after they
    open: the rush at a release then reads the cache. Safe because a date that has not opened
    cannot lose places (the claim refuses before opens_at), and slot generation drops cached
    days it changes. Returns how many days it cached."""
    now = now or timezone.now()
    opening = (
        Slot.objects.filter(
            pool=Pool.ONLINE, capacity__gt=0, opens_at__gt=now, opens_at__lte=now + dt.timedelta(seconds=ahead_seconds)
        )
        .values_list("office_id", "date")
        .distinct()
        .order_by("office_id", "date")
    )
    by_office: dict[int, list[dt.date]] = {}
    for office_id, day in opening:
        by_office.setdefault(office_id, []).append(day)
    warmed = 0
    for office_id, dates in by_office.items():
        loaded = _load_days(office_id=office_id, dates=dates)
        for day, entry in loaded.items():
            first_open = min((s["opens_at"] for s in entry["slots"]), default=now)
            seconds = max((first_open - now).total_seconds(), 0) + max(settings.AVAILABILITY_CACHE_SECONDS, 1)
            cache.set(_key(office_id, day), entry, timeout=seconds)  # errors reach the task's retry
            warmed += 1
    return warmed
