"""Walk-in sessions (their own pool, no booking) and same-day service places (an express slot per
office-day, taken with the session's place by the one claim)."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from appointments.models import Application, Status
from appointments.services.booking import PersonBooking, book_applications
from appointments.services.lifecycle import cancel_application, release_expired_holds, reschedule_application
from appointments.services.reconciliation import reconcile_slot_counts
from quotas.exceptions import ExpressFull, ShrinkRefused, SlotFull, WalkInOnly
from quotas.models import DateOverride, Pool, QuotaRule, SameDayService, Slot
from quotas.selectors import DayState, office_availability
from quotas.services.generation import generate_slots
from reports.models import OfficeDay
from reports.services import refresh_office_days
from tests.api.conftest import assert_error, client_for
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data, book_one

from .helpers import MONDAY, NOW, WIB, open_now_schedule, weekday_rules

SATURDAY = MONDAY + dt.timedelta(days=5)
SUNDAY = MONDAY + dt.timedelta(days=6)


def walk_in_saturdays(office, places=30):
    """Kediri's Saturday walk-ins: 08:00-10:00, its own places, no online booking."""
    return QuotaRule.objects.create(
        office=office,
        weekday=5,
        start_time=dt.time(8),
        end_time=dt.time(10),
        online_capacity=0,
        priority_capacity=0,
        walk_in_capacity=places,
        valid_from=dt.date(2027, 1, 1),
    )


def week(office):
    return generate_slots(office=office, date_from=MONDAY, date_to=SUNDAY, now=NOW)


def household(size, *, express):
    """`size` people, the first `express` of them for same-day service."""
    return [
        PersonBooking(
            applicant=applicant_data(birth_date=dt.date(1980 + n, 1, 1 + n), sex="MF"[n % 2]),
            passport_type="regular",
            validity_years=5,
            kind="new",
            express=n < express,
        )
        for n in range(size)
    ]


def express_slot_of(slot) -> Slot:
    return Slot.objects.get(office_id=slot.office_id, date=slot.date, pool=Pool.EXPRESS)


def session_with_express(*, capacity=10, express=5, check_in_by=dt.time(12)):
    """An online session in three days and its day's express slot, as generation makes them."""
    slot = SlotFactory(capacity=capacity)
    tz = slot.office.tzinfo
    SlotFactory(
        office=slot.office,
        pool=Pool.EXPRESS,
        capacity=express,
        starts_at=dt.datetime.combine(slot.date, dt.time(0), tzinfo=tz),
        ends_at=dt.datetime.combine(slot.date, check_in_by, tzinfo=tz),
        date=slot.date,
    )
    return slot


@pytest.fixture
def office(db):
    office = OfficeFactory(timezone="Asia/Jakarta")
    open_now_schedule(office)
    return office


@pytest.mark.django_db
class TestGeneration:
    def test_a_walk_in_rule_makes_a_walk_in_session_and_no_online_one(self, office):
        weekday_rules(office, online=40, priority=10)
        walk_in_saturdays(office)
        week(office)
        saturday = list(Slot.objects.filter(office=office, date=SATURDAY).values_list("pool", "capacity"))
        assert saturday == [(Pool.WALK_IN, 30)]
        slot = Slot.objects.get(office=office, date=SATURDAY)
        assert (slot.local_start.time(), slot.local_end.time()) == (dt.time(8), dt.time(10))
        # A date override can change the walk-in places of that day (a mass service), as any pool's.
        DateOverride.objects.create(office=office, date=SATURDAY, walk_in_capacity=1079)
        week(office)
        assert Slot.objects.get(office=office, date=SATURDAY).capacity == 1079
        assert not week(office).has_changes

    def test_same_day_service_makes_one_express_slot_per_day_with_online_sessions(self, office):
        weekday_rules(office, online=200, priority=50)
        walk_in_saturdays(office)
        SameDayService.objects.create(office=office, places_per_day=35, check_in_by=dt.time(11, 30))
        DateOverride.objects.create(office=office, date=MONDAY + dt.timedelta(days=1), express_capacity=10)
        DateOverride.objects.create(office=office, date=MONDAY + dt.timedelta(days=2), closed=True)
        week(office)
        express = {
            s.date: (s.capacity, s.local_start.time(), s.local_end.time())
            for s in Slot.objects.filter(office=office, pool=Pool.EXPRESS)
        }
        noon = (dt.time(0), dt.time(11, 30))
        assert express == {
            MONDAY: (35, *noon),
            MONDAY + dt.timedelta(days=1): (10, *noon),  # the override
            MONDAY + dt.timedelta(days=3): (35, *noon),
            MONDAY + dt.timedelta(days=4): (35, *noon),
        }  # none on the closed Wednesday nor on the walk-in Saturday
        assert not week(office).has_changes

    def test_fewer_express_places_than_taken_are_refused(self, office):
        weekday_rules(office, online=20, priority=0)
        service = SameDayService.objects.create(office=office, places_per_day=3, check_in_by=dt.time(12))
        week(office)
        session = Slot.objects.get(office=office, date=MONDAY, pool=Pool.ONLINE)
        book_applications(account=UserFactory(), slot_id=session.pk, people=household(2, express=2), now=NOW)
        service.places_per_day = 1
        service.save()
        with pytest.raises(ShrinkRefused):
            week(office)
        assert express_slot_of(session).capacity == 3


@pytest.mark.django_db
class TestAvailability:
    def test_a_walk_in_day_shows_its_hours_and_places_in_the_same_queries(self, office, django_assert_num_queries):
        weekday_rules(office, online=40, priority=10)
        walk_in_saturdays(office)
        SameDayService.objects.create(office=office, places_per_day=35, check_in_by=dt.time(12))
        week(office)
        with django_assert_num_queries(2):
            days = office_availability(office=office, date_from=MONDAY, date_to=SUNDAY, now=NOW)
        by_date = {d.date: d for d in days}
        saturday = by_date[SATURDAY]
        assert saturday.state == DayState.WALK_IN and saturday.sessions == []
        (session,) = saturday.walk_in
        assert (session.starts_at.time(), session.ends_at.time(), session.available) == (dt.time(8), dt.time(10), 30)
        assert by_date[MONDAY].state == DayState.FREE and by_date[MONDAY].walk_in == []
        assert by_date[SUNDAY].state == DayState.CLOSED
        # The express slot is no session anyone books: the day offers its 40 online places only.
        assert by_date[MONDAY].available == 40

    def test_the_api_says_walk_in_with_the_hours(self, client):
        office = OfficeFactory(timezone="Asia/Jakarta", code="kanim-kediri-test")
        slot = SlotFactory(office=office, pool=Pool.WALK_IN, capacity=30, taken=4)
        response = client.get(reverse("api-availability", args=[office.code]), {"from": slot.date, "to": slot.date})
        (day,) = response.json()["days"]
        assert day["state"] == "walk_in" and day["slots"] == []
        assert day["walk_in"] == [
            {
                "start": slot.starts_at.astimezone(WIB).isoformat(),
                "end": slot.ends_at.astimezone(WIB).isoformat(),
                "available": 26,
                "capacity": 30,
            }
        ]


@pytest.mark.django_db
class TestBooking:
    def test_a_walk_in_session_refuses_booking_clearly_and_takes_nothing(self, applicant_user):
        slot = SlotFactory(pool=Pool.WALK_IN, capacity=30)
        with pytest.raises(WalkInOnly):
            book_one(account=applicant_user, slot_id=slot.pk)
        body = assert_error(
            client_for(applicant_user).post(
                reverse("api-applications"),
                {
                    "slot": slot.pk,
                    "passport_type": "regular",
                    "validity_years": 5,
                    "application_kind": "new",
                    "express": False,
                    "applicant": {
                        "nik": applicant_data().nik,
                        "full_name": "Budi Santoso",
                        "birth_date": "1990-05-17",
                        "sex": "M",
                    },
                },
                format="json",
            ),
            409,
            "walk_in_only",
        )
        assert "walk-in" in body["detail"].lower() or "datang langsung" in body["detail"].lower()
        slot.refresh_from_db()
        assert slot.taken == 0 and not Application.objects.exists()

    def test_a_household_takes_an_express_place_for_each_express_person_only(self, applicant_user):
        slot = session_with_express(capacity=10, express=5)
        applications = book_applications(account=applicant_user, slot_id=slot.pk, people=household(3, express=2))
        assert [a.express for a in applications] == [True, True, False]
        slot.refresh_from_db()
        assert (slot.taken, express_slot_of(slot).taken) == (3, 2)

    def test_too_few_express_places_books_nobody(self, applicant_user):
        slot = session_with_express(capacity=10, express=1)
        with pytest.raises(ExpressFull):
            book_applications(account=applicant_user, slot_id=slot.pk, people=household(3, express=2))
        slot.refresh_from_db()
        assert (slot.taken, express_slot_of(slot).taken) == (0, 0)
        assert not Application.objects.exists()
        book_one(account=applicant_user, slot_id=slot.pk, express=False)  # regular service still books

    def test_an_office_without_same_day_service_set_takes_express_without_a_limit(self, applicant_user):
        slot = SlotFactory(capacity=10)
        book_applications(account=applicant_user, slot_id=slot.pk, people=household(2, express=2))
        slot.refresh_from_db()
        assert slot.taken == 2

    def test_zero_places_that_day_refuses_express(self, applicant_user):
        slot = session_with_express(express=0)
        with pytest.raises(ExpressFull):
            book_one(account=applicant_user, slot_id=slot.pk, express=True)

    def test_give_backs_return_the_express_place_and_a_move_takes_it_along(self, applicant_user):
        slot = session_with_express(express=5)
        next_day = SlotFactory(office=slot.office, starts_at=slot.starts_at + dt.timedelta(days=1))
        tz = slot.office.tzinfo
        SlotFactory(
            office=slot.office,
            pool=Pool.EXPRESS,
            capacity=5,
            starts_at=dt.datetime.combine(next_day.date, dt.time(0), tzinfo=tz),
            ends_at=dt.datetime.combine(next_day.date, dt.time(12), tzinfo=tz),
            date=next_day.date,
        )
        same_day = SlotFactory(office=slot.office, starts_at=slot.starts_at + dt.timedelta(hours=3))

        cancelled = book_one(account=applicant_user, slot_id=slot.pk, express=True)
        cancel_application(application_id=cancelled.pk)
        assert express_slot_of(slot).taken == 0

        expired = book_one(account=applicant_user, slot_id=slot.pk, express=True)
        Application.objects.filter(pk=expired.pk).update(payment_due_at=timezone.now() - dt.timedelta(minutes=1))
        assert release_expired_holds() == 1
        assert express_slot_of(slot).taken == 0

        moved = book_one(account=applicant_user, slot_id=slot.pk, express=True)
        reschedule_application(application_id=moved.pk, slot_id=same_day.pk)
        assert express_slot_of(slot).taken == 1  # the same date keeps its same-day place
        Application.objects.filter(pk=moved.pk).update(reschedule_count=0)
        reschedule_application(application_id=moved.pk, slot_id=next_day.pk)
        assert (express_slot_of(slot).taken, express_slot_of(next_day).taken) == (0, 1)
        assert reconcile_slot_counts(since=slot.date) == 0

    def test_reconciliation_corrects_an_express_slot_from_the_express_applications(self, applicant_user):
        slot = session_with_express(express=5)
        book_applications(account=applicant_user, slot_id=slot.pk, people=household(3, express=2))
        express = express_slot_of(slot)
        Slot.objects.filter(pk=express.pk).update(taken=4)
        assert reconcile_slot_counts(since=slot.date) == 1
        express.refresh_from_db()
        assert express.taken == 2
        assert reconcile_slot_counts(since=slot.date) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("capacity", "express", "size", "express_people", "booked"),
    [
        (50, 5, 1, 1, 5),  # the express places run out first
        (6, 10, 2, 2, 3),  # the session's places run out first
        (9, 4, 3, 1, 3),  # households of three with one express person: the session decides
        (20, 3, 3, 2, 1),  # households of three with two express people: the express places decide
    ],
)
def test_concurrent_express_bookings_never_exceed_either_limit(capacity, express, size, express_people, booked):
    """Twenty accounts race for one session: every household gets all its places (session and
    express) or none, and neither count ever goes past its capacity."""
    slot = session_with_express(capacity=capacity, express=express)
    accounts = [UserFactory() for _ in range(20)]
    start = threading.Barrier(len(accounts))
    outcomes = []

    def attempt(account):
        try:
            start.wait()
            book_applications(account=account, slot_id=slot.pk, people=household(size, express=express_people))
            outcomes.append("booked")
        except (SlotFull, ExpressFull) as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - any other error fails the test
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(account,)) for account in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("booked") == booked, outcomes
    assert set(outcomes) <= {"booked", "slot_full", "express_full"}, outcomes
    slot.refresh_from_db()
    day = express_slot_of(slot)
    assert slot.taken == Application.objects.filter(slot=slot).count() == booked * size <= slot.capacity
    assert day.taken == Application.objects.filter(slot=slot, express=True).count() == booked * express_people
    assert day.taken <= day.capacity
    assert all(Application.objects.filter(account=a).count() in (0, size) for a in accounts)


@pytest.mark.django_db
class TestExpressCutOff:
    def test_the_ticket_and_the_api_show_the_latest_check_in(self, client, applicant_user):
        slot = session_with_express(express=5, check_in_by=dt.time(11, 30))
        express = book_one(account=applicant_user, slot_id=slot.pk, express=True)
        regular = book_one(account=applicant_user, slot_id=slot.pk)
        api = client_for(applicant_user)
        detail = api.get(reverse("api-application", args=[express.booking_code])).json()
        assert detail["express_check_in_by"] == dt.datetime.combine(slot.date, dt.time(11, 30), tzinfo=WIB).isoformat()
        assert api.get(reverse("api-application", args=[regular.booking_code])).json()["express_check_in_by"] is None
        client.force_login(applicant_user)
        page = client.get(reverse("appointments:confirmation", args=[express.booking_code])).content.decode()
        assert "11:30 WIB" in page
        page = client.get(reverse("appointments:confirmation", args=[regular.booking_code])).content.decode()
        assert "express-cut-off" not in page


@pytest.mark.django_db
def test_reports_count_walk_in_session_places_and_same_day_places(office):
    walk_in = SlotFactory(office=office, pool=Pool.WALK_IN, capacity=30)
    ApplicationFactory(slot=walk_in, walk_in=True, status=Status.CHECKED_IN)
    ApplicationFactory(slot=walk_in, walk_in=True, status=Status.CANCELLED)
    session = session_with_express(express=35)
    Slot.objects.filter(office=session.office).update(office=office)
    ApplicationFactory(slot=session, express=True)
    ApplicationFactory(slot=session, express=True, status=Status.EXPIRED)
    ApplicationFactory(slot=session)
    refresh_office_days(date_from=walk_in.date, date_to=session.date, office_ids=[office.pk])
    figures = OfficeDay.objects.filter(office=office).values(
        "date", "walk_ins", "walk_in_offered", "walk_in_taken", "express_offered", "express_taken", "online_offered"
    )
    by_date = {f.pop("date"): f for f in figures}
    assert by_date[walk_in.date] == {
        "walk_ins": 2,
        "walk_in_offered": 30,
        "walk_in_taken": 1,
        "express_offered": 35,
        "express_taken": 1,
        "online_offered": 10,
    }
