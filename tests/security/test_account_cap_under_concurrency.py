"""Issue 14, item 4: the 5-person cap per account holds under concurrent bookings.

Before: with 4 people booked, two concurrent bookings both answered 201 in 10 of 10 rounds (6
active NIKs on one account). Both counted 4 others before either committed. Threads on
PostgreSQL, as the booking service runs them."""

import threading

import pytest
from django.db import connection

from appointments.exceptions import TooManyApplicants
from appointments.models import ACTIVE_STATUSES, Application, Status
from appointments.services.booking import PersonBooking, book_applications
from tests.factories import ApplicationFactory, SlotFactory, UserFactory, applicant_data

ROUNDS = 10


def one_person() -> PersonBooking:
    return PersonBooking(applicant=applicant_data(), passport_type="regular", validity_years=5, kind="new")


def race(account, slot, bookings: int) -> list[str]:
    start = threading.Barrier(bookings)
    outcomes = []

    def attempt():
        try:
            start.wait()
            book_applications(account=account, slot_id=slot.pk, people=[one_person()])
            outcomes.append("booked")
        except TooManyApplicants:
            outcomes.append("too_many")
        except Exception as exc:  # noqa: BLE001 - any other error fails the test
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(bookings)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_with_four_people_booked_give_exactly_five(office):
    slot = SlotFactory(office=office, capacity=100)
    for _ in range(ROUNDS):
        account = UserFactory()
        for _ in range(4):
            ApplicationFactory(account=account, slot=slot, status=Status.BOOKED)
        assert race(account, slot, 2) == ["booked", "too_many"]
        active = Application.objects.filter(account=account, status__in=ACTIVE_STATUSES)
        assert active.values("nik").distinct().count() == 5


@pytest.mark.django_db(transaction=True)
def test_an_empty_account_racing_itself_gets_five_people_and_no_more(office):
    slot = SlotFactory(office=office, capacity=100)
    account = UserFactory()
    assert race(account, slot, 8) == ["booked"] * 5 + ["too_many"] * 3
    assert Application.objects.filter(account=account).count() == 5


@pytest.mark.django_db(transaction=True)
def test_the_lock_is_per_account_so_other_accounts_book_alongside(office):
    """A booking waits only for bookings of its own account: while one account's transaction
    holds its lock, another account books at once."""
    import time

    from django.db import transaction

    slot = SlotFactory(office=office, capacity=100)
    holder, other = UserFactory(), UserFactory()
    locked, done = threading.Event(), threading.Event()

    def hold_the_lock():
        try:
            with transaction.atomic():
                type(holder).objects.select_for_update(no_key=True).get(pk=holder.pk)
                locked.set()
                done.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        book_applications(account=other, slot_id=slot.pk, people=[one_person()])
        assert time.monotonic() - started < 2
    finally:
        done.set()
        thread.join()
