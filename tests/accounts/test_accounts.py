import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.exceptions import CodeExpired, InvalidCode, ResendTooSoon, TooManyAttempts
from accounts.models import EmailVerificationCode, User
from tests.factories import UserFactory

PASSWORD = "Rahasia-Kuat-123"
SIGNUP = {
    "email": "Siti@Example.com",
    "full_name": "Siti Aminah",
    "phone": "0812 3456 7890",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def code_from_mail(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


@pytest.mark.django_db
class TestSignUp:
    def test_creates_an_unverified_account_and_mails_a_hashed_code(self, client, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:signup"), SIGNUP)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:signup_done"))
        user = User.objects.get()
        assert (user.email, user.phone, user.email_verified) == ("siti@example.com", "081234567890", False)
        assert user.check_password(PASSWORD)
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["siti@example.com"]
        code = code_from_mail(mail.outbox[0])
        stored = EmailVerificationCode.objects.get(user=user)
        assert code not in stored.code_hash
        assert stored.expires_at - stored.created_at == pytest.approx(
            dt.timedelta(minutes=15), abs=dt.timedelta(seconds=5)
        )
        assert "Kode mpaspor Anda" in mail.outbox[0].subject  # the mail speaks Indonesian
        # Not logged in (an address that had an account gets the same answer): log in, then verify.
        page = client.get(response["Location"])
        assert "siti@example.com" in page.content.decode()
        assert client.get(reverse("appointments:my_applications")).status_code == 302
        client.post(reverse("accounts:login"), {"username": "siti@example.com", "password": PASSWORD})
        client.post(reverse("accounts:verify_email"), {"code": code})
        user.refresh_from_db()
        assert user.email_verified

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"email": "not-an-address"}, "email"),
            ({"phone": "12345"}, "phone"),
            ({"password2": "Something-Else-9"}, "password2"),
            ({"password1": "123", "password2": "123"}, "password2"),
            ({"full_name": ""}, "full_name"),
        ],
    )
    def test_bad_input_shows_an_error_and_stores_nothing(
        self, client, change, field, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:signup"), SIGNUP | change)

        assert response.status_code == 200
        assert response.context["form"].errors[field]
        assert not User.objects.exists() and not mail.outbox

    def test_an_address_already_used_in_other_case_gets_the_same_answer(
        self, client, django_capture_on_commit_callbacks
    ):
        owner = UserFactory(email="siti@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:signup"), SIGNUP)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:signup_done"))
        assert User.objects.count() == 1
        (notice,) = mail.outbox
        assert notice.to == [owner.email] and "/accounts/password/reset/" in notice.body


@pytest.mark.django_db
class TestVerification:
    @pytest.fixture
    def user(self, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            services.register_user(
                email="budi@example.com",
                password=PASSWORD,
                full_name="Budi",
                phone="081234567890",
                reset_url="http://testserver/accounts/password/reset/",
            )
        return User.objects.get(email="budi@example.com")

    def test_the_right_code_verifies_once(self, user, mailoutbox):
        code = code_from_mail(mailoutbox[0])
        services.verify_email(user=user, code=code)
        user.refresh_from_db()
        assert user.email_verified
        with pytest.raises(InvalidCode):  # used codes do not work twice
            services.verify_email(user=user, code=code)

    def test_a_wrong_code_is_counted_and_verifies_nothing(self, user, mailoutbox):
        code = code_from_mail(mailoutbox[0])
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        with pytest.raises(InvalidCode):
            services.verify_email(user=user, code=wrong)
        user.refresh_from_db()
        assert not user.email_verified
        assert EmailVerificationCode.objects.get(user=user).attempts == 1

    def test_after_five_wrong_codes_even_the_right_one_is_refused(self, user, mailoutbox):
        code = code_from_mail(mailoutbox[0])
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(4):
            with pytest.raises(InvalidCode):
                services.verify_email(user=user, code=wrong)
        with pytest.raises(TooManyAttempts):
            services.verify_email(user=user, code=wrong)
        with pytest.raises(TooManyAttempts):
            services.verify_email(user=user, code=code)
        user.refresh_from_db()
        assert not user.email_verified

    def test_an_expired_code_is_refused(self, user, mailoutbox):
        code = code_from_mail(mailoutbox[0])
        with pytest.raises(CodeExpired):
            services.verify_email(user=user, code=code, now=timezone.now() + dt.timedelta(minutes=16))
        user.refresh_from_db()
        assert not user.email_verified

    def test_resend_waits_a_minute_and_the_new_code_replaces_the_old(
        self, user, mailoutbox, django_capture_on_commit_callbacks
    ):
        old = code_from_mail(mailoutbox[0])
        with pytest.raises(ResendTooSoon):
            services.send_verification_code(user=user)
        assert len(mailoutbox) == 1
        with django_capture_on_commit_callbacks(execute=True):
            services.send_verification_code(user=user, now=timezone.now() + dt.timedelta(seconds=61))
        new = code_from_mail(mailoutbox[1])
        if new != old:
            with pytest.raises((InvalidCode, CodeExpired)):
                services.verify_email(user=user, code=old, now=timezone.now() + dt.timedelta(seconds=62))
        services.verify_email(user=user, code=new, now=timezone.now() + dt.timedelta(seconds=62))
        user.refresh_from_db()
        assert user.email_verified

    def test_verify_page_shows_a_translated_error_for_a_wrong_code(self, client, user, mailoutbox):
        client.force_login(user)
        code = code_from_mail(mailoutbox[0])
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        response = client.post(reverse("accounts:verify_email"), {"code": wrong})
        assert response.status_code == 200
        assert "Kode ini salah" in response.content.decode()
        response = client.post(reverse("accounts:verify_email"), {"code": code, "next": "/offices/"})
        assert response.status_code == 302 and response["Location"] == "/offices/"
        user.refresh_from_db()
        assert user.email_verified

    def test_resend_page_sends_a_new_code_once_a_minute(
        self, client, user, mailoutbox, django_capture_on_commit_callbacks
    ):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:resend_code"), follow=True)
        assert "Kode baru saja dikirim" in response.content.decode()
        assert len(mailoutbox) == 1
        EmailVerificationCode.objects.filter(user=user).update(created_at=timezone.now() - dt.timedelta(minutes=2))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:resend_code"), follow=True)
        assert "Kode baru sedang dikirim" in response.content.decode()
        assert len(mailoutbox) == 2
        services.verify_email(user=user, code=code_from_mail(mailoutbox[1]))

    def test_verify_page_ignores_a_foreign_next_address(self, client, user, mailoutbox):
        client.force_login(user)
        response = client.post(
            reverse("accounts:verify_email"), {"code": code_from_mail(mailoutbox[0]), "next": "https://evil.example/"}
        )
        assert response["Location"] == reverse("appointments:offices")


@pytest.mark.django_db
class TestGate:
    def test_booking_needs_a_verified_email(self, client, slot):
        user = UserFactory(email_verified=False)
        client.force_login(user)
        response = client.get(reverse("appointments:book", args=[slot.pk]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:verify_email"))

    def test_the_gate_can_be_switched_off(self, client, slot, settings):
        settings.REQUIRE_VERIFIED_EMAIL = False
        client.force_login(UserFactory(email_verified=False))
        assert client.get(reverse("appointments:book", args=[slot.pk])).status_code == 200

    def test_anonymous_visitors_are_sent_to_log_in(self, client, slot):
        response = client.get(reverse("appointments:book", args=[slot.pk]))
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
class TestLogin:
    def test_logs_in_with_the_email_in_any_case(self, client):
        UserFactory(email="budi@example.com")
        page = client.get(reverse("accounts:login")).content.decode()
        assert ">E-mail<" in page
        response = client.post(reverse("accounts:login"), {"username": "Budi@Example.com", "password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == reverse("appointments:my_applications")

    def test_a_wrong_password_says_so(self, client):
        UserFactory(email="budi@example.com")
        response = client.post(reverse("accounts:login"), {"username": "budi@example.com", "password": "wrong"})
        assert response.status_code == 200
        assert "Alamat e-mail atau kata sandi salah" in response.content.decode()

    def test_logout(self, client):
        client.force_login(UserFactory())
        assert client.post(reverse("accounts:logout")).status_code == 302
        assert client.get(reverse("appointments:my_applications")).status_code == 302


@pytest.mark.django_db
def test_password_reset_round_trip(client, mailoutbox):
    user = UserFactory(email="budi@example.com")
    response = client.post(reverse("accounts:password_reset"), {"email": "budi@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    link = re.search(r"https?://[^/\s]+(/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Baru-Sekali-456", "new_password2": "Baru-Sekali-456"}
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("Baru-Sekali-456")
    # The link works once.
    assert not client.get(link, follow=True).context["validlink"]
