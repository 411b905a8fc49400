"""Issue 14, item 2: a password change or reset ends every API token and web session of the account.

Before: after a reset the old web session was gone (Django checks a session against the password
hash) but the old API token still answered 200. Now the one service that sets a new password
(accounts.services.set_new_password, used by the reset and the change page) revokes every token;
a signed-in change keeps only the browser session that made it."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from tests.api.conftest import client_for
from tests.factories import UserFactory

OLD, NEW = "Rahasia-Kuat-123", "Kata-Sandi-Baru-2026"
ME = "/api/v1/applications/"
MY_PAGE = reverse("appointments:my_applications")


@pytest.fixture(autouse=True)
def _no_limits(settings):
    settings.RATE_LIMITS_ENABLED = False


@pytest.fixture
def user(db):
    return UserFactory(email="budi@example.com")


def logged_in_browser(user) -> Client:
    browser = Client()
    browser.post(reverse("accounts:login"), {"username": user.email, "password": OLD})
    assert browser.get(MY_PAGE).status_code == 200
    return browser


@pytest.mark.django_db
def test_a_reset_ends_every_token_and_session(user, django_capture_on_commit_callbacks):
    phone, tablet = client_for(user), client_for(user)
    laptop = logged_in_browser(user)
    assert phone.get(ME).status_code == tablet.get(ME).status_code == 200

    anyone = Client()
    anyone.post(reverse("accounts:password_reset"), {"email": user.email})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[-1].body).group(1)
    form = anyone.get(link, follow=True)
    done = anyone.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:password_reset_complete")

    assert phone.get(ME).status_code == tablet.get(ME).status_code == 401
    assert laptop.get(MY_PAGE).status_code == 302  # signed out
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    user.refresh_from_db()
    assert user.check_password(NEW)


@pytest.mark.django_db
def test_a_change_ends_every_token_and_every_other_session(user):
    phone = client_for(user)
    laptop, other_browser = logged_in_browser(user), logged_in_browser(user)

    response = laptop.post(
        reverse("accounts:password_change"), {"old_password": OLD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302 and response["Location"] == MY_PAGE

    assert laptop.get(MY_PAGE).status_code == 200  # the browser that changed it stays in
    assert other_browser.get(MY_PAGE).status_code == 302
    assert phone.get(ME).status_code == 401
    login = client_for(user).post("/api/v1/auth/login/", {"email": user.email, "password": NEW}, format="json")
    assert login.status_code == 200  # the app logs in again with the new password


@pytest.mark.django_db
def test_a_wrong_old_password_changes_nothing(user):
    phone, laptop = client_for(user), logged_in_browser(user)
    response = laptop.post(
        reverse("accounts:password_change"), {"old_password": "salah", "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 200 and "old_password" in response.context["form"].errors
    assert phone.get(ME).status_code == 200
    user.refresh_from_db()
    assert user.check_password(OLD)
