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


@pytest.mark.django_db
def test_entering_a_draw_refuses_a_script_and_keeps_nothing(client):
    """Entering is limited like booking: past the limit a valid entry gets the 429 page, in the
    visitor's language, and nothing is written; looking at the form is not counted."""
    from allocation.models import Entry, Seeker
    from tests.allocation.helpers import open_release
    from tests.allocation.test_pages import household_post
    from tests.factories import UserFactory, applicant_data

    release, slots = open_release()
    client.force_login(UserFactory())
    url = f"/draws/releases/{release.pk}/enter/"
    for _ in range(_limit("draw_entry")):
        assert client.post(url, {}).status_code == 200  # the form again, with its errors
        assert client.get(url).status_code == 200
    answer = client.post(url, household_post(slots, [applicant_data()]), HTTP_ACCEPT_LANGUAGE="id")
    assert answer.status_code == 429
    assert "Terlalu banyak percobaan" in answer.content.decode()
    assert not Entry.objects.exists() and not Seeker.objects.exists()
    # another account (another address) still enters
    client.force_login(UserFactory())
    answer = client.post(url, household_post(slots, [applicant_data()]), REMOTE_ADDR="10.0.0.9")
    assert answer.status_code == 302
    assert Entry.objects.count() == 1
