"""The inputs that answered 500 on a production-like server, each answered 400 now (in the
API's error shape, or as a translated page) with nothing stored. The fuzz test
(test_fuzz_inputs.py) sends the same classes of input to every URL; these name each case."""

import datetime as dt
import json

import pytest
from django.db import DataError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from accounts.models import User
from appointments.gateway import sign
from appointments.models import Application, Payment, Status
from mpaspor.api import exception_handler
from tests.api.conftest import assert_error, client_for
from tests.api.test_applications import APPLICATIONS, booking_body
from tests.factories import ApplicationFactory, UserFactory

NOTIFY = "/api/v1/payments/notify/"


def assert_bad_input_page(response):
    assert response.status_code == 400
    page = response.content.decode()
    assert "Permintaan tidak dapat diproses" in page and "Tidak ada yang diubah" in page  # Indonesian first


@pytest.mark.django_db
class TestApi:
    @pytest.mark.parametrize("path", ["/api/v1/auth/login/", "/api/v1/auth/register/"])
    def test_a_body_of_nested_arrays_is_400_without_login(self, path):
        """2 KB of "[[[[": Python's json module ran out of stack (RecursionError) before any check.
        (The endpoints that need a token or a signature read no body without one.)"""
        response = Client().generic("POST", path, b"[" * 2048, content_type="application/json")
        assert_error(response, 400, "invalid")

    def test_nesting_deeper_than_any_input_is_refused_by_the_parser_even_when_closed(self):
        body = json.dumps({"email": json.loads("[" * 100 + "]" * 100), "password": "x"}).encode()
        response = Client().generic("POST", "/api/v1/auth/login/", body, content_type="application/json")
        assert "errors" not in assert_error(response, 400, "invalid")  # the body, not a field, is at fault

    @pytest.mark.parametrize("text", ["\ud800", "\udc00x", "a\x00b"], ids=["high surrogate", "low surrogate", "NUL"])
    def test_a_lone_surrogate_or_a_nul_in_a_json_string_is_400_and_books_nothing(self, slot, text):
        """A choice field quoted the surrogate back in its message, and encoding that 400 failed."""
        body = booking_body(slot, passport_type=text, applicant={"full_name": text})
        response = client_for(UserFactory()).generic(
            "POST", APPLICATIONS, json.dumps(body).encode(), content_type="application/json"
        )
        assert list(assert_error(response, 400, "invalid")["errors"]) == ["passport_type"]  # the first at fault
        assert not Application.objects.exists()

    def test_a_lone_surrogate_in_a_key_is_400(self):
        body = json.dumps({"email\udfff": "a@example.com", "password": "x"}).encode()
        assert_error(Client().post("/api/v1/auth/login/", body, content_type="application/json"), 400, "invalid")

    def test_a_nul_in_the_path_or_the_query_is_400_in_the_error_shape(self):
        assert_error(client_for(UserFactory()).get(f"{APPLICATIONS}%00/"), 400, "invalid")
        body = assert_error(Client().get("/api/v1/offices/?region=%00"), 400, "invalid")
        assert list(body["errors"]) == ["region"]

    def test_a_value_the_database_refuses_is_400_not_500(self):
        request = APIRequestFactory().get(APPLICATIONS)
        response = exception_handler(DataError("integer out of range"), {"request": request, "view": None})
        assert response.status_code == 400 and response.data["code"] == "invalid"


@pytest.mark.django_db
class TestPages:
    def test_a_nul_in_the_path_is_the_400_page(self, client, applicant_user):
        client.force_login(applicant_user)
        for path in ["/applications/%00/", "/applications/%00/cancel/", "/offices/%00/"]:
            assert_bad_input_page(client.get(path))

    def test_a_nul_in_a_form_field_is_the_400_page_and_creates_nothing(self, client):
        form = {"email": "baru@example.com", "full_name": "Budi\x00", "password1": "Rahasia-Kuat-123"}
        assert_bad_input_page(client.post("/accounts/signup/", {**form, "password2": form["password1"]}))
        assert not User.objects.filter(email="baru@example.com").exists()

    def test_a_nul_in_the_session_cookie_is_400_not_a_query(self, client):
        client.cookies["sessionid"] = "\x00" * 32
        assert_bad_input_page(client.get("/applications/"))

    def test_a_nul_in_a_header_is_400(self, client):
        assert_bad_input_page(client.get("/", HTTP_USER_AGENT="Mozilla\x00"))

    def test_the_page_is_in_english_when_asked(self, client):
        response = client.get("/offices/%00/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400 and "The request cannot be processed" in response.content.decode()


@pytest.mark.django_db(transaction=True)  # the refused statement must not end the test's own transaction
def test_admin_filters_with_a_nul_or_an_invalid_regular_expression_are_400(world):
    client = Client()
    client.force_login(world.superuser)
    for query in ["?status__exact=%00", "?nik=%00", "?nik__regex=(", "?id__regex=("]:
        assert_bad_input_page(client.get(f"/admin/appointments/application/{query}"))


@pytest.mark.django_db
def test_a_report_of_a_month_out_of_range_is_a_form_error(client, world):
    client.force_login(world.jatim_regional)
    for month in ["9999-12", "0001-01"]:
        response = client.get(f"/reports/?month={month}")
        assert response.status_code == 400
        assert "Pilih bulan dari 2000-01 sampai" in response.content.decode()


@pytest.mark.django_db
class TestSignedPaymentNotice:
    """A valid signature does not make a notice well formed."""

    @pytest.fixture
    def pending(self, slot):
        return ApplicationFactory(slot=slot, status=Status.PENDING_PAYMENT, amount=650_000)

    def notice(self, pending, **changes) -> bytes:
        fields = {
            "transaction_id": '"TX-1"',
            "billing_code": f'"{pending.billing_code}"',
            "amount": "650000",
            "paid_at": f'"{timezone.now().isoformat()}"',
            "timestamp": str(int(timezone.now().timestamp())),
            "gateway": '"simponi"',
            **changes,
        }
        return ("{" + ", ".join(f'"{name}": {value}' for name, value in fields.items()) + "}").encode()

    @pytest.mark.parametrize(
        "changes",
        [
            {"timestamp": "1e400"},
            {"amount": str(10**30)},
            {"amount": "1e400"},
            {"amount": "-1"},
            {"amount": "true"},
            {"amount": '"６５００００"'},  # fullwidth digits, which int() would take
            {"billing_code": '"12345\\u0000"'},
            {"transaction_id": '"TX\\u0000"'},
            {"gateway": '"simponi\\u0000"'},
            {"transaction_id": '"TX\\ud800"'},
            {"transaction_id": "[" * 2000 + "]" * 2000},
        ],
        ids=lambda changes: ", ".join(f"{k}={v[:12]}" for k, v in changes.items()),
    )
    def test_is_400_and_records_nothing(self, client, pending, changes):
        body = self.notice(pending, **changes)
        response = client.post(NOTIFY, body, content_type="application/json", HTTP_X_SIGNATURE=sign(body))
        assert response.status_code == 400 and response.json()["code"] == "invalid", response.content
        assert not Payment.objects.exists()
        pending.refresh_from_db()
        assert pending.status == Status.PENDING_PAYMENT

    def test_a_well_formed_one_still_books(self, client, pending):
        body = self.notice(pending, paid_at=f'"{(timezone.now() - dt.timedelta(minutes=1)).isoformat()}"')
        response = client.post(NOTIFY, body, content_type="application/json", HTTP_X_SIGNATURE=sign(body))
        assert response.status_code == 200 and response.json()["code"] == "booked"
