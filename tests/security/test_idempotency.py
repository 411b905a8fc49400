"""`Idempotency-Key` on the API's creating call (POST applications/): a booking whose answer was
lost (a dropped connection after the commit) is retried with the same key and gets the first
answer, not `duplicate_application`; the key is per account and path, kept 24 hours, stored in
the booking's transaction. And only a NIK collision is reported as a duplicate."""

import datetime as dt
import sqlite3

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.idempotency import _stored_answer_sql, purge_idempotency_keys
from accounts.models import IdempotencyKey
from appointments.exceptions import DuplicateApplication
from appointments.models import NIK_CONSTRAINT, Application
from appointments.services import booking
from mpaspor.db import fetch, violates
from quotas.models import Slot
from tests.api.conftest import assert_error, client_for
from tests.api.test_applications import APPLICATIONS, booking_body
from tests.factories import ApplicationFactory, SlotFactory, UserFactory, applicant_data, book_one
from tests.security.test_cancel_reschedule_race import slot_row_held, start_request, wait_until_waiting_for_locks

KEY = "5b0e0f0e-6c1a-4a8e-9d57-3f1d2f0c9b11"
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "mpaspor.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


def book(api, body, key=KEY):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(APPLICATIONS, body, format="json", **headers)


def assert_booked(slot, count):
    assert Slot.objects.get(pk=slot.pk).taken == count == Application.objects.filter(slot=slot).count()


@pytest.fixture
def account(db):
    return UserFactory()


@pytest.fixture
def api(account):
    return client_for(account)


@pytest.mark.django_db
class TestRetry:
    def test_a_retry_gets_the_first_answer_and_books_once(self, api, slot):
        body = booking_body(slot)
        first = book(api, body)
        assert first.status_code == 201
        retry = book(api, body)  # the phone never saw the first answer
        assert retry.status_code == 201 and retry.content == first.content
        assert retry["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
        assert_booked(slot, 1)

    def test_without_a_key_the_retry_is_refused_as_a_duplicate(self, api, slot):
        """What the key is for: the app learns its booking code only from the first answer."""
        body = booking_body(slot)
        assert book(api, body, key=None).status_code == 201
        assert_error(book(api, body, key=None), 409, "duplicate_application")

    def test_the_same_key_with_another_body_is_422_and_creates_nothing(self, api, slot):
        assert book(api, booking_body(slot)).status_code == 201
        assert_error(book(api, booking_body(slot)), 422, "idempotency_mismatch")
        assert_booked(slot, 1)

    def test_the_key_is_per_account(self, api, slot):
        assert book(api, booking_body(slot)).status_code == 201
        assert book(client_for(UserFactory()), booking_body(slot)).status_code == 201
        assert_booked(slot, 2)

    def test_a_refusal_stores_nothing_and_its_retry_runs_again(self, api, slot):
        body = booking_body(slot)
        Slot.objects.filter(pk=slot.pk).update(taken=slot.capacity)
        assert_error(book(api, body), 409, "slot_full")
        assert not IdempotencyKey.objects.exists()
        Slot.objects.filter(pk=slot.pk).update(taken=0)
        assert book(api, body).status_code == 201

    @pytest.mark.parametrize("key", ["", " ", "k" * 256, "schlüssel", "a\tb"])
    def test_a_malformed_key_is_400_naming_the_header(self, api, slot, key):
        body = assert_error(book(api, booking_body(slot), key=key), 400, "invalid")
        assert list(body["errors"]) == ["Idempotency-Key"]
        assert_booked(slot, 0)

    def test_the_key_costs_a_lookup_and_an_insert_and_nothing_without_it(self, api, slot, django_assert_num_queries):
        # Without the header: the 8 of test_booking_is_a_fixed_number_of_queries. With it: the
        # lookup before, and the key's row in the booking's transaction.
        with django_assert_num_queries(8):
            assert book(api, booking_body(slot), key=None).status_code == 201
        with django_assert_num_queries(10):
            assert book(api, booking_body(slot)).status_code == 201


@pytest.mark.django_db
def test_kept_24_hours(account):
    now = timezone.now()
    for age_hours in (23, 25):
        IdempotencyKey.objects.create(
            account=account,
            path=APPLICATIONS,
            key=f"key-{age_hours}",
            request_hash="0" * 64,
            status_code=201,
            response_body="{}",
            created_at=now - dt.timedelta(hours=age_hours),
        )
    assert purge_idempotency_keys(now=now) == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["key-23"]


def test_the_purge_runs_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-purge-idempotency-keys"]
    assert entry["task"] == "accounts.purge_idempotency_keys"


@pytest.mark.django_db
def test_the_schema_documents_the_header_and_its_answers():
    schema = APIClient().get("/api/v1/schema/?format=json", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/applications/"]["post"]
    [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header" and not header.get("required")
    assert "idempotency_mismatch" in operation["responses"]["422"]["description"]
    assert "request_in_progress" in operation["responses"]["409"]["description"]


# --- At the same moment, on PostgreSQL with threads -------------------------------------------


@pytest.fixture
def race(transactional_db):
    slot = SlotFactory(capacity=5)
    api = client_for(UserFactory())
    api.raise_request_exception = True
    body = booking_body(slot)
    return slot, body, lambda: book(api, body)


def test_a_retry_while_the_first_runs_is_409_then_gets_the_first_answer(race):
    slot, _body, send = race
    with slot_row_held(slot):  # the first request waits inside its transaction, holding the key
        first, first_answer = start_request(send)
        wait_until_waiting_for_locks(1)
        assert_error(send(), 409, "request_in_progress")
    first.join(20)
    assert first_answer["status"] == 201, first_answer
    retry = send()
    assert retry.status_code == 201 and retry.json() == first_answer["body"]
    assert_booked(slot, 1)


def test_with_the_cache_down_two_at_once_book_once_and_both_get_the_answer(race):
    """Without the lock in the cache, the database still decides: the second waits for the
    first's transaction, is refused, and finds the first's answer."""
    slot, _body, send = race
    with override_settings(CACHES=UNREACHABLE_CACHE, RATE_LIMITS_ENABLED=False):
        with slot_row_held(slot):
            first, first_answer = start_request(send)
            wait_until_waiting_for_locks(1)
            second, second_answer = start_request(send)
            wait_until_waiting_for_locks(2)
        first.join(20)
        second.join(20)
    assert first_answer["status"] == second_answer["status"] == 201, (first_answer, second_answer)
    assert first_answer["body"] == second_answer["body"]
    assert_booked(slot, 1)


# --- Only a NIK collision is a duplicate --------------------------------------------------------


@pytest.mark.django_db
def test_another_violation_in_the_booking_is_not_reported_as_a_duplicate_nik(applicant_user, slot, monkeypatch):
    taken = ApplicationFactory(slot=slot)
    monkeypatch.setattr(booking, "new_booking_code", lambda: taken.booking_code)  # a collision of random codes
    with pytest.raises(IntegrityError) as raised:
        book_one(
            account=applicant_user,
            slot_id=slot.pk,
            applicant=applicant_data(),
            passport_type="regular",
            validity_years=5,
            kind="new",
        )
    assert not isinstance(raised.value, DuplicateApplication)
    assert_booked(slot, 1)


@pytest.mark.django_db
def test_a_nik_collision_is_known_by_its_constraint_on_both_databases(applicant_user, slot):
    person = applicant_data()
    ApplicationFactory(slot=slot, nik=person.nik)
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        ApplicationFactory(slot=slot, nik=person.nik)
    assert violates(raised.value, Application, NIK_CONSTRAINT)  # PostgreSQL names the index
    sqlite_error = IntegrityError()  # as Django wraps SQLite's, which names the columns
    sqlite_error.__cause__ = sqlite3.IntegrityError("UNIQUE constraint failed: appointments_application.nik")
    assert violates(sqlite_error, Application, NIK_CONSTRAINT)
    sqlite_error.__cause__ = sqlite3.IntegrityError("UNIQUE constraint failed: appointments_application.booking_code")
    assert not violates(sqlite_error, Application, NIK_CONSTRAINT)


@pytest.mark.django_db
def test_the_written_out_lookup_finds_what_the_orm_finds(account):
    IdempotencyKey.objects.create(
        account=account, path=APPLICATIONS, key="k", request_hash="a" * 64, status_code=201, response_body='{"x": 1}'
    )
    other = UserFactory()
    for who, path, key in [
        (account, APPLICATIONS, "k"),
        (other, APPLICATIONS, "k"),
        (account, "/x/", "k"),
        (account, APPLICATIONS, "K"),
    ]:
        orm = IdempotencyKey.objects.filter(account=who, path=path, key=key)
        written = fetch("stored_answer", _stored_answer_sql(), [who.pk, path, key])
        assert [tuple(row) for row in written] == list(orm.values_list("request_hash", "status_code", "response_body"))
