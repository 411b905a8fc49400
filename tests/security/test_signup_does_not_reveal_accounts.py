"""Issue 14, item 9: sign-up does not tell whether an e-mail address has an account.

Before, the web form said "An account with this e-mail address already exists" and the API
answered 400 on `email`. Now both answer the same either way (the web page "check your e-mail",
the API 202 `{detail}`), do the same work (one password hash), and the owner of the address is
told by e-mail instead, with a link to reset the password."""

import re

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AccountMessage, EmailVerificationCode, User
from tests.factories import UserFactory

PASSWORD = "Paspor-Baru-2025"
WEB = {"full_name": "Sari Dewi", "phone": "081234567890", "password1": PASSWORD, "password2": PASSWORD}
API = {"full_name": "Sari Dewi", "phone": "081234567890", "password": PASSWORD}


class CountingHasher(MD5PasswordHasher):
    """The test's hasher: counts the passwords hashed (the costly step of a sign-up)."""

    algorithm = "counting_md5"
    hashed = 0

    def encode(self, password, salt):
        CountingHasher.hashed += 1
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def _no_limits(settings):
    settings.RATE_LIMITS_ENABLED = False
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]


def page_text(client, response) -> str:
    """The page a sign-up leads to, without what differs per visit (CSRF tokens)."""
    page = client.get(response["Location"]).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def web_sign_up(client, email, django_capture_on_commit_callbacks):
    CountingHasher.hashed = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:signup"), {**WEB, "email": email})
    return response, CountingHasher.hashed


@pytest.mark.django_db
def test_the_web_answers_the_same_for_a_new_and_a_taken_address(client, django_capture_on_commit_callbacks):
    from django.test import Client

    new, hashed_new = web_sign_up(client, "sari@example.com", django_capture_on_commit_callbacks)
    other = Client()
    taken, hashed_taken = web_sign_up(other, "Sari@Example.com", django_capture_on_commit_callbacks)
    assert new.status_code == taken.status_code == 302
    assert new["Location"] == taken["Location"]
    assert page_text(client, new) == page_text(other, taken)
    assert hashed_new == hashed_taken == 1  # the same work either way
    assert User.objects.count() == 1
    # The new account got its code; the owner, on the second try, a notice with a reset link.
    code_mail, notice = mail.outbox
    assert code_mail.to == notice.to == ["sari@example.com"]
    assert re.search(r"\b\d{6}\b", code_mail.body)
    assert "http://testserver/accounts/password/reset/" in notice.body
    assert not re.search(r"\b\d{6}\b", notice.body)


@pytest.mark.django_db
def test_the_api_answers_the_same_for_a_new_and_a_taken_address(django_capture_on_commit_callbacks):
    owner = UserFactory(email="budi@example.com")
    answers = []
    for email in ("baru@example.com", "BUDI@example.com"):
        CountingHasher.hashed = 0
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post("/api/v1/auth/register/", {**API, "email": email}, format="json")
        answers.append((response.status_code, response.json(), CountingHasher.hashed))
    assert answers[0] == answers[1]
    assert answers[0][0] == 202 and set(answers[0][1]) == {"detail"}
    owner.refresh_from_db()
    assert owner.check_password("Rahasia-Kuat-123")  # unchanged
    assert not EmailVerificationCode.objects.filter(user=owner).exists()
    assert [m.template for m in AccountMessage.objects.filter(user=owner)] == ["signup_attempt"]


@pytest.mark.django_db
def test_repeated_sign_ups_with_a_taken_address_do_not_flood_its_inbox(django_capture_on_commit_callbacks):
    owner = UserFactory(email="budi@example.com")
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post("/api/v1/auth/register/", {**API, "email": owner.email}, format="json")
        assert response.status_code == 202
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_invalid_input_is_refused_before_any_question_about_the_address():
    UserFactory(email="budi@example.com")
    for email in ("budi@example.com", "baru@example.com"):
        response = APIClient().post("/api/v1/auth/register/", {**API, "email": email, "phone": "x"}, format="json")
        assert response.status_code == 400 and list(response.json()["errors"]) == ["phone"]
    assert not mail.outbox
