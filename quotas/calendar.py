"""Pure date rules: Indonesian holidays and when a date opens for booking. No database."""

import calendar
import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays

from .models import ReleaseMode, ReleaseSchedule


@functools.lru_cache(maxsize=16)
def _holidays_of(year: int) -> dict[dt.date, str]:
    # National holidays and cuti bersama (the "government" category), named in Indonesian.
    table = holidays.country_holidays("ID", years=year, categories=("public", "government"), language="id")
    return dict(table.items())


def holiday_name(day: dt.date) -> str:
    """The Indonesian name of a national holiday or cuti bersama on `day`, or ""."""
    return _holidays_of(day.year).get(day, "")


def holidays_between(date_from: dt.date, date_to: dt.date) -> dict[dt.date, str]:
    found = {}
    for year in range(date_from.year, date_to.year + 1):
        found.update({d: n for d, n in _holidays_of(year).items() if date_from <= d <= date_to})
    return found


def default_release_schedule(office) -> ReleaseSchedule:
    """An office without its own schedule opens each date 14 days ahead at 09:00 (the model's defaults)."""
    return ReleaseSchedule(office=office)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, and neither a national holiday nor cuti bersama."""
    return day.weekday() < 5 and not holiday_name(day)


def last_working_day(year: int, month: int) -> dt.date:
    day = dt.date(year, month, calendar.monthrange(year, month)[1])
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def _month_before(day: dt.date) -> tuple[int, int]:
    return (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)


def release_day(schedule: ReleaseSchedule, day: dt.date) -> dt.date:
    """The office date on which `day` is released under `schedule`:

    rolling:          `days_before` days earlier;
    weekly:           the week (Monday to Sunday) on `weekday` of the week before;
    monthly:          the month on `day_of_month` of the month before (its last day if shorter);
    last_working_day: the month on the last working day of the month before (the 2022 national
                      rule; weekends, holidays and cuti bersama skipped);
    twice_monthly:    days 1-15 on the 15th of the month before, days 16 to the end on the last
                      day of the month before (Batam's mid-month and month-end releases).
    """
    kind = schedule.kind
    if kind == ReleaseSchedule.Kind.WEEKLY:
        monday = day - dt.timedelta(days=day.weekday())
        return monday - dt.timedelta(days=7) + dt.timedelta(days=schedule.weekday)
    if kind == ReleaseSchedule.Kind.ROLLING:
        return day - dt.timedelta(days=schedule.days_before)
    year, month = _month_before(day)
    last = calendar.monthrange(year, month)[1]
    if kind == ReleaseSchedule.Kind.LAST_WORKING_DAY:
        return last_working_day(year, month)
    if kind == ReleaseSchedule.Kind.TWICE_MONTHLY:
        return dt.date(year, month, 15 if day.day <= 15 else last)
    return dt.date(year, month, min(schedule.day_of_month, last))


def release_at(schedule: ReleaseSchedule, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """When `day` is released under `schedule`, as an aware datetime in the office's zone."""
    return dt.datetime.combine(release_day(schedule, day), schedule.release_time, tzinfo=tz)


@dataclass(frozen=True)
class Release:
    """One release of a schedule: when, its entry window in draw mode, and the dates it opens."""

    at: dt.datetime
    entries_open_at: dt.datetime
    first_day: dt.date
    last_day: dt.date


def releases(schedule: ReleaseSchedule, first_day: dt.date, last_day: dt.date, tz: ZoneInfo) -> list[Release]:
    """The releases that open the dates from first_day to last_day, in order, each with the
    part of those dates it opens."""
    window = dt.timedelta(hours=schedule.entry_window_hours)
    found: dict[dt.datetime, list[dt.date]] = {}
    day = first_day
    while day <= last_day:
        found.setdefault(release_at(schedule, day, tz), []).append(day)
        day += dt.timedelta(days=1)
    return [
        Release(at=at, entries_open_at=at - window, first_day=days[0], last_day=days[-1])
        for at, days in sorted(found.items())
    ]


def coming_releases(schedule: ReleaseSchedule, now: dt.datetime, tz: ZoneInfo, count: int = 6) -> list[Release]:
    """The next `count` releases after `now`, each with all the dates it opens."""
    today = now.astimezone(tz).date()
    found = [r for r in releases(schedule, today, today + dt.timedelta(days=400), tz) if r.at > now]
    return found[:count]


def _next_release_after(schedule: ReleaseSchedule, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    # Release times never go back as dates go forward: the first later one is the next release.
    own = release_at(schedule, day, tz)
    later = day + dt.timedelta(days=1)
    while release_at(schedule, later, tz) <= own:
        later += dt.timedelta(days=1)
    return release_at(schedule, later, tz)


def opens_at(schedule: ReleaseSchedule, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """When `day` opens to everyone for booking. First come: its release. Draw: its release is
    the draw among entries, and what the draw left opens at the office's next release (opening
    it at once would hand it to refresh bots)."""
    if schedule.mode == ReleaseMode.DRAW:
        return _next_release_after(schedule, day, tz)
    return release_at(schedule, day, tz)
