"""Logins beyond the portal's password-checking budget answer 429 before any hashing."""

import time

import pytest
from django.contrib.auth.hashers import get_hasher
from rest_framework.test import APIClient

from accounts.exceptions import PasswordChecksBusy
from accounts.services import check_password_capacity
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "kata-sandi-yang-panjang"


@pytest.fixture
def hashed(monkeypatch):
    """How many passwords were checked: the hasher's verify, counted (and still run)."""
    hasher = type(get_hasher())
    checks = []
    verify = hasher.verify

    def counting(self, password, encoded):
        checks.append(1)
        return verify(self, password, encoded)

    monkeypatch.setattr(hasher, "verify", counting)
    return checks


@pytest.fixture
def user(db):
    user = UserFactory(email="budi@example.com")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_the_budget_counts_the_checks_of_each_second(settings):
    settings.PASSWORD_CHECKS_PER_SECOND = 2
    second = time.time() + 3600  # a second of its own
    check_password_capacity(now=second)
    check_password_capacity(now=second)
    with pytest.raises(PasswordChecksBusy):
        check_password_capacity(now=second)
    check_password_capacity(now=second + 1)  # the next second has its own budget


def test_an_api_login_beyond_the_budget_is_refused_before_its_password_is_checked(settings, user, hashed):
    client = APIClient()
    settings.PASSWORD_CHECKS_PER_SECOND = 0
    refused = client.post("/api/v1/auth/login/", {"email": user.email, "password": PASSWORD}, format="json")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled" and refused["Retry-After"] == "1"
    assert hashed == []
    settings.PASSWORD_CHECKS_PER_SECOND = 1000
    assert (
        client.post("/api/v1/auth/login/", {"email": user.email, "password": PASSWORD}, format="json").status_code
        == 200
    )
    assert hashed == [1]


def test_a_web_login_beyond_the_budget_is_refused_before_its_password_is_checked(settings, user, hashed, client):
    settings.PASSWORD_CHECKS_PER_SECOND = 0
    refused = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="id")
    assert refused.status_code == 429 and refused["Retry-After"] == "1"
    assert "Banyak orang sedang masuk" in refused.content.decode()  # the form again, with the reason
    assert hashed == [] and "_auth_user_id" not in client.session
    settings.PASSWORD_CHECKS_PER_SECOND = 1000
    signed_in = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert signed_in.status_code == 302 and hashed == [1]
    assert client.session["_auth_user_id"] == str(user.pk)
