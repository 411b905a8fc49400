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
    return Waiting.objects.create(office=OfficeFactory(), account=UserFactory(), date_from=TODAY, date_to=TODAY)


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
    entry = Entry.objects.create(release=release, account=waiting.account)
    with pytest.raises(DuplicateEntry), transaction.atomic():
        add_seekers(people=[_person(), person], entry=entry)
    assert not Seeker.objects.filter(entry=entry).exists()


def test_a_closed_row_frees_the_nik(waiting):
    person = _person()
    with transaction.atomic():
        add_seekers(people=[person], waiting=waiting)
    Seeker.objects.update(is_open=False)
    with transaction.atomic():
        add_seekers(
            people=[person],
            waiting=Waiting.objects.create(
                office=waiting.office, account=waiting.account, date_from=TODAY, date_to=TODAY
            ),
        )
    assert Seeker.objects.filter(nik=person.applicant.nik, is_open=True).count() == 1


def test_a_nik_with_an_active_application_cannot_wait(waiting):
    application = ApplicationFactory()
    person = _person(nik=application.nik)
    with pytest.raises(DuplicateApplication), transaction.atomic():
        add_seekers(people=[person], waiting=waiting)
    assert not Seeker.objects.exists()
