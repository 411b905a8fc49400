import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import override_settings

from tests.api.conftest import assert_error, client_for
from tests.factories import UserFactory

RATES = {"ip": "1000/min", "account": "3/min", "auth": "2/min"}


@pytest.fixture(autouse=True)
def _small_rates(settings):
    """Counters in Redis, out of reach of the other tests: every test starts with cache.clear()
    (a FLUSHDB), which under xdist would reset this test's counters halfway. So these tests count
    in another Redis database (the given one + 8) under a key prefix of their own."""
    url = urlsplit(os.environ["REDIS_URL"])
    db = (int(url.path.strip("/") or 0) + 8) % 16
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": urlunsplit(url._replace(path=f"/{db}")),
            "KEY_PREFIX": uuid.uuid4().hex,
        }
    }
    settings.API_THROTTLE_RATES = RATES
    settings.RATE_LIMITS_ENABLED = True


@pytest.mark.django_db
class TestThrottling:
    def test_per_account(self, api):
        for _ in range(3):
            assert api.get("/api/v1/applications/").status_code == 200
        response = api.get("/api/v1/applications/")
        body = assert_error(response, 429, "throttled")
        assert 1 <= int(response["Retry-After"]) <= 60
        assert body["detail"]
        # Another account from the same address is not held back.
        assert client_for(UserFactory()).get("/api/v1/applications/").status_code == 200

    def test_per_ip(self, anon):
        with override_settings(API_THROTTLE_RATES={**RATES, "ip": "2/min"}):
            assert anon.get("/api/v1/offices/").status_code == 200
            assert anon.get("/api/v1/offices/", REMOTE_ADDR="10.0.0.2").status_code == 200
            assert anon.get("/api/v1/offices/").status_code == 200
            assert_error(anon.get("/api/v1/offices/"), 429, "throttled")
            # X-Forwarded-For is not trusted without API_NUM_PROXIES: no escape by a forged header.
            assert_error(anon.get("/api/v1/offices/", HTTP_X_FORWARDED_FOR="10.9.9.9"), 429, "throttled")
            assert anon.get("/api/v1/offices/", REMOTE_ADDR="10.0.0.2").status_code == 200

    def test_login_and_sign_up_are_limited_per_ip(self, anon, user):
        for _ in range(2):
            anon.post("/api/v1/auth/login/", {"email": "budi@example.com", "password": "salah"}, format="json")
        assert_error(
            anon.post(
                "/api/v1/auth/login/", {"email": "budi@example.com", "password": "Rahasia-Kuat-123"}, format="json"
            ),
            429,
            "throttled",
        )
        assert_error(anon.post("/api/v1/auth/register/", {}, format="json"), 429, "throttled")

    def test_entering_a_draw_is_limited_per_account_and_keeps_nothing(self, api):
        from allocation.models import Entry, Seeker
        from tests.allocation.helpers import api_person, open_release

        release, slots = open_release(places=(2,))
        url = f"/api/v1/releases/{release.pk}/entries/"
        valid = {"people": [api_person()], "choices": [slots[0].pk]}
        with override_settings(API_THROTTLE_RATES={**RATES, "account": "100/min", "draw_entry": "2/min"}):
            for _ in range(2):
                assert_error(api.post(url, {"people": [], "choices": []}, format="json"), 400, "invalid")
                assert api.get("/api/v1/entries/").status_code == 200  # reading is not entering
            response = api.post(url, valid, format="json")
            body = assert_error(response, 429, "throttled")
            assert body["detail"] and 1 <= int(response["Retry-After"]) <= 60
            assert not Entry.objects.exists() and not Seeker.objects.exists()
            # another account from the same address still enters
            assert client_for(UserFactory()).post(url, valid, format="json").status_code == 201
            assert Entry.objects.count() == 1

    def test_switched_off_by_rate_limits_enabled(self, api):
        with override_settings(RATE_LIMITS_ENABLED=False):
            for _ in range(6):
                assert api.get("/api/v1/applications/").status_code == 200

    def test_redis_down_lets_requests_through(self, api, slot):
        from tests.api.test_applications import booking_body

        unreachable = {
            "default": {
                "BACKEND": "mpaspor.cache.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            }
        }
        with override_settings(CACHES=unreachable):
            for _ in range(5):
                assert api.get("/api/v1/applications/").status_code == 200
            assert api.post("/api/v1/applications/", booking_body(slot), format="json").status_code == 201


OPERATIONS = [
    ("post", "/api/v1/auth/register/", {}),
    ("post", "/api/v1/auth/login/", {}),
    ("post", "/api/v1/auth/logout/", None),
    ("post", "/api/v1/auth/verify-email/", {"code": "123456"}),
    ("post", "/api/v1/auth/verify-email/resend/", None),
    ("get", "/api/v1/offices/", None),
    ("get", "/api/v1/offices/{office}/availability/", None),
    ("post", "/api/v1/applications/", {}),
    ("get", "/api/v1/applications/", None),
    ("get", "/api/v1/applications/{code}/", None),
    ("post", "/api/v1/applications/{code}/cancel/", None),
    ("post", "/api/v1/applications/{code}/reschedule/", {"slot": 1}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_every_operation_answers_429_when_over_its_limit(settings, api, user, slot, method, path, body):
    from tests.factories import ApplicationFactory

    mine = ApplicationFactory(account=user, slot=slot)
    settings.API_THROTTLE_RATES = {"ip": "0/min", "account": "0/min", "auth": "0/min"}
    url = path.format(office=slot.office.code, code=mine.booking_code)
    response = getattr(api, method)(url, body, format="json") if body is not None else getattr(api, method)(url)
    assert_error(response, 429, "throttled")
    mine.refresh_from_db()
    assert (mine.status, mine.slot_id) == ("booked", slot.pk)
