"""A booking of a household (1 to 5 people, all or nothing), the give-back signal every released
place sends once its transaction commits, and the services' transaction contracts."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.exceptions import DuplicateApplication, InvalidInput, TooManyApplicants
from appointments.models import Application, ApplicationEvent, Notification, Status
from appointments.services.booking import PersonBooking, book_applications
from appointments.services.counter import next_queue_number
from appointments.services.lifecycle import (
    cancel_application,
    do_transition,
    mark_no_shows,
    release_expired_holds,
    reschedule_application,
)
from appointments.services.queue import call_next
from mpaspor.db import TransactionRequired
from quotas.exceptions import SlotFull
from quotas.models import Slot
from quotas.services.claims import claim_places, return_places
from quotas.services.priority import give_back_priority_places, make_room_for_walk_in
from quotas.signals import place_given_back
from tests.factories import ApplicationFactory, SlotFactory, UserFactory, applicant_data


def household(size, **overrides):
    people = [applicant_data(birth_date=dt.date(1980 + n, 1, 1 + n), sex="MF"[n % 2]) for n in range(size)]
    return [
        PersonBooking(applicant=person, passport_type="regular", validity_years=5, kind="new", **overrides)
        for person in people
    ]


@pytest.fixture
def given_back():
    """The place_given_back signals received, as (slot_id, count, reason)."""
    received = []

    def receiver(sender, slot_id, count, reason, **kwargs):
        received.append((slot_id, count, reason))

    place_given_back.connect(receiver)
    yield received
    place_given_back.disconnect(receiver)


@pytest.mark.django_db
class TestHousehold:
    def test_books_every_person_on_one_slot_in_one_statement(self, applicant_user, office):
        slot = SlotFactory(office=office, capacity=5)
        with CaptureQueriesContext(connection) as queries:
            applications = book_applications(account=applicant_user, slot_id=slot.pk, people=household(3))
        statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
        # slot, the fee per person, then the account's lock and capacity, and one statement for
        # the claim and the inserts
        assert len(statements) == 7 and statements[-1].startswith("EXECUTE claim_")
        slot.refresh_from_db()
        assert slot.taken == 3
        assert {a.status for a in applications} == {Status.PENDING_PAYMENT}
        assert len({a.booking_code for a in applications}) == len({a.billing_code for a in applications}) == 3
        stored = Application.objects.filter(slot=slot)
        assert sorted(stored.values_list("nik", flat=True)) == sorted(a.nik for a in applications)
        assert ApplicationEvent.objects.filter(application__in=stored).count() == 3
        assert Notification.objects.filter(application__in=stored, template="booking_made").count() == 3

    def test_both_ways_of_claiming_store_the_same_household(self, applicant_user, office, monkeypatch):
        slot = SlotFactory(office=office, capacity=6)

        def book_as(vendor):
            monkeypatch.setattr(connection, "vendor", vendor)
            try:
                applications = book_applications(account=applicant_user, slot_id=slot.pk, people=household(2))
            finally:
                monkeypatch.undo()
            for application in applications:
                row = Application.objects.filter(pk=application.pk).values().get()
                assert {f: getattr(application, Application._meta.get_field(f).attname) for f in row} == row
            return [
                (a.status, a.amount, list(a.events.values_list("to_status", flat=True)), a.notifications.count())
                for a in applications
            ]

        assert book_as("postgresql") == book_as("sqlite")
        slot.refresh_from_db()
        assert slot.taken == 4

    def test_too_few_places_for_the_whole_household_books_nobody(self, applicant_user, office):
        slot = SlotFactory(office=office, capacity=3, taken=1)
        with pytest.raises(SlotFull):
            book_applications(account=applicant_user, slot_id=slot.pk, people=household(3))
        slot.refresh_from_db()
        assert slot.taken == 1 and not Application.objects.exists()

    def test_one_duplicate_nik_books_nobody(self, applicant_user, office):
        slot = SlotFactory(office=office, capacity=5)
        people = household(3)
        ApplicationFactory(nik=people[1].applicant.nik, birth_date=people[1].applicant.birth_date, sex="F")
        with pytest.raises(DuplicateApplication):
            book_applications(account=applicant_user, slot_id=slot.pk, people=people)
        slot.refresh_from_db()
        assert slot.taken == 0 and not Application.objects.filter(slot=slot).exists()

    def test_the_same_nik_twice_in_one_booking_is_refused(self, applicant_user, slot):
        person = household(1)[0]
        with pytest.raises(InvalidInput) as refused:
            book_applications(account=applicant_user, slot_id=slot.pk, people=[person, person])
        assert refused.value.field == "nik" and not Application.objects.exists()

    def test_more_people_than_the_account_may_have_is_refused(self, applicant_user, office):
        slot = SlotFactory(office=office, capacity=10)
        book_applications(account=applicant_user, slot_id=slot.pk, people=household(3))
        with pytest.raises(TooManyApplicants):
            book_applications(account=applicant_user, slot_id=slot.pk, people=household(3))
        with pytest.raises(InvalidInput):
            book_applications(account=UserFactory(), slot_id=slot.pk, people=household(6))
        with pytest.raises(InvalidInput):
            book_applications(account=UserFactory(), slot_id=slot.pk, people=[])
        assert Slot.objects.get(pk=slot.pk).taken == 3

    def test_a_bad_person_names_its_field_and_books_nobody(self, applicant_user, slot):
        people = household(2)
        people[1] = PersonBooking(
            applicant=applicant_data(phone="12"), passport_type="regular", validity_years=5, kind="new"
        )
        with pytest.raises(InvalidInput) as refused:
            book_applications(account=applicant_user, slot_id=slot.pk, people=people)
        assert refused.value.field == "phone" and not Application.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_households_racing_for_the_last_places_never_overbook(office):
    """Ten households of two race for five places: two households get in, and nobody in part."""
    slot = SlotFactory(office=office, capacity=5)
    accounts = [UserFactory() for _ in range(10)]
    start = threading.Barrier(10)
    outcomes = []

    def attempt(account):
        try:
            start.wait()
            book_applications(account=account, slot_id=slot.pk, people=household(2))
            outcomes.append("booked")
        except SlotFull:
            outcomes.append("full")
        except Exception as exc:  # noqa: BLE001 - any other error fails the test
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(account,)) for account in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] * 2 + ["full"] * 8
    assert Slot.objects.get(pk=slot.pk).taken == Application.objects.filter(slot=slot).count() == 4
    assert set(Application.objects.values_list("account", flat=True).distinct().order_by()) <= {a.pk for a in accounts}
    assert all(Application.objects.filter(account=a).count() in (0, 2) for a in accounts)


@pytest.mark.django_db(transaction=True)
class TestPlaceGivenBack:
    """Every give-back sends quotas' signal once its transaction commits, never before, never on
    a rollback."""

    def test_cancel(self, office, given_back):
        application = ApplicationFactory(slot=SlotFactory(office=office), status=Status.BOOKED)
        cancel_application(application_id=application.pk)
        assert given_back == [(application.slot_id, 1, "cancelled")]

    def test_expiry(self, office, given_back):
        application = ApplicationFactory(
            slot=SlotFactory(office=office),
            status=Status.PENDING_PAYMENT,
            payment_due_at=timezone.now() - dt.timedelta(minutes=1),
        )
        assert release_expired_holds() == 1
        assert given_back == [(application.slot_id, 1, "expired")]

    def test_no_show(self, office, given_back):
        slot = SlotFactory(
            office=office,
            starts_at=timezone.now() - dt.timedelta(hours=5),
            ends_at=timezone.now() - dt.timedelta(hours=4),
        )
        application = ApplicationFactory(slot=slot, status=Status.BOOKED)
        assert mark_no_shows() == 1
        assert given_back == [(application.slot_id, 1, "no_show")]

    def test_reschedule_gives_back_the_old_place_only(self, office, given_back):
        old = SlotFactory(office=office)
        new = SlotFactory(office=office, starts_at=old.starts_at + dt.timedelta(days=1))
        application = ApplicationFactory(slot=old, status=Status.BOOKED)
        reschedule_application(application_id=application.pk, slot_id=new.pk)
        assert given_back == [(old.pk, 1, "rescheduled")]
        assert Slot.objects.get(pk=old.pk).taken == 0 and Slot.objects.get(pk=new.pk).taken == 1

    def test_priority_places_moved_online(self, office, given_back):
        starts = timezone.now() + dt.timedelta(minutes=30)
        SlotFactory(office=office, pool="priority", capacity=4, taken=1, starts_at=starts)
        online = SlotFactory(office=office, pool="online", capacity=10, starts_at=starts)
        assert give_back_priority_places() == 3
        assert given_back == [(online.pk, 3, "priority_release")]

    def test_not_before_the_commit_and_not_at_all_on_a_rollback(self, office, given_back):
        application = ApplicationFactory(slot=SlotFactory(office=office), status=Status.BOOKED)
        with pytest.raises(RuntimeError), transaction.atomic():
            locked = Application.objects.select_for_update().get(pk=application.pk)
            do_transition(application=locked, to=Status.CANCELLED)
            assert given_back == []
            raise RuntimeError("the caller fails after the give-back")
        assert given_back == []
        assert Application.objects.get(pk=application.pk).status == Status.BOOKED
        assert Slot.objects.get(pk=application.slot_id).taken == 1


@pytest.mark.django_db(transaction=True)
class TestTransactionContracts:
    def test_parts_of_a_callers_change_refuse_to_run_alone(self, office):
        slot = SlotFactory(office=office)
        priority = SlotFactory(office=office, pool="priority", capacity=0, starts_at=slot.starts_at)
        application = ApplicationFactory(slot=slot, status=Status.BOOKED)
        for part in (
            lambda: claim_places(slot_id=slot.pk, now=timezone.now()),
            lambda: return_places(slot_id=slot.pk, reason="cancelled"),
            lambda: do_transition(application=application, to=Status.CANCELLED),
            lambda: next_queue_number(office_id=office.pk, day=slot.date, series="A"),
            lambda: make_room_for_walk_in(slot_id=priority.pk),
        ):
            with pytest.raises(TransactionRequired):
                part()
        assert Slot.objects.get(pk=slot.pk).taken == 1
        assert Slot.objects.get(pk=priority.pk).capacity == 0
        assert Application.objects.get(pk=application.pk).status == Status.BOOKED

    def test_services_that_own_their_transaction_refuse_to_run_inside_another(self, office):
        application = ApplicationFactory(slot=SlotFactory(office=office), status=Status.BOOKED)
        with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
            cancel_application(application_id=application.pk)
        assert Application.objects.get(pk=application.pk).status == Status.BOOKED
        office.counter_count = 2
        office.save()
        with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
            call_next(office_id=office.pk, desk=1)
