"""Release schedules: twice a month (Batam), the last working day of the month (the 2022
national rule), and draw mode's public opening at the next release."""

import datetime as dt

from quotas import calendar
from quotas.models import ReleaseMode, ReleaseSchedule
from tests.quotas.helpers import WIB


def schedule(**fields) -> ReleaseSchedule:
    return ReleaseSchedule(release_time=dt.time(9, 0), **fields)


def test_the_last_working_day_skips_weekends_holidays_and_cuti_bersama():
    rule = schedule(kind=ReleaseSchedule.Kind.LAST_WORKING_DAY)
    # May 2027 ends on a Monday: released that day for June.
    assert calendar.release_day(rule, dt.date(2027, 6, 10)) == dt.date(2027, 5, 31)
    # July 2027 ends on a Saturday: released on Friday the 30th for August.
    assert calendar.release_day(rule, dt.date(2027, 8, 5)) == dt.date(2027, 7, 30)
    # December 2026 ends with Christmas and cuti bersama: the 31st is not a working day.
    last = calendar.last_working_day(2026, 12)
    assert calendar.is_working_day(last)
    assert all(not calendar.is_working_day(dt.date(2026, 12, d)) for d in range(last.day + 1, 32))


def test_the_old_monthly_rule_falls_on_the_calendar_day_holiday_or_not():
    rule = schedule(kind=ReleaseSchedule.Kind.MONTHLY, day_of_month=31)
    assert calendar.release_day(rule, dt.date(2027, 8, 5)) == dt.date(2027, 7, 31)  # a Saturday


def test_twice_a_month_opens_each_half_month_from_mid_month_and_month_end():
    rule = schedule(kind=ReleaseSchedule.Kind.TWICE_MONTHLY, entry_window_hours=72)
    assert calendar.release_day(rule, dt.date(2027, 3, 1)) == dt.date(2027, 2, 15)
    assert calendar.release_day(rule, dt.date(2027, 3, 15)) == dt.date(2027, 2, 15)
    assert calendar.release_day(rule, dt.date(2027, 3, 16)) == dt.date(2027, 2, 28)
    assert calendar.release_day(rule, dt.date(2027, 3, 31)) == dt.date(2027, 2, 28)
    coming = calendar.coming_releases(rule, dt.datetime(2027, 2, 1, tzinfo=WIB), WIB)
    assert len(coming) == 6
    assert [(r.at.date(), r.first_day, r.last_day) for r in coming[:3]] == [
        (dt.date(2027, 2, 15), dt.date(2027, 3, 1), dt.date(2027, 3, 15)),
        (dt.date(2027, 2, 28), dt.date(2027, 3, 16), dt.date(2027, 3, 31)),
        (dt.date(2027, 3, 15), dt.date(2027, 4, 1), dt.date(2027, 4, 15)),
    ]
    assert coming[0].at == dt.datetime(2027, 2, 15, 9, tzinfo=WIB)
    assert coming[0].entries_open_at == dt.datetime(2027, 2, 12, 9, tzinfo=WIB)


def test_in_draw_mode_a_date_opens_to_everyone_at_the_next_release():
    first_come = schedule(kind=ReleaseSchedule.Kind.TWICE_MONTHLY)
    draw = schedule(kind=ReleaseSchedule.Kind.TWICE_MONTHLY, mode=ReleaseMode.DRAW)
    day = dt.date(2027, 3, 10)
    assert calendar.opens_at(first_come, day, WIB) == dt.datetime(2027, 2, 15, 9, tzinfo=WIB)
    assert calendar.opens_at(draw, day, WIB) == dt.datetime(2027, 2, 28, 9, tzinfo=WIB)
    rolling = schedule(kind=ReleaseSchedule.Kind.ROLLING, days_before=14, mode=ReleaseMode.DRAW)
    assert calendar.opens_at(rolling, day, WIB) == dt.datetime(2027, 2, 25, 9, tzinfo=WIB)
