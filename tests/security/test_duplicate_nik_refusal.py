"""Issue 14, item 3: the duplicate-NIK refusal.

A refusal cannot hide that a NIK is in use, so it says that and nothing more: one code and one
text whoever holds the NIK (this account or a stranger), no details of the other application.
Probing costs: each account may be refused REFUSED_NIKS_PER_DAY different NIKs of other
people's applications a day, counted (accounts.RefusedNik) as an abuse signal; beyond that its
bookings answer 429 until the day ends. Only a collision on the active-NIK index is a duplicate."""

import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import RefusedNik, User
from accounts.services import create_api_token
from appointments.exceptions import DuplicateApplication
from appointments.models import Application, Status
from appointments.services import booking
from tests.api.conftest import assert_error
from tests.api.test_applications import booking_body
from tests.factories import ApplicationFactory, SlotFactory, UserFactory, applicant_data, book_one

APPLICATIONS = "/api/v1/applications/"


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_api_token(user=user)}")
    return client


def body_for(slot, nik_holder: Application) -> dict:
    return booking_body(
        slot,
        applicant={
            "nik": nik_holder.nik,
            "birth_date": nik_holder.birth_date.isoformat(),
            "sex": nik_holder.sex,
        },
    )


@pytest.fixture
def slot(office):
    return SlotFactory(office=office, capacity=50)


@pytest.mark.django_db
def test_one_code_and_one_text_whoever_holds_the_nik(slot, settings):
    settings.RATE_LIMITS_ENABLED = False
    holder, stranger = UserFactory(), UserFactory()
    held = ApplicationFactory(account=holder, slot=slot, status=Status.BOOKED)
    own = assert_error(
        api_for(holder).post(APPLICATIONS, body_for(slot, held), format="json"), 409, "duplicate_application"
    )
    other = assert_error(
        api_for(stranger).post(APPLICATIONS, body_for(slot, held), format="json"), 409, "duplicate_application"
    )
    assert own == other  # the same body, word for word
    assert held.booking_code not in other["detail"] and held.slot.office.name not in other["detail"]


@pytest.mark.django_db
def test_refused_niks_of_other_people_are_capped_per_account_and_day(slot, settings):
    settings.RATE_LIMITS_ENABLED = False
    settings.REFUSED_NIKS_PER_DAY = 5
    prober = UserFactory()
    api = api_for(prober)
    held = [ApplicationFactory(slot=slot, status=Status.BOOKED) for _ in range(6)]
    for application in held[:5]:
        assert_error(api.post(APPLICATIONS, body_for(slot, application), format="json"), 409, "duplicate_application")
    assert RefusedNik.objects.filter(account=prober).count() == 5  # the abuse signal
    assert not RefusedNik.objects.filter(nik_digest__in=[a.nik for a in held]).exists()  # no NIK stored

    # Beyond the cap, every booking of the account is refused until the day ends, even a NIK
    # that is free, so the answers tell nothing more.
    for body in (body_for(slot, held[5]), booking_body(slot)):
        response = api.post(APPLICATIONS, body, format="json")
        assert_error(response, 429, "throttled")
        wait = int(response["Retry-After"])
        midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time()))
        assert abs(wait - (midnight - timezone.now()).total_seconds()) < 5
    assert not Application.objects.filter(account=prober).exists()
    assert User.objects.get(pk=prober.pk).bookings_paused_until == midnight

    # The next day the account books again.
    prober.refresh_from_db()
    book_one(
        account=prober,
        slot_id=slot.pk,
        applicant=applicant_data(),
        passport_type="regular",
        validity_years=5,
        kind="new",
        now=midnight + dt.timedelta(minutes=1),
    )


@pytest.mark.django_db
def test_the_same_nik_tried_again_counts_once(slot, settings):
    settings.REFUSED_NIKS_PER_DAY = 2
    prober, held = UserFactory(), ApplicationFactory(slot=slot, status=Status.BOOKED)
    person = applicant_data(nik=held.nik, birth_date=held.birth_date, sex=held.sex)
    for _ in range(4):
        with pytest.raises(DuplicateApplication):
            book_one(
                account=prober, slot_id=slot.pk, applicant=person, passport_type="regular", validity_years=5, kind="new"
            )
    assert RefusedNik.objects.get(account=prober).attempts == 4
    prober.refresh_from_db()
    assert prober.bookings_paused_until is None


@pytest.mark.django_db
def test_the_accounts_own_applications_do_not_count_as_probing(slot, settings):
    settings.REFUSED_NIKS_PER_DAY = 1
    account = UserFactory()
    own = ApplicationFactory(account=account, slot=slot, status=Status.BOOKED)
    person = applicant_data(nik=own.nik, birth_date=own.birth_date, sex=own.sex)
    for _ in range(3):
        with pytest.raises(DuplicateApplication):
            book_one(
                account=account,
                slot_id=slot.pk,
                applicant=person,
                passport_type="regular",
                validity_years=5,
                kind="new",
            )
    assert not RefusedNik.objects.exists()


@pytest.mark.django_db
def test_the_web_form_shows_the_same_text(client, slot):
    from tests.appointments.test_views import form_data

    held = ApplicationFactory(slot=slot, status=Status.BOOKED)
    client.force_login(UserFactory())
    response = client.post(
        f"/book/{slot.pk}/",
        form_data(nik=held.nik, birth_date=held.birth_date.isoformat(), sex=held.sex),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "This NIK already has an active application. If it is yours" in response.content.decode()
    assert held.booking_code not in response.content.decode()


@pytest.mark.django_db
def test_another_integrity_error_is_not_reported_as_a_duplicate_nik(slot, monkeypatch):
    """A booking code that collided (or any other unique row) is a fault, never "duplicate NIK"."""
    taken = ApplicationFactory(slot=slot, status=Status.BOOKED)
    monkeypatch.setattr(booking, "new_booking_code", lambda: taken.booking_code)
    with pytest.raises(IntegrityError) as error:
        book_one(
            account=UserFactory(),
            slot_id=slot.pk,
            applicant=applicant_data(),
            passport_type="regular",
            validity_years=5,
            kind="new",
        )
    assert not isinstance(error.value, DuplicateApplication)
    assert not RefusedNik.objects.exists()
