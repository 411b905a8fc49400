"""django-axes locks out password guessing; the web rate limits count, refuse with 429,
stay off when disabled, and let requests through when Redis is down."""

import logging

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from mpaspor import ratelimits
from mpaspor.ratelimits import rate_limit
from tests.factories import UserFactory

PASSWORD = "Rahasia-Kuat-123"  # tests.factories.UserFactory's


@pytest.mark.django_db
def test_login_locked_after_five_failures_even_with_the_right_password(client, settings):
    settings.RATE_LIMITS_ENABLED = False  # only axes is under test here
    user = UserFactory(email="korban@example.com")
    url = reverse("accounts:login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(url, {"username": user.email, "password": "salah"}).status_code == 200
    # The right password still works before the limit ...
    assert client.post(url, {"username": user.email, "password": PASSWORD}).status_code == 302
    client.logout()
    # ... and resets the count (AXES_RESET_ON_SUCCESS); five failures in a row lock it.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": user.email, "password": "salah"})
    locked = client.post(url, {"username": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lockout_is_per_account_and_address(client, settings):
    settings.RATE_LIMITS_ENABLED = False
    victim, other = UserFactory(), UserFactory()
    url = reverse("accounts:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": victim.email, "password": "salah"})
    assert client.post(url, {"username": other.email, "password": PASSWORD}).status_code == 302


def _view(request):
    return HttpResponse("ok")


def _post(ip="10.0.0.1", **data):
    request = RequestFactory().post("/x/", data, REMOTE_ADDR=ip)
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    return request


@pytest.mark.django_db
def test_rate_limit_refuses_over_the_rate_with_a_translated_429(settings):
    settings.RATE_LIMITS_ENABLED = True
    view = rate_limit("signup")(_view)  # 10 per hour per address
    answers = [view(_post()).status_code for _ in range(12)]
    assert answers == [200] * 10 + [429] * 2
    assert view(_post(ip="10.0.0.2")).status_code == 200  # another address has its own count
    refused = view(_post())
    assert "Terlalu banyak percobaan" in refused.content.decode()  # Indonesian by default


@pytest.mark.django_db
def test_login_rate_counts_per_email_across_addresses(settings):
    settings.RATE_LIMITS_ENABLED = True
    view = rate_limit("login")(_view)  # 10 per minute per e-mail tried
    answers = [view(_post(ip=f"10.1.0.{i}", username="target@example.com")).status_code for i in range(11)]
    assert answers[-1] == 429 and answers[:10] == [200] * 10


@pytest.mark.django_db
def test_get_is_not_counted_where_only_posts_are(settings):
    settings.RATE_LIMITS_ENABLED = True
    view = rate_limit("signup")(_view)
    for _ in range(20):
        assert view(RequestFactory().get("/x/", REMOTE_ADDR="10.0.0.3")).status_code == 200


@pytest.mark.django_db
def test_rate_limits_off_when_disabled(settings):
    settings.RATE_LIMITS_ENABLED = False
    view = rate_limit("signup")(_view)
    assert {view(_post()).status_code for _ in range(15)} == {200}
    assert not cache.keys("*") if hasattr(cache, "keys") else True


@pytest.mark.django_db
def test_rate_limit_fails_open_when_redis_is_down(settings, caplog):
    settings.RATE_LIMITS_ENABLED = True
    settings.CACHES = {
        "default": {
            "BACKEND": "mpaspor.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    view = rate_limit("signup")(_view)
    with caplog.at_level(logging.WARNING, logger="mpaspor.ratelimits"):
        assert {view(_post()).status_code for _ in range(12)} == {200}
    assert "cache is unavailable" in caplog.text


def test_unknown_group_is_a_programming_error():
    with pytest.raises(KeyError):
        rate_limit("no-such-group")


def test_every_group_has_a_rule():
    assert set(ratelimits.RATES) >= {
        "login",
        "signup",
        "verification_send",
        "verification_check",
        "password_reset",
        "booking",
        "availability",
    }
    assert all(ratelimits.RATES.values())


@pytest.mark.django_db
def test_lockout_counts_an_email_in_any_case(client, settings):
    settings.RATE_LIMITS_ENABLED = False
    user = UserFactory(email="budi@example.com")
    url = reverse("accounts:login")
    for variant in [
        "Budi@example.com",
        "BUDI@EXAMPLE.COM",
        "budi@Example.com",
        " budi@example.com",
        "budi@example.COM",
    ]:
        client.post(url, {"username": variant, "password": "salah"})
    assert client.post(url, {"username": user.email, "password": PASSWORD}).status_code == 429
