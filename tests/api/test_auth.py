import datetime as dt

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts.models import ApiToken, EmailVerificationCode, User
from accounts.services import create_api_token, hash_token_key
from tests.api.conftest import assert_error, client_for
from tests.factories import UserFactory

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/login/"
LOGOUT = "/api/v1/auth/logout/"
VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"
ME = "/api/v1/applications/"  # any endpoint that needs a token
PASSWORD = "Rahasia-Kuat-123"


def register(anon, **overrides):
    body = {
        "email": "Sari@Example.com",
        "password": "Paspor-Baru-2025",
        "full_name": "Sari Dewi",
        "phone": "081234567890",
    }
    body.update(overrides)
    return anon.post(REGISTER, body, format="json")


@pytest.mark.django_db
class TestRegister:
    def test_creates_unverified_account_answers_202_and_mails_a_code(self, anon, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = register(anon)
        assert response.status_code == 202
        assert set(response.json()) == {"detail"} and response.json()["detail"]
        user = User.objects.get(email="sari@example.com")
        assert (user.full_name, user.phone, user.email_verified) == ("Sari Dewi", "081234567890", False)
        assert user.check_password("Paspor-Baru-2025")
        assert not ApiToken.objects.exists()  # the client logs in for its token
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["sari@example.com"]
        assert EmailVerificationCode.objects.filter(user=user).count() == 1
        # Then the client logs in, and the token works at once.
        login = anon.post(LOGIN, {"email": "sari@example.com", "password": "Paspor-Baru-2025"}, format="json")
        assert login.status_code == 200
        token = ApiToken.objects.get(user=user)
        assert token.key_hash == hash_token_key(login.json()["token"])  # stored hashed, never in clear
        anon.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
        assert anon.get(ME).status_code == 200

    def test_taken_email_answers_the_same_and_creates_nothing(self, anon, user, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = register(anon, email="BUDI@example.com")
        assert response.status_code == 202
        assert User.objects.count() == 1
        assert user.check_password(PASSWORD)  # the account is unchanged
        assert [m.to for m in mail.outbox] == [["budi@example.com"]]  # its owner is told

    def test_weak_password_and_missing_fields_are_listed_per_field(self, anon):
        body = assert_error(register(anon, email="bad", phone="abc", full_name=""), 400, "invalid")
        assert set(body["errors"]) == {"email", "phone", "full_name"}
        body = assert_error(register(anon, password="12345678"), 400, "invalid")
        assert list(body["errors"]) == ["password"]  # Django's password validators, from the service
        assert User.objects.count() == 0

    @pytest.mark.parametrize(
        "field, value",
        [
            ("full_name", "S" * 150 + " "),  # longer than the schema's maxLength as sent
            ("phone", "081234567890\n"),  # outside the schema's pattern
            ("phone", " 081234567890"),
        ],
    )
    def test_input_outside_the_schema_is_refused_as_sent(self, anon, field, value):
        body = assert_error(register(anon, **{field: value}), 400, "invalid")
        assert list(body["errors"]) == [field]
        assert not User.objects.exists()

    def test_malformed_json_is_invalid(self, anon):
        response = anon.post(REGISTER, "{not json", content_type="application/json")
        assert_error(response, 400, "invalid")


@pytest.mark.django_db
class TestLogin:
    def test_returns_a_new_token_per_login(self, anon, user):
        first = anon.post(LOGIN, {"email": "Budi@Example.com", "password": PASSWORD}, format="json")
        second = anon.post(LOGIN, {"email": "budi@example.com", "password": PASSWORD}, format="json")
        assert first.status_code == second.status_code == 200
        assert first.json()["token"] != second.json()["token"]
        assert ApiToken.objects.filter(user=user).count() == 2

    def test_wrong_password_or_unknown_email(self, anon, user):
        assert_error(
            anon.post(LOGIN, {"email": "budi@example.com", "password": "salah"}, format="json"), 400, "invalid"
        )
        assert_error(
            anon.post(LOGIN, {"email": "nobody@example.com", "password": PASSWORD}, format="json"), 400, "invalid"
        )
        assert not ApiToken.objects.exists()

    def test_inactive_account_cannot_log_in(self, anon):
        UserFactory(email="off@example.com", is_active=False)
        assert_error(
            anon.post(LOGIN, {"email": "off@example.com", "password": PASSWORD}, format="json"), 400, "invalid"
        )

    def test_missing_fields(self, anon):
        body = assert_error(anon.post(LOGIN, {}, format="json"), 400, "invalid")
        assert set(body["errors"]) == {"email", "password"}

    @override_settings(AXES_FAILURE_LIMIT=3)
    def test_axes_locks_out_after_repeated_failures_even_with_the_right_password(self, anon, user):
        for _ in range(2):
            assert_error(
                anon.post(LOGIN, {"email": "budi@example.com", "password": "salah"}, format="json"), 400, "invalid"
            )
        body = assert_error(
            anon.post(LOGIN, {"email": "budi@example.com", "password": "salah"}, format="json"), 429, "throttled"
        )
        assert "15" in body["detail"]
        assert_error(
            anon.post(LOGIN, {"email": "budi@example.com", "password": PASSWORD}, format="json"), 429, "throttled"
        )
        assert not ApiToken.objects.exists()


@pytest.mark.django_db
class TestTokens:
    def test_no_token_unknown_token_and_malformed_header_answer_401(self, anon):
        response = anon.get(ME)
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Token"
        anon.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
        assert_error(anon.get(ME), 401, "authentication_failed")
        anon.credentials(HTTP_AUTHORIZATION="Token two parts")
        assert_error(anon.get(ME), 401, "authentication_failed")

    def test_expired_token_is_refused(self, anon, user):
        key = create_api_token(user=user, now=timezone.now() - dt.timedelta(days=31))
        anon.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert_error(anon.get(ME), 401, "authentication_failed")

    @override_settings(API_TOKEN_TTL_DAYS=2)
    def test_token_lifetime_follows_the_setting(self, user):
        create_api_token(user=user)
        token = ApiToken.objects.get(user=user)
        assert (
            dt.timedelta(days=2) - dt.timedelta(minutes=1) < token.expires_at - timezone.now() <= dt.timedelta(days=2)
        )

    def test_logout_revokes_only_this_token(self, user):
        phone, tablet = client_for(user), client_for(user)
        assert phone.post(LOGOUT).status_code == 204
        assert_error(phone.get(ME), 401, "authentication_failed")
        assert_error(phone.post(LOGOUT), 401, "authentication_failed")
        assert tablet.get(ME).status_code == 200
        assert ApiToken.objects.filter(user=user, revoked_at__isnull=False).count() == 1

    def test_deactivated_user_token_is_refused(self, api, user):
        User.objects.filter(pk=user.pk).update(is_active=False)
        assert_error(api.get(ME), 401, "authentication_failed")

    def test_token_lookup_is_one_query(self, api, django_assert_num_queries):
        with django_assert_num_queries(2):  # the token with its user, then the list
            assert api.get(ME).status_code == 200


def _issue_code(user, django_capture_on_commit_callbacks):
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(RESEND).status_code == 200
    code = next(
        word.strip(".")
        for word in mail.outbox[-1].body.split()
        if word.strip(".").isdigit() and len(word.strip(".")) == 6
    )
    return client, code


@pytest.mark.django_db
class TestVerifyEmail:
    def test_right_code_verifies(self, django_capture_on_commit_callbacks):
        user = UserFactory(email_verified=False)
        client, code = _issue_code(user, django_capture_on_commit_callbacks)
        response = client.post(VERIFY, {"code": code}, format="json")
        assert response.status_code == 200 and response.json() == {"email_verified": True}
        user.refresh_from_db()
        assert user.email_verified

    def test_wrong_code_counts_attempts_then_the_code_dies(self, django_capture_on_commit_callbacks):
        user = UserFactory(email_verified=False)
        client, code = _issue_code(user, django_capture_on_commit_callbacks)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(4):
            body = assert_error(client.post(VERIFY, {"code": wrong}, format="json"), 400, "invalid")
            assert list(body["errors"]) == ["code"]
        # The fifth wrong try kills the code: even the right one is refused now.
        assert_error(client.post(VERIFY, {"code": wrong}, format="json"), 429, "throttled")
        assert_error(client.post(VERIFY, {"code": code}, format="json"), 429, "throttled")
        user.refresh_from_db()
        assert not user.email_verified

    def test_malformed_code_and_no_token(self, anon):
        user = UserFactory(email_verified=False)
        assert_error(client_for(user).post(VERIFY, {"code": "12ab"}, format="json"), 400, "invalid")
        assert_error(anon.post(VERIFY, {"code": "123456"}, format="json"), 401, "not_authenticated")
        assert_error(anon.post(RESEND), 401, "not_authenticated")


@pytest.mark.django_db
def test_the_json_api_keeps_no_session_but_pages_and_the_api_docs_do(client):
    """Sessions, the signed-in user and messages are for web pages: an API answer sets no cookie
    and does not vary on one, whatever cookie comes with it; the API docs page is a page."""
    client.get("/")  # a page: the CSRF cookie
    api = client.get("/api/v1/offices/")
    assert api.status_code == 200
    assert not api.cookies and "Cookie" not in api.get("Vary", "")
    assert not hasattr(api.wsgi_request, "session") and not hasattr(api.wsgi_request, "_messages")
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and hasattr(docs.wsgi_request, "session")
    assert "Content-Security-Policy" in docs
