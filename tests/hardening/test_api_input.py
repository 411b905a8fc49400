"""Bad input through the API: 400 `invalid` in the error shape, no 500, nothing stored."""

import json

import pytest

from appointments.models import Application
from tests.api.conftest import assert_error, client_for
from tests.api.test_applications import APPLICATIONS, assert_nothing_booked, booking_body
from tests.factories import UserFactory

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def api(db):
    return client_for(UserFactory())


BAD = {
    "script in name": {"applicant": {"full_name": SCRIPT}},
    "html in name": {"applicant": {"full_name": 'Budi <img src=x onerror="alert(1)">'}},
    "oversized name": {"applicant": {"full_name": "A" * 100_000}},
    "NUL in name": {"applicant": {"full_name": "Budi\x00Santoso"}},
    "name as a number": {"applicant": {"full_name": 123}},
    "name as an object": {"applicant": {"full_name": {"$gt": ""}}},
    "NIK as a number": {"applicant": {"nik": 3571011705900001}},
    "oversized NIK": {"applicant": {"nik": "3" * 100_000}},
    "NIK with unicode digits": {"applicant": {"nik": "٣٥٧١٠١١٧٠٥٩٠٠٠٠١"}},
    "birth date as a number": {"applicant": {"birth_date": 19900517}},
    "birth date malformed": {"applicant": {"birth_date": "17/05/1990"}},
    "sex as a list": {"applicant": {"sex": ["M"]}},
    "applicant as a string": {"applicant": "Budi"},
    "slot as a string": {"slot": "1"},
    "slot as a float": {"slot": 1.5},
    "slot as a bool": {"slot": True},
    "slot huge": {"slot": 10**30},
    "validity as a string": {"validity_years": "10"},
    "express as a string": {"express": "yes"},
    "kind as null": {"application_kind": None},
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_api_input_is_400_invalid_and_stores_nothing(api, slot, case):
    overrides = json.loads(json.dumps(BAD[case]))
    body = booking_body(slot)
    if isinstance(overrides.get("applicant"), dict):
        body["applicant"].update(overrides.pop("applicant"))
    body.update(overrides)
    response = api.post(APPLICATIONS, body, format="json")
    error = assert_error(response, 400, "invalid")
    assert error["errors"], error
    assert SCRIPT not in response.content.decode()
    assert_nothing_booked(slot)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw, content_type",
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b'{"slot": 1' + b" " * 10 + b"}", "application/json"),
        (b"slot=1&passport_type=regular", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00garbage", "application/json"),
    ],
)
def test_malformed_bodies_are_clean_4xx_and_store_nothing(api, slot, raw, content_type):
    response = api.generic("POST", APPLICATIONS, raw, content_type=content_type)
    assert 400 <= response.status_code < 500, response.content
    body = response.json()
    assert body["code"] and body["detail"]
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_oversized_body_is_refused_and_stores_nothing(api, slot):
    body = booking_body(slot, applicant={"full_name": "A" * 3_000_000})
    response = api.post(APPLICATIONS, body, format="json")
    assert 400 <= response.status_code < 500
    assert not Application.objects.exists()
