"""Small builders for quota tests (the real database; no mocks)."""

import datetime as dt
from zoneinfo import ZoneInfo

from quotas.models import ProgramSession, QuotaRule, ReleaseSchedule, ServiceProgram

WIB = ZoneInfo("Asia/Jakarta")
# A Sunday well before the dates the tests generate; every test passes it as `now`.
NOW = dt.datetime(2027, 8, 1, 10, 0, tzinfo=WIB)
MONDAY = dt.date(2027, 8, 23)  # a week without holidays: 23-29 August 2027
INDEPENDENCE_DAY = dt.date(2027, 8, 17)  # Tuesday, "Hari Kemerdekaan Republik Indonesia"


def rule(office, weekday, start=8, end=12, online=40, priority=10, valid_from=dt.date(2027, 1, 1), valid_to=None):
    return QuotaRule.objects.create(
        office=office,
        weekday=weekday,
        start_time=dt.time(start),
        end_time=dt.time(end),
        online_capacity=online,
        priority_capacity=priority,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def weekday_rules(office, **kwargs):
    return [rule(office, weekday, **kwargs) for weekday in range(5)]


def programme(office, *, date_from, date_to, weekdays=(), kinds=(), on_holidays=False, sessions=((8, 12, 20, 0),)):
    program = ServiceProgram.objects.create(
        office=office,
        name="Layanan Paspor Simpatik",
        date_from=date_from,
        date_to=date_to,
        weekdays=list(weekdays),
        allowed_kinds=list(kinds),
        opens_on_holidays=on_holidays,
    )
    for start, end, online, priority in sessions:
        ProgramSession.objects.create(
            program=program,
            start_time=dt.time(start),
            end_time=dt.time(end),
            online_capacity=online,
            priority_capacity=priority,
        )
    return program


def open_now_schedule(office, **kwargs):
    """Dates open 60 days ahead: everything the tests generate is bookable at NOW."""
    values = {"kind": ReleaseSchedule.Kind.ROLLING, "days_before": 60, "release_time": dt.time(0, 0)}
    values.update(kwargs)
    return ReleaseSchedule.objects.create(office=office, **values)
