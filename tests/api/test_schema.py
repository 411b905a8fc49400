"""The live OpenAPI schema, checked by schemathesis with its default checks against the running
app (in-process WSGI, on the test database), signed in with a fresh token per request."""

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts.services import create_api_token
from mpaspor.wsgi import application
from tests.factories import OfficeFactory, SlotFactory, UserFactory

# Loaded at collection from the app itself (no database needed for the schema). Not through
# schemathesis.pytest.from_fixture: its lazy loader breaks on pytest 9 (Function._nodeid).
#
# All default checks run. One setting differs: for these operations schema-valid input can still
# be refused with 400 `invalid`, because the rule spans fields or data OpenAPI cannot express (a
# NIK must match the birth date and sex, also when it is contested; a password must not be common
# or all digits; wrong credentials; the date to come earlier from must fall before the visit).
# Everything else must be accepted (2xx, or 401/403/404/409/429).
SEMANTIC_400 = [
    "auth_register",
    "auth_login",
    "applications_create",
    "applications_earlier",
    "releases_entries_create",
    "waitlist_create",
    "offers_accept",
    "nik_disputes_create",
]
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                "include-operation-id": SEMANTIC_400,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
                    }
                },
            }
        ]
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application, config=CONFIG)


@pytest.fixture
def wsgi_on_test_database(db, settings):
    settings.RATE_LIMITS_ENABLED = False  # thousands of requests from one address
    # As Django's test client does: the app must not close the test's connection (and with it
    # the test's transaction) at the end of each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def account(wsgi_on_test_database):
    slot = SlotFactory(office=OfficeFactory(code="kanim-kediri"))
    return UserFactory(email="schema@example.com"), slot


@schema.parametrize()
# Derandomized: the same examples on every run, so CI's verdict does not depend on the draw (run
# with a larger max_examples and `--hypothesis-seed` when exploring).
@hypothesis_settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, account):
    user, _ = account
    case.call_and_validate(headers={"Authorization": f"Token {create_api_token(user=user)}"})


def test_schema_documents_every_answer_of_every_operation(anon, db):
    document = anon.get("/api/v1/schema/?format=json", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    expected = {
        ("/api/v1/auth/register/", "post"): {"202", "400", "429"},
        ("/api/v1/auth/login/", "post"): {"200", "400", "429"},
        ("/api/v1/auth/logout/", "post"): {"204", "401", "429"},
        ("/api/v1/offices/", "get"): {"200", "400", "429"},
        ("/api/v1/offices/{code}/availability/", "get"): {"200", "400", "404", "429"},
        ("/api/v1/applications/", "post"): {"201", "400", "401", "403", "404", "409", "429"},
        ("/api/v1/applications/", "get"): {"200", "401", "429"},
        ("/api/v1/applications/{booking_code}/", "get"): {"200", "401", "404", "429"},
        ("/api/v1/applications/{booking_code}/cancel/", "post"): {"200", "401", "404", "409", "429"},
        ("/api/v1/applications/{booking_code}/reschedule/", "post"): {"200", "400", "401", "404", "409", "429"},
        ("/api/v1/applications/{booking_code}/earlier/", "post"): {"200", "400", "401", "404", "409", "429"},
        ("/api/v1/applications/{booking_code}/earlier/stop/", "post"): {"200", "401", "404", "429"},
        ("/api/v1/offices/{code}/releases/", "get"): {"200", "404", "429"},
        ("/api/v1/releases/{release_id}/entries/", "post"): {"201", "400", "401", "403", "404", "409", "429"},
        ("/api/v1/releases/{release_id}/draw/", "get"): {"200", "404", "409", "429"},
        ("/api/v1/entries/", "get"): {"200", "401", "429"},
        ("/api/v1/entries/{entry_id}/", "get"): {"200", "401", "404", "429"},
        ("/api/v1/entries/{entry_id}/withdraw/", "post"): {"200", "401", "404", "409", "429"},
        ("/api/v1/waitlist/", "post"): {"201", "400", "401", "404", "409", "429"},
        ("/api/v1/waitlist/", "get"): {"200", "401", "429"},
        ("/api/v1/waitlist/{waiting_id}/withdraw/", "post"): {"200", "401", "404", "429"},
        ("/api/v1/offers/", "get"): {"200", "401", "429"},
        ("/api/v1/offers/{offer_id}/accept/", "post"): {"201", "401", "404", "409", "429"},
        ("/api/v1/offers/{offer_id}/decline/", "post"): {"200", "401", "404", "409", "429"},
        ("/api/v1/offices/{code}/nearby/", "get"): {"200", "400", "404", "429"},
        ("/api/v1/status/", "get"): {"200", "429"},
        ("/api/v1/nik-disputes/", "post"): {"201", "400", "401", "403", "409", "413", "415", "422", "429"},
        ("/api/v1/nik-disputes/", "get"): {"200", "401", "429"},
    }
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert statuses <= set(responses), (path, method, set(responses))
        for status in set(responses) - {"200", "201", "202", "204"}:
            assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert document["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"


def test_schema_is_valid_openapi_without_generator_warnings(tmp_path):
    # Warnings are how drf-spectacular reports guessed types and colliding component names.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/applications/{booking_code}/reschedule/" in (tmp_path / "schema.yaml").read_text()


def test_every_operation_documents_the_503_of_a_database_failure(client):
    document = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = [op for path in document["paths"].values() for op in path.values() if isinstance(op, dict)]
    assert operations and all("503" in op["responses"] for op in operations)
    booking = document["paths"]["/api/v1/applications/"]["post"]["responses"]["503"]
    assert "unavailable" in booking["description"] and "Retry-After" in booking["description"]
