"""The web pages carry their rate limits (mpaspor.ratelimits): a scraper or a password
sprayer is stopped with a 429 page, and the limits are off with RATE_LIMITS_ENABLED=0."""

import pytest

from mpaspor import ratelimits


@pytest.fixture(autouse=True)
def _hourly_windows(monkeypatch):
    """The same rules per hour instead of per minute: counting happens in fixed windows, and a
    test loop that crossed a minute's boundary would start again from zero."""
    monkeypatch.setattr(
        ratelimits,
        "RATES",
        {
            group: [(key, rate.replace("/m", "/h"), methods) for key, rate, methods in rules]
            for group, rules in ratelimits.RATES.items()
        },
    )


def _limit(group: str, key: str = "user_or_ip") -> int:
    """How many requests one visitor (one address, anonymous) gets in a group's window."""
    return next(int(rate.split("/")[0]) for rule_key, rate, _methods in ratelimits.RATES[group] if rule_key == key)


@pytest.mark.django_db
def test_the_calendar_refuses_a_scraper(client, office):
    url = f"/offices/{office.code}/"
    for _ in range(_limit("availability")):
        assert client.get(url).status_code == 200
    assert client.get(url).status_code == 429


@pytest.mark.django_db
def test_login_refuses_a_password_sprayer(client):
    for n in range(_limit("login", key="ip")):
        client.post("/accounts/login/", {"username": f"spray{n}@example.com", "password": "x"})
    answer = client.post("/accounts/login/", {"username": "last@example.com", "password": "x"})
    assert answer.status_code == 429


@pytest.mark.django_db
def test_limits_are_off_when_switched_off(client, office, settings):
    settings.RATE_LIMITS_ENABLED = False
    url = f"/offices/{office.code}/"
    for _ in range(_limit("availability") + 1):
        assert client.get(url).status_code == 200
