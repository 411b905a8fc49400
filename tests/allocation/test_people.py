"""A NIK has at most one open place in a draw or on a waiting list, and none while it holds an
active application."""

import datetime as dt

import pytest
from django.db import transaction

from allocation.exceptions import DuplicateEntry
from allocation.models import Entry, Seeker, Waiting
from allocation.people import add_seekers
from appointments.exceptions import DuplicateApplication
from appointments.services.booking import PersonBooking
from tests.allocation.helpers import open_release
from tests.factories import ApplicationFactory, OfficeFactory, UserFactory, applicant_data

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 1, 1)


def _person(**applicant) -> PersonBooking:
    return PersonBooking(applicant=applicant_data(**applicant), passport_type="regular", validity_years=5, kind="new")


@pytest.fixture
def waiting():
    """A waiting row not stored yet: add_seekers inserts it with its people."""
    return Waiting(office=OfficeFactory(), account=UserFactory(), date_from=TODAY, date_to=TODAY)


def test_a_household_is_listed_with_its_passports(waiting):
    people = [_person(), _person(full_name="Ani Santoso", sex="F")]
    with transaction.atomic():
        add_seekers(people=people, waiting=waiting)
    rows = Seeker.objects.filter(waiting=waiting).order_by("pk")
    assert [row.as_person_booking() for row in rows] == people


def test_a_nik_open_elsewhere_refuses_the_whole_household(waiting):
    person = _person()
    with transaction.atomic():
        add_seekers(people=[person], waiting=waiting)
    release, _slots = open_release(office=waiting.office)
    entry = Entry(release=release, account=waiting.account)
    with pytest.raises(DuplicateEntry), transaction.atomic():
        add_seekers(people=[_person(), person], entry=entry)
    assert not Entry.objects.exists() and Seeker.objects.count() == 1


def test_a_closed_row_frees_the_nik(waiting):
    person = _person()
    with transaction.atomic():
        add_seekers(people=[person], waiting=waiting)
    Seeker.objects.update(is_open=False)
    with transaction.atomic():
        add_seekers(
            people=[person],
            waiting=Waiting(office=waiting.office, account=waiting.account, date_from=TODAY, date_to=TODAY),
        )
    assert Seeker.objects.filter(nik=person.applicant.nik, is_open=True).count() == 1


def test_a_nik_with_an_active_application_cannot_wait(waiting):
    application = ApplicationFactory()
    person = _person(nik=application.nik)
    with pytest.raises(DuplicateApplication), transaction.atomic():
        add_seekers(people=[person], waiting=waiting)
    assert not Seeker.objects.exists() and not Waiting.objects.exists()


def test_a_stored_owner_is_refused_rather_than_inserted_twice(waiting):
    waiting.save()
    with pytest.raises(ValueError), transaction.atomic():
        add_seekers(people=[_person()], waiting=waiting)
    assert Waiting.objects.count() == 1 and not Seeker.objects.exists()


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_both_ways_of_adding_a_household_store_the_same_rows(waiting, vendor, monkeypatch):
    """On PostgreSQL the NIKs' check and the inserts are one statement; the embedded default
    (SQLite) takes the same steps one by one (run here on PostgreSQL). Both store the owner and
    its people as save() would, and refuse a NIK with an active application without a row."""
    from django.db import connection

    people = [_person(), _person(full_name="Ani Santoso", sex="F")]
    monkeypatch.setattr(connection, "vendor", vendor)
    with transaction.atomic():
        seekers = add_seekers(people=people, waiting=waiting)
    with pytest.raises(DuplicateApplication), transaction.atomic():
        add_seekers(
            people=[_person(nik=ApplicationFactory().nik)],
            waiting=Waiting(office=waiting.office, account=waiting.account, date_from=TODAY, date_to=TODAY),
        )
    monkeypatch.undo()
    stored = Waiting.objects.get()
    assert (stored.pk, stored.office_id, stored.status, stored.joined_at) == (
        waiting.pk,
        waiting.office_id,
        "waiting",
        waiting.joined_at,
    )
    rows = list(Seeker.objects.filter(waiting=stored).order_by("pk"))
    assert [row.pk for row in rows] == [seeker.pk for seeker in seekers]
    assert [row.as_person_booking() for row in rows] == people
    assert all(row.is_open and row.entry_id is None for row in rows)
