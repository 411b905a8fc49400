"""Priority places stay for the people they are for: unused ones go online a set time before the
session (default 24 h, per office), never once it has started; during the day, walk-ins beyond
the pool are admitted on a place added for them, and the reports count them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from appointments.services.counter import register_walk_in
from quotas.models import Pool, QuotaRule, ReleaseSchedule, Slot
from quotas.services.generation import generate_slots
from quotas.services.priority import give_back_priority_places
from reports.models import OfficeDay
from reports.services import refresh_office_days
from tests.factories import OfficeFactory, SlotFactory, UserFactory, applicant_data

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
START = dt.datetime(2027, 8, 24, 10, tzinfo=WIB)  # a Tuesday session, 10:00-12:00 WIB


def session(office, *, priority=5, priority_taken=0, online=10):
    common = {"office": office, "starts_at": START, "ends_at": START + dt.timedelta(hours=2), "date": START.date()}
    online_slot = SlotFactory(pool=Pool.ONLINE, capacity=online, **common)
    priority_slot = SlotFactory(pool=Pool.PRIORITY, capacity=priority, taken=priority_taken, **common)
    return online_slot, priority_slot


def capacities(*slots):
    return [Slot.objects.values_list("capacity", flat=True).get(pk=s.pk) for s in slots]


class TestGiveBackTime:
    def test_by_default_24_hours_before_the_session_not_a_minute_earlier(self, office):
        online, priority = session(office, priority_taken=1)
        assert give_back_priority_places(now=START - dt.timedelta(hours=24, minutes=1)) == 0
        assert capacities(online, priority) == [10, 5]
        assert give_back_priority_places(now=START - dt.timedelta(hours=24)) == 4
        assert capacities(online, priority) == [14, 1]
        assert Slot.objects.get(pk=priority.pk).moved_to_online == 4

    def test_each_office_sets_its_own_time(self, office):
        ReleaseSchedule.objects.create(office=office, priority_release_hours=2)
        online, priority = session(office)
        assert give_back_priority_places(now=START - dt.timedelta(hours=23)) == 0
        assert give_back_priority_places(now=START - dt.timedelta(hours=2, seconds=1)) == 0
        assert give_back_priority_places(now=START - dt.timedelta(hours=2)) == 5
        assert capacities(online, priority) == [15, 0]

    def test_never_from_a_session_that_has_started(self, office):
        ReleaseSchedule.objects.create(office=office, priority_release_hours=0)
        online, priority = session(office)
        for now in (START - dt.timedelta(minutes=1), START, START + dt.timedelta(minutes=15)):
            assert give_back_priority_places(now=now) == 0
        assert capacities(online, priority) == [10, 5]

    def test_a_session_that_started_before_it_was_due_keeps_its_places(self, office):
        """The job missed the time (the worker was down): once the session runs, online booking
        refuses it, so the places stay at the door for walk-ins."""
        online, priority = session(office)
        assert give_back_priority_places(now=START + dt.timedelta(seconds=1)) == 0
        assert capacities(online, priority) == [10, 5]

    def test_an_office_head_sets_the_time_in_the_admin(self, client, world):
        schedule = ReleaseSchedule.objects.create(office=world.kediri)
        assert schedule.priority_release_hours == 24
        url = reverse("admin:quotas_releaseschedule_change", args=[schedule.pk])
        client.force_login(world.kediri_head)
        form = client.get(url).context["adminform"].form
        data = {name: form[name].value() for name in form.fields}
        data = {name: "" if value is None else value for name, value in data.items()}
        response = client.post(url, {**data, "priority_release_hours": "6"})
        assert response.status_code == 302
        schedule.refresh_from_db()
        assert schedule.priority_release_hours == 6


class TestOverflowDuringTheSession:
    def walk_in(self, office, slot, *, now, born=dt.date(1950, 1, 1), **extra):
        return register_walk_in(
            office_id=office.pk,
            slot_id=slot.pk,
            applicant=applicant_data(birth_date=born),
            kind="new",
            priority_group="elderly",
            passport_type="regular",
            validity_years=5,
            now=now,
            **extra,
        )

    def test_an_elderly_walk_in_after_the_give_back_is_admitted_beyond_the_pool(self, office):
        online, priority = session(office)
        give_back_priority_places(now=START - dt.timedelta(hours=24))
        assert capacities(online, priority) == [15, 0]
        late = START + dt.timedelta(minutes=15)
        first = self.walk_in(office, priority, now=late)
        second = self.walk_in(office, priority, now=late, actor=UserFactory())
        priority.refresh_from_db()
        assert (priority.capacity, priority.taken, priority.overflow) == (2, 2, 0 + 2)
        assert first.beyond_pool and second.beyond_pool
        assert capacities(online) == [15]  # the online pool keeps what it was given

        refresh_office_days(date_from=START.date(), date_to=START.date(), now=late)
        day = OfficeDay.objects.get(office=office, date=START.date())
        assert (day.priority_offered, day.priority_taken, day.walk_ins, day.walk_ins_beyond_pool) == (0, 2, 2, 2)

    def test_walk_ins_fill_the_pool_first(self, office):
        online, priority = session(office, priority=1)
        during = START + dt.timedelta(minutes=30)
        inside = self.walk_in(office, priority, now=during)
        beyond = self.walk_in(office, priority, now=during)
        assert (inside.beyond_pool, beyond.beyond_pool) == (False, True)
        refresh_office_days(date_from=START.date(), date_to=START.date(), now=during)
        day = OfficeDay.objects.get(office=office, date=START.date())
        assert (day.priority_offered, day.priority_taken, day.walk_ins_beyond_pool) == (1, 2, 1)

    def test_slot_generation_keeps_the_places_added(self):
        office = OfficeFactory()
        QuotaRule.objects.create(
            office=office,
            weekday=START.weekday(),
            start_time=dt.time(13),
            end_time=dt.time(15),
            online_capacity=10,
            priority_capacity=1,
            valid_from=START.date(),
        )
        ReleaseSchedule.objects.create(office=office, kind="rolling", days_before=30, priority_release_hours=0)
        generate_slots(office=office, date_from=START.date(), date_to=START.date(), now=START - dt.timedelta(days=2))
        priority = Slot.objects.get(office=office, pool=Pool.PRIORITY)
        morning = START - dt.timedelta(hours=1)  # 09:00, for the 13:00 session
        self.walk_in(office, priority, now=morning)
        self.walk_in(office, priority, now=morning)

        plan = generate_slots(office=office, date_from=START.date(), date_to=START.date(), now=morning)
        assert not plan.has_changes and not plan.conflicts
        priority.refresh_from_db()
        assert (priority.capacity, priority.taken, priority.overflow) == (2, 2, 1)
