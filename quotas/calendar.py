"""Pure date rules: Indonesian holidays and when a date opens for booking. No database."""

import calendar
import datetime as dt
import functools
from zoneinfo import ZoneInfo

import holidays

from .models import ReleaseSchedule


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


def opens_at(schedule: ReleaseSchedule, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """When `day` opens for booking under `schedule`, as an aware datetime in the office's zone.

    rolling: `days_before` days earlier at the release time;
    weekly:  the week (Monday to Sunday) opens on `weekday` of the week before;
    monthly: the month opens on `day_of_month` of the month before (its last day if shorter).
    """
    kind = schedule.kind
    if kind == ReleaseSchedule.Kind.WEEKLY:
        monday = day - dt.timedelta(days=day.weekday())
        release_day = monday - dt.timedelta(days=7) + dt.timedelta(days=schedule.weekday)
    elif kind == ReleaseSchedule.Kind.MONTHLY:
        year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
        last = calendar.monthrange(year, month)[1]
        release_day = dt.date(year, month, min(schedule.day_of_month, last))
    else:
        release_day = day - dt.timedelta(days=schedule.days_before)
    return dt.datetime.combine(release_day, schedule.release_time, tzinfo=tz)
