"""The booking path's cost in queries: a release burst is mostly refusals of a sold-out slot,
so a refusal must be cheap (bench/REPORT.md measured what each query costs)."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Application, Status
from quotas.exceptions import NotOpenYet, SlotFull
from tests.factories import ApplicationFactory, SlotFactory, book_one


def book(account, slot):
    return book_one(account=account, slot_id=slot.pk)


@pytest.mark.django_db
def test_refusing_a_sold_out_slot_costs_one_query(applicant_user, office, django_assert_num_queries):
    full = SlotFactory(office=office, capacity=1)
    ApplicationFactory(slot=full, status=Status.PENDING_PAYMENT)
    with django_assert_num_queries(1), pytest.raises(SlotFull):
        book(applicant_user, full)


@pytest.mark.django_db
def test_refusing_a_slot_not_open_yet_costs_one_query(applicant_user, office, django_assert_num_queries):
    later = SlotFactory(office=office, opens_at=timezone.now() + dt.timedelta(minutes=5))
    with django_assert_num_queries(1), pytest.raises(NotOpenYet):
        book(applicant_user, later)


@pytest.mark.django_db
def test_a_sold_out_slot_with_an_overdue_hold_still_books(applicant_user, office):
    full = SlotFactory(office=office, capacity=1)
    hold = ApplicationFactory(
        slot=full, status=Status.PENDING_PAYMENT, payment_due_at=timezone.now() - dt.timedelta(minutes=1)
    )
    application = book(applicant_user, full)
    hold.refresh_from_db()
    assert hold.status == Status.EXPIRED and application.status == Status.PENDING_PAYMENT


@pytest.mark.django_db
def test_a_booking_costs_a_bounded_number_of_queries(applicant_user, slot, django_assert_num_queries):
    # slot, fee, then in the transaction the account's lock, its people, and one statement: the
    # claim and the inserts of the application, its event and its outbox row (+ SAVEPOINT and RELEASE).
    with django_assert_num_queries(7):
        book(applicant_user, slot)
    assert Application.objects.count() == 1
