import pytest
from rest_framework.test import APIClient

from accounts.services import create_api_token
from tests.factories import UserFactory


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_api_token(user=user)}")
    return client


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory(email="budi@example.com")


@pytest.fixture
def api(user):
    """A client signed in as `user` with a fresh token."""
    return client_for(user)


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"code", "detail", "errors"}
    return body


@pytest.fixture(autouse=True)
def _rate_limit_cache_reachable():
    """A test that cuts Redis off must not leave the throttles paused for the next one."""
    from mpaspor.api import FailSafeRateThrottle

    FailSafeRateThrottle._unavailable_until = 0.0
    yield
    FailSafeRateThrottle._unavailable_until = 0.0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength costs most of a second per login on a busy CI machine."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
