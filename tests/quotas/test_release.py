"""Each release kind, one minute before (not_open_yet) and at its time (bookable), in WIB, WITA and WIT."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Status
from quotas.calendar import opens_at
from quotas.exceptions import NotOpenYet
from quotas.models import Pool, ReleaseSchedule, Slot
from quotas.services.generation import generate_slots
from tests.factories import OfficeFactory, UserFactory, book_one

from .helpers import rule

VISIT = dt.date(2027, 9, 8)  # a Wednesday without holidays
BEFORE_ANY_RELEASE = dt.datetime(2027, 7, 1, tzinfo=dt.UTC)

# kind, schedule fields, the local opening moment of VISIT under them
KINDS = [
    ("rolling", {"days_before": 14, "release_time": dt.time(9, 0)}, dt.datetime(2027, 8, 25, 9, 0)),
    # the week of 6-12 September opens on Friday 3 September at 14:00
    ("weekly", {"weekday": 4, "release_time": dt.time(14, 0)}, dt.datetime(2027, 9, 3, 14, 0)),
    # September opens on 25 August at 09:00
    ("monthly", {"day_of_month": 25, "release_time": dt.time(9, 0)}, dt.datetime(2027, 8, 25, 9, 0)),
]
ZONES = [("Asia/Jakarta", 7), ("Asia/Makassar", 8), ("Asia/Jayapura", 9)]


def book(slot, now):
    return book_one(account=UserFactory(), slot_id=slot.pk, now=now)


@pytest.mark.django_db
@pytest.mark.parametrize("zone,offset", ZONES, ids=["WIB", "WITA", "WIT"])
@pytest.mark.parametrize("kind,fields,local_opening", KINDS, ids=[k[0] for k in KINDS])
def test_date_opens_at_its_release_time_in_the_office_zone(zone, offset, kind, fields, local_opening):
    office = OfficeFactory(timezone=zone)
    ReleaseSchedule.objects.create(office=office, kind=kind, **fields)
    rule(office, VISIT.weekday(), start=8, end=12, online=5, priority=0)
    generate_slots(office=office, date_from=VISIT, date_to=VISIT, now=BEFORE_ANY_RELEASE)
    slot = Slot.objects.get(office=office, date=VISIT, pool=Pool.ONLINE)

    opening = local_opening.replace(tzinfo=ZoneInfo(zone))
    assert slot.opens_at == opening
    assert slot.opens_at.astimezone(dt.UTC) == local_opening.replace(tzinfo=dt.UTC) - dt.timedelta(hours=offset)

    with pytest.raises(NotOpenYet) as refused:
        book(slot, opening - dt.timedelta(minutes=1))
    assert refused.value.code == "not_open_yet"
    slot.refresh_from_db()
    assert slot.taken == 0

    assert book(slot, opening).status == Status.PENDING_PAYMENT
    slot.refresh_from_db()
    assert slot.taken == 1


def test_monthly_release_day_past_the_month_end_is_its_last_day():
    schedule = ReleaseSchedule(kind="monthly", day_of_month=31, release_time=dt.time(9))
    wit = ZoneInfo("Asia/Jayapura")
    assert opens_at(schedule, dt.date(2027, 3, 10), wit) == dt.datetime(2027, 2, 28, 9, tzinfo=wit)
    assert opens_at(schedule, dt.date(2027, 1, 10), wit) == dt.datetime(2026, 12, 31, 9, tzinfo=wit)


def test_weekly_release_covers_monday_to_sunday():
    schedule = ReleaseSchedule(kind="weekly", weekday=4, release_time=dt.time(14))
    wib = ZoneInfo("Asia/Jakarta")
    friday = dt.datetime(2027, 9, 3, 14, tzinfo=wib)
    assert {opens_at(schedule, dt.date(2027, 9, 6) + dt.timedelta(days=i), wib) for i in range(7)} == {friday}
    assert opens_at(schedule, dt.date(2027, 9, 13), wib) == friday + dt.timedelta(days=7)


@pytest.mark.django_db
def test_changed_schedule_moves_openings_but_never_closes_an_open_date():
    office = OfficeFactory(timezone="Asia/Jakarta")
    schedule = ReleaseSchedule.objects.create(office=office, kind="rolling", days_before=14)
    rule(office, VISIT.weekday(), online=5, priority=0)
    rule(office, (VISIT + dt.timedelta(days=1)).weekday(), online=5, priority=0)
    now = dt.datetime(2027, 8, 25, 12, tzinfo=ZoneInfo("Asia/Jakarta"))  # VISIT opened at 09:00 today
    generate_slots(office=office, date_from=VISIT, date_to=VISIT + dt.timedelta(days=1), now=now)

    schedule.days_before = 7
    schedule.save()
    plan = generate_slots(office=office, date_from=VISIT, date_to=VISIT + dt.timedelta(days=1), now=now)

    assert [c.date for c in plan.update] == [VISIT + dt.timedelta(days=1)]
    assert Slot.objects.get(office=office, date=VISIT).opens_at < now
    assert Slot.objects.get(office=office, date=VISIT + dt.timedelta(days=1)).opens_at == dt.datetime(
        2027, 9, 2, 9, tzinfo=ZoneInfo("Asia/Jakarta")
    )
