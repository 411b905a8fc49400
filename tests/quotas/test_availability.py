import datetime as dt

import pytest

from quotas.models import DateOverride, Pool, ReleaseSchedule, Slot
from quotas.selectors import DayState, office_availability
from quotas.services.generation import generate_slots
from tests.factories import ApplicationFactory, OfficeFactory

from .helpers import INDEPENDENCE_DAY, NOW, WIB, open_now_schedule, rule, weekday_rules

AUGUST = (dt.date(2027, 8, 1), dt.date(2027, 8, 31))

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():
    office = OfficeFactory(timezone="Asia/Jakarta")
    open_now_schedule(office)
    return office


def month(office, now=NOW):
    return office_availability(office=office, date_from=AUGUST[0], date_to=AUGUST[1], now=now)


def test_a_month_costs_two_queries_whatever_the_slots_and_applications(office, django_assert_num_queries):
    weekday_rules(office, online=40)
    generate_slots(office=office, date_from=AUGUST[0], date_to=AUGUST[1], now=NOW)
    few = Slot.objects.filter(office=office, pool=Pool.ONLINE).first()
    ApplicationFactory(slot=few, account=None)
    with django_assert_num_queries(2):
        small = month(office)

    for start in (10, 13, 15):  # three more sessions a day, every day, and many applications
        for weekday in range(7):
            rule(office, weekday, start=start, end=start + 1, online=30, priority=5)
    generate_slots(office=office, date_from=AUGUST[0], date_to=AUGUST[1], now=NOW)
    DateOverride.objects.create(office=office, date=dt.date(2027, 8, 30), closed=True, reason="Renovasi")
    for slot in Slot.objects.filter(office=office, pool=Pool.ONLINE)[:40]:
        ApplicationFactory(slot=slot, account=None)
    with django_assert_num_queries(2):
        large = month(office)

    assert len(small) == len(large) == 31
    assert sum(len(d.sessions) for d in large) > 3 * sum(len(d.sessions) for d in small)


def test_days_carry_holiday_names_closure_reasons_and_opening_times(office):
    office.release_schedule.delete()
    ReleaseSchedule.objects.create(office=office, kind="weekly", weekday=4, release_time=dt.time(14))
    for weekday in range(7):
        rule(office, weekday, online=10, priority=0)
    DateOverride.objects.create(office=office, date=dt.date(2027, 8, 3), closed=True, reason="Pemadaman listrik")
    generate_slots(office=office, date_from=AUGUST[0], date_to=AUGUST[1], now=NOW)
    full = Slot.objects.get(office=office, date=dt.date(2027, 8, 4), pool=Pool.ONLINE)
    Slot.objects.filter(pk=full.pk).update(taken=10)

    friday_after = dt.datetime(2027, 8, 6, 15, tzinfo=WIB)  # the week of 9-15 August is open since 14:00
    days = {d.date: d for d in month(office, now=friday_after)}

    holiday = days[INDEPENDENCE_DAY]
    assert (holiday.state, holiday.holiday_name, holiday.is_holiday) == (
        DayState.CLOSED,
        "Hari Kemerdekaan Republik Indonesia",
        True,
    )
    assert holiday.closed_reason == "Hari Kemerdekaan Republik Indonesia"
    assert (days[dt.date(2027, 8, 3)].state, days[dt.date(2027, 8, 3)].closed_reason) == (
        DayState.CLOSED,
        "Pemadaman listrik",
    )
    assert days[dt.date(2027, 8, 2)].state == DayState.PAST
    assert days[dt.date(2027, 8, 10)].state == DayState.FREE
    later = days[dt.date(2027, 8, 18)]
    assert later.state == DayState.NOT_OPEN
    assert later.opens_at == dt.datetime(2027, 8, 13, 14, tzinfo=WIB) and str(later.opens_at.tzinfo) == "Asia/Jakarta"
    assert days[dt.date(2027, 8, 15)].holiday_name == "Maulid Nabi Muhammad"

    early = {d.date: d for d in month(office, now=NOW)}
    assert early[dt.date(2027, 8, 4)].state == DayState.FULL  # its week opened on Friday 30 July
    assert early[dt.date(2027, 8, 10)].state == DayState.NOT_OPEN
    assert early[dt.date(2027, 8, 10)].opens_at == dt.datetime(2027, 8, 6, 14, tzinfo=WIB)
