import datetime as dt

import pytest

from appointments.exceptions import KindNotAccepted
from appointments.models import Status
from quotas.exceptions import ShrinkRefused
from quotas.models import DateOverride, Pool, QuotaRule, Slot
from quotas.services.generation import generate_horizon_slots, generate_slots
from quotas.services.setup import SessionSpec, set_up_office_quotas
from tests.factories import ApplicationFactory, OfficeFactory, UserFactory, applicant_data, book_one

from .helpers import INDEPENDENCE_DAY, MONDAY, NOW, WIB, open_now_schedule, programme, rule, weekday_rules

SUNDAY = MONDAY + dt.timedelta(days=6)

pytestmark = pytest.mark.django_db


def slots_by_day(office):
    found = {}
    for slot in Slot.objects.filter(office=office, capacity__gt=0).order_by("starts_at", "pool"):
        found.setdefault(slot.date, []).append(
            (slot.starts_at.astimezone(WIB).strftime("%H:%M"), slot.pool, slot.capacity)
        )
    return found


def week(office):
    return generate_slots(office=office, date_from=MONDAY, date_to=SUNDAY, now=NOW)


@pytest.fixture
def office():
    office = OfficeFactory(timezone="Asia/Jakarta")
    open_now_schedule(office)
    return office


def test_weekday_and_weekend_rules_make_their_sessions(office):
    weekday_rules(office, start=8, end=12, online=40, priority=10)
    rule(office, 5, start=8, end=10, online=30, priority=0)  # Saturday walk-ins of Kediri's kind

    plan = week(office)

    days = slots_by_day(office)
    for offset in range(5):
        assert days[MONDAY + dt.timedelta(days=offset)] == [("08:00", Pool.ONLINE, 40), ("08:00", Pool.PRIORITY, 10)]
    assert days[MONDAY + dt.timedelta(days=5)] == [("08:00", Pool.ONLINE, 30)]
    assert SUNDAY not in days
    assert len(plan.create) == 11 and plan.applied
    saturday = Slot.objects.get(office=office, date=MONDAY + dt.timedelta(days=5))
    assert saturday.ends_at.astimezone(WIB).time() == dt.time(10)


def test_second_run_changes_nothing(office):
    weekday_rules(office)
    week(office)
    before = list(Slot.objects.filter(office=office).values())

    plan = week(office)

    assert not plan.has_changes and not plan.conflicts
    assert list(Slot.objects.filter(office=office).values()) == before


def test_rules_follow_their_validity_dates(office):
    rule(office, 0, online=40, valid_to=MONDAY - dt.timedelta(days=1))
    rule(office, 0, online=25, valid_from=MONDAY)

    generate_slots(office=office, date_from=MONDAY - dt.timedelta(days=7), date_to=MONDAY, now=NOW)

    days = slots_by_day(office)
    assert days[MONDAY - dt.timedelta(days=7)] == [("08:00", Pool.ONLINE, 40), ("08:00", Pool.PRIORITY, 10)]
    assert days[MONDAY] == [("08:00", Pool.ONLINE, 25), ("08:00", Pool.PRIORITY, 10)]


def test_programme_accepts_only_its_kinds(office):
    saturday = MONDAY + dt.timedelta(days=5)
    programme(
        office,
        date_from=saturday,
        date_to=saturday + dt.timedelta(days=1),
        weekdays=[5, 6],
        kinds=["new", "replacement_expired"],
    )
    week(office)
    slot = Slot.objects.get(office=office, date=saturday, pool=Pool.ONLINE)
    assert slot.allowed_kinds == ["new", "replacement_expired"] and slot.program.name == "Layanan Paspor Simpatik"
    assert Slot.objects.filter(office=office, date=SUNDAY, pool=Pool.ONLINE).exists()

    def book(kind):
        return book_one(account=UserFactory(), slot_id=slot.pk, kind=kind, now=NOW)

    with pytest.raises(KindNotAccepted) as refused:
        book("replacement_full")
    assert refused.value.code == "kind_not_accepted"
    slot.refresh_from_db()
    assert slot.taken == 0
    assert book("new").status == Status.PENDING_PAYMENT


def test_programme_session_replaces_the_rule_at_the_same_time(office):
    weekday_rules(office, online=40)
    programme(office, date_from=MONDAY, date_to=MONDAY, sessions=((8, 12, 60, 5), (13, 15, 30, 0)))

    week(office)

    assert slots_by_day(office)[MONDAY] == [
        ("08:00", Pool.ONLINE, 60),
        ("08:00", Pool.PRIORITY, 5),
        ("13:00", Pool.ONLINE, 30),
    ]


def test_holiday_closes_the_office_with_its_name(office):
    weekday_rules(office)
    plan = generate_slots(
        office=office,
        date_from=INDEPENDENCE_DAY - dt.timedelta(days=1),
        date_to=INDEPENDENCE_DAY + dt.timedelta(days=1),
        now=NOW,
    )

    days = slots_by_day(office)
    assert INDEPENDENCE_DAY not in days
    assert INDEPENDENCE_DAY - dt.timedelta(days=1) in days and INDEPENDENCE_DAY + dt.timedelta(days=1) in days
    assert plan.closed_days == {INDEPENDENCE_DAY: "Hari Kemerdekaan Republik Indonesia"}


# The 2026 decree on national holidays and cuti bersama (SKB 3 Menteri), as the holidays
# package encodes it from version 0.99: Nyepi on Thursday 19 March with cuti bersama on the 18th;
# Idul Fitri 1447 H on Saturday and Sunday 21-22 March with cuti bersama on Friday the 20th and
# Monday-Tuesday 23-24 March; Christmas with cuti bersama on Thursday 24 December. Older versions
# guessed Idul Fitri on 20-21 March and left the 23rd, the 24th and 24 December open.
HOLIDAYS_MARCH_2026 = {
    dt.date(2026, 3, 18): "Cuti Bersama Hari Suci Nyepi",
    dt.date(2026, 3, 19): "Hari Suci Nyepi",
    dt.date(2026, 3, 20): "Cuti Bersama Hari Raya Idul Fitri",
    dt.date(2026, 3, 21): "Hari Raya Idul Fitri",
    dt.date(2026, 3, 22): "Hari kedua dari Hari Raya Idul Fitri",
    dt.date(2026, 3, 23): "Cuti Bersama Hari Raya Idul Fitri",
    dt.date(2026, 3, 24): "Cuti Bersama Hari Raya Idul Fitri",
}


def test_idul_fitri_and_christmas_2026_close_the_office_with_their_cuti_bersama(office):
    for weekday in range(7):
        rule(office, weekday, valid_from=dt.date(2026, 1, 1))
    before = dt.datetime(2026, 1, 5, 10, 0, tzinfo=WIB)

    march = generate_slots(office=office, date_from=dt.date(2026, 3, 16), date_to=dt.date(2026, 3, 27), now=before)
    december = generate_slots(office=office, date_from=dt.date(2026, 12, 23), date_to=dt.date(2026, 12, 28), now=before)

    assert march.closed_days == HOLIDAYS_MARCH_2026
    assert december.closed_days == {
        dt.date(2026, 12, 24): "Cuti Bersama Hari Raya Natal",
        dt.date(2026, 12, 25): "Hari Raya Natal",
    }
    open_days = set(slots_by_day(office))
    assert {dt.date(2026, 3, 17), dt.date(2026, 3, 25), dt.date(2026, 12, 23), dt.date(2026, 12, 28)} <= open_days
    assert not open_days & (set(HOLIDAYS_MARCH_2026) | {dt.date(2026, 12, 24), dt.date(2026, 12, 25)})


def test_programme_opens_a_holiday_with_only_its_sessions(office):
    weekday_rules(office, online=40)
    programme(
        office,
        date_from=INDEPENDENCE_DAY,
        date_to=INDEPENDENCE_DAY,
        on_holidays=True,
        kinds=["new"],
        sessions=((9, 11, 15, 0),),
    )
    programme(
        office, date_from=INDEPENDENCE_DAY, date_to=INDEPENDENCE_DAY, on_holidays=False, sessions=((13, 14, 99, 0),)
    )

    plan = generate_slots(office=office, date_from=INDEPENDENCE_DAY, date_to=INDEPENDENCE_DAY, now=NOW)

    assert slots_by_day(office)[INDEPENDENCE_DAY] == [("09:00", Pool.ONLINE, 15)]
    assert plan.closed_days == {}


def test_date_override_closes_a_day_or_changes_its_capacity(office):
    weekday_rules(office, online=40, priority=10)
    DateOverride.objects.create(office=office, date=MONDAY, closed=True, reason="Pemadaman listrik")
    DateOverride.objects.create(office=office, date=MONDAY + dt.timedelta(days=1), online_capacity=80)

    plan = week(office)

    days = slots_by_day(office)
    assert MONDAY not in days and plan.closed_days[MONDAY] == "Pemadaman listrik"
    assert days[MONDAY + dt.timedelta(days=1)] == [("08:00", Pool.ONLINE, 80), ("08:00", Pool.PRIORITY, 10)]


def test_shrinking_below_places_taken_is_refused_and_changes_nothing(office):
    weekday_rules(office, online=5)
    week(office)
    tuesday_slot = Slot.objects.get(office=office, date=MONDAY + dt.timedelta(days=1), pool=Pool.ONLINE)
    for _ in range(3):
        ApplicationFactory(slot=tuesday_slot, account=None)
    ApplicationFactory(slot=tuesday_slot, account=None, status=Status.CANCELLED)  # holds no place
    before = list(Slot.objects.filter(office=office).order_by("pk").values("pk", "capacity", "taken"))

    QuotaRule.objects.filter(office=office).update(online_capacity=2)
    with pytest.raises(ShrinkRefused) as refused:
        week(office)

    message = refused.value.message
    assert refused.value.code == "shrink_refused"
    assert f"{MONDAY + dt.timedelta(days=1)} 08:00 WIB (Daring): 3 terisi, tersisa 2 kuota" in message
    assert list(Slot.objects.filter(office=office).order_by("pk").values("pk", "capacity", "taken")) == before

    preview = generate_slots(office=office, date_from=MONDAY, date_to=SUNDAY, now=NOW, preview=True)
    assert [(c.slot_id, c.taken, c.capacity_after) for c in preview.conflicts] == [(tuesday_slot.pk, 3, 2)]
    assert len(preview.update) == 4 and not preview.applied


def test_closing_a_day_with_bookings_is_refused(office):
    weekday_rules(office, online=5)
    week(office)
    slot = Slot.objects.get(office=office, date=MONDAY, pool=Pool.ONLINE)
    ApplicationFactory(slot=slot, account=None)
    DateOverride.objects.create(office=office, date=MONDAY, closed=True, reason="Banjir")

    with pytest.raises(ShrinkRefused) as refused:
        week(office)
    assert f"{MONDAY} 08:00 WIB" in refused.value.message
    assert Slot.objects.get(pk=slot.pk).capacity == 5


def test_preview_lists_changes_without_writing(office):
    weekday_rules(office, online=40)
    week(office)
    rule(office, 5, online=30, priority=0)

    QuotaRule.objects.filter(office=office, weekday=0).update(online_capacity=50)
    QuotaRule.objects.filter(office=office, weekday=4).delete()
    before = list(Slot.objects.filter(office=office).order_by("pk").values())

    plan = generate_slots(office=office, date_from=MONDAY, date_to=SUNDAY, now=NOW, preview=True)

    assert [(c.date, c.pool, c.capacity_after) for c in plan.create] == [(MONDAY + dt.timedelta(days=5), "online", 30)]
    assert [(c.date, c.pool, c.capacity_before, c.capacity_after, c.changed) for c in plan.update] == [
        (MONDAY, "online", 40, 50, ("capacity",))
    ]
    friday = MONDAY + dt.timedelta(days=4)
    assert sorted((c.date, c.pool, c.capacity_after) for c in plan.remove) == [
        (friday, "online", 0),
        (friday, "priority", 0),
    ]
    assert list(Slot.objects.filter(office=office).order_by("pk").values()) == before


def test_removed_session_is_deleted_or_emptied_when_applications_point_at_it(office):
    weekday_rules(office)
    week(office)
    monday = Slot.objects.get(office=office, date=MONDAY, pool=Pool.ONLINE)
    ApplicationFactory(slot=monday, account=None, status=Status.EXPIRED)  # a released application keeps the row

    QuotaRule.objects.filter(office=office, weekday__in=[0, 1]).delete()
    plan = week(office)

    assert len(plan.remove) == 4
    monday.refresh_from_db()
    assert monday.capacity == 0
    assert not Slot.objects.filter(office=office, date=MONDAY + dt.timedelta(days=1)).exists()
    assert not week(office).has_changes


def test_started_sessions_are_never_touched(office):
    weekday_rules(office, online=40)
    generate_slots(office=office, date_from=MONDAY, date_to=MONDAY, now=NOW)

    QuotaRule.objects.filter(office=office).update(online_capacity=10)
    during = dt.datetime.combine(MONDAY, dt.time(9), tzinfo=WIB)
    plan = generate_slots(office=office, date_from=MONDAY, date_to=MONDAY, now=during)
    assert not plan.has_changes
    assert Slot.objects.get(office=office, date=MONDAY, pool=Pool.ONLINE).capacity == 40


def test_horizon_and_set_up_helper_are_idempotent():
    office = OfficeFactory(timezone="Asia/Makassar")
    weekday = [SessionSpec(dt.time(8), dt.time(12), online=40, priority=10), SessionSpec(dt.time(13), dt.time(15), 20)]
    weekend = [SessionSpec(dt.time(10), dt.time(14), online=30, kinds=("new", "replacement_expired"))]
    week = {day: weekday for day in range(5)} | {5: weekend, 6: weekend}

    plan = set_up_office_quotas(office=office, week=week, horizon_days=13, now=NOW)

    assert plan.create
    today = NOW.astimezone(office.tzinfo).date()
    dates = set(Slot.objects.filter(office=office).values_list("date", flat=True))
    assert min(dates) >= today and max(dates) <= today + dt.timedelta(days=13)
    weekend_slots = Slot.objects.filter(office=office, date__week_day__in=[1, 7])
    assert weekend_slots.exists() and all(s.allowed_kinds == ["new", "replacement_expired"] for s in weekend_slots)
    assert {s.capacity for s in weekend_slots} == {30}
    monday = next(today + dt.timedelta(days=i) for i in range(7) if (today + dt.timedelta(days=i)).weekday() == 0)
    assert slots_by_day(office)[monday] == [
        ("07:00", Pool.ONLINE, 40),
        ("07:00", Pool.PRIORITY, 10),
        ("12:00", Pool.ONLINE, 20),
    ]  # 08:00 and 13:00 WITA shown in WIB
    count = Slot.objects.count()

    again = set_up_office_quotas(office=office, week=week, horizon_days=13, now=NOW)
    assert not again.has_changes and Slot.objects.count() == count
    assert not generate_horizon_slots(office_id=office.pk, now=NOW).has_changes


@pytest.mark.django_db(transaction=True)
def test_generation_during_bookings_loses_no_place():
    import threading

    from django.db import connection

    from appointments.models import Application

    office = OfficeFactory(timezone="Asia/Jakarta")
    open_now_schedule(office)
    rule(office, MONDAY.weekday(), online=10, priority=0)
    generate_slots(office=office, date_from=MONDAY, date_to=MONDAY, now=NOW)
    slot = Slot.objects.get(office=office, date=MONDAY)
    accounts = [UserFactory(), UserFactory()]
    QuotaRule.objects.filter(office=office).update(online_capacity=20)
    barrier = threading.Barrier(9)
    errors = []

    def booker(i):
        try:
            barrier.wait()
            book_one(
                account=accounts[i % 2],
                slot_id=slot.pk,
                applicant=applicant_data(),
                passport_type="regular",
                validity_years=5,
                kind="new",
                now=NOW,
            )
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    def generator():
        try:
            barrier.wait()
            generate_slots(office=office, date_from=MONDAY, date_to=MONDAY, now=NOW)
        finally:
            connection.close()

    threads = [threading.Thread(target=booker, args=(i,)) for i in range(8)] + [threading.Thread(target=generator)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    slot.refresh_from_db()
    assert errors == []
    assert (slot.capacity, slot.taken) == (20, 8) == (20, Application.objects.filter(slot=slot).count())
