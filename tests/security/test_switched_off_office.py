"""A switched-off office (`is_active` off) gives no place to anyone, whichever way is tried:
booking through the API or the web page, moving an application onto one of its sessions, or
reading its availability. The rule lives in the services, so every path keeps it."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Application, Status
from quotas.models import Slot
from tests.api.conftest import assert_error, client_for
from tests.api.test_applications import APPLICATIONS, booking_body
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data


def session(office, days_ahead):
    start = dt.datetime.combine(
        timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days_ahead),
        dt.time(8),
        tzinfo=office.tzinfo,
    )
    return SlotFactory(office=office, starts_at=start, date=start.date(), capacity=10)


def switch_off(office):
    office.is_active = False
    office.save(update_fields=["is_active"])


@pytest.fixture
def office(db):
    return OfficeFactory(code="kanim-tutup", name="Kanim Tutup")


@pytest.fixture
def account(db):
    return UserFactory(email="pemohon.tutup@example.com")


def assert_taken(*slots_and_counts):
    for slot, taken in slots_and_counts:
        assert Slot.objects.get(pk=slot.pk).taken == taken
        assert Application.objects.filter(slot=slot).count() == taken


@pytest.mark.django_db
class TestSwitchedOffOffice:
    def test_the_api_books_no_slot_of_it(self, office, account):
        slot = session(office, 3)
        switch_off(office)
        response = client_for(account).post(APPLICATIONS, booking_body(slot), format="json")
        assert_error(response, 404, "not_found")
        assert_taken((slot, 0))

    def test_the_booking_page_shows_and_books_no_slot_of_it(self, client, office, account):
        slot = session(office, 3)
        switch_off(office)
        client.force_login(account)
        assert client.get(f"/book/{slot.pk}/").status_code == 404
        person = applicant_data()
        form = {
            "nik": person.nik,
            "full_name": person.full_name,
            "birth_date": person.birth_date.isoformat(),
            "sex": person.sex,
            "phone": person.phone,
            "passport_type": "regular",
            "validity_years": "5",
            "application_kind": "new",
        }
        assert client.post(f"/book/{slot.pk}/", form).status_code == 404
        assert_taken((slot, 0))

    def test_its_availability_is_not_shown(self, client, office):
        slot = session(office, 3)
        switch_off(office)
        assert_error(client.get(f"/api/v1/offices/{office.code}/availability/"), 404, "not_found")
        assert client.get(f"/offices/{office.code}/").status_code == 404
        assert client.get(f"/offices/{office.code}/{slot.date.isoformat()}/").status_code == 404

    def test_the_api_moves_no_application_onto_its_sessions(self, office, account):
        booked, other = session(office, 3), session(office, 5)
        application = ApplicationFactory(account=account, slot=booked, status=Status.PENDING_PAYMENT)
        switch_off(office)
        response = client_for(account).post(
            f"{APPLICATIONS}{application.booking_code}/reschedule/", {"slot": other.pk}, format="json"
        )
        assert_error(response, 404, "not_found")
        application.refresh_from_db()
        assert application.slot_id == booked.pk and application.reschedule_count == 0
        assert_taken((booked, 1), (other, 0))

    def test_the_reschedule_page_offers_and_takes_none_of_its_sessions(self, client, office, account):
        booked, other = session(office, 3), session(office, 5)
        application = ApplicationFactory(account=account, slot=booked, status=Status.PENDING_PAYMENT)
        switch_off(office)
        client.force_login(account)
        url = f"/applications/{application.booking_code}/reschedule/"
        page = client.get(url)
        assert page.status_code == 200
        assert f'value="{other.pk}"' not in page.content.decode()
        answer = client.post(url, {"slot": other.pk})
        assert answer.status_code == 200  # the form says the choice is not one of the offered ones
        application.refresh_from_db()
        assert application.slot_id == booked.pk and application.reschedule_count == 0
        assert_taken((booked, 1), (other, 0))
