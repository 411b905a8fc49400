"""Issue 14, item 8: the e-mail code cannot be guessed across resends.

Before: 5 tries per code, but a resend a minute later gave 5 more, about 7,200 guesses a day per
account. Now at most VERIFICATION_WRONG_CODES_PER_DAY (10) wrong codes per account over the
codes of the last 24 hours, with a translated message that says when to try again."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone, translation

from accounts.exceptions import InvalidCode, TooManyAttempts, TooManyWrongCodes
from accounts.models import EmailVerificationCode, User
from accounts.services import CODE_LIFETIME, hash_code, send_verification_code, verify_email
from tests.api.conftest import assert_error, client_for
from tests.factories import UserFactory


def new_code(user, now, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        send_verification_code(user=user, now=now)
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def wrong_for(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.django_db
def test_resends_do_not_give_more_than_ten_wrong_codes_a_day(django_capture_on_commit_callbacks, settings):
    settings.VERIFICATION_WRONG_CODES_PER_DAY = 10
    user = UserFactory(email_verified=False)
    start = timezone.now()
    answers = []
    now = start
    for _resend in range(6):  # an attacker resending every 2 minutes, trying 5 codes each time
        now += dt.timedelta(minutes=2)
        try:
            code = new_code(user, now, django_capture_on_commit_callbacks)
        except TooManyWrongCodes:
            answers.append("resend refused")
            continue
        for _ in range(5):
            try:
                verify_email(user=user, code=wrong_for(code), now=now)
            except (InvalidCode, TooManyAttempts, TooManyWrongCodes) as error:
                answers.append(type(error).__name__)
    wrong_counted = sum(EmailVerificationCode.objects.filter(user=user).values_list("attempts", flat=True))
    assert wrong_counted == 10
    assert answers[:10] == ["InvalidCode"] * 4 + ["TooManyAttempts"] + ["InvalidCode"] * 4 + ["TooManyWrongCodes"]
    assert set(answers[10:]) == {"resend refused"}

    # Even the right code is refused while the cap holds, with the time to try again.
    code = "123456"
    EmailVerificationCode.objects.create(
        user=user, code_hash=hash_code(user_id=user.pk, code=code), expires_at=now + CODE_LIFETIME
    )
    with pytest.raises(TooManyWrongCodes) as refused, translation.override("en"):
        verify_email(user=user, code=code, now=now)
    first_code_at = EmailVerificationCode.objects.filter(user=user).earliest("created_at").created_at
    local = timezone.localtime(first_code_at + dt.timedelta(hours=24))
    assert refused.value.message.endswith(f"Try again from {local:%-d} {local:%B %Y, %H:%M} WIB.")
    assert not User.objects.get(pk=user.pk).email_verified

    # A day after the first code the account may try again, and the right code works.
    later = first_code_at + dt.timedelta(hours=24, minutes=1)
    code = new_code(user, later, django_capture_on_commit_callbacks)
    verify_email(user=user, code=code, now=later)
    assert User.objects.get(pk=user.pk).email_verified


@pytest.mark.django_db
def test_the_api_answers_429_with_the_time_to_try_again(settings):
    settings.RATE_LIMITS_ENABLED = False
    settings.VERIFICATION_WRONG_CODES_PER_DAY = 10
    user = UserFactory(email_verified=False)
    now = timezone.now()
    for hours_ago, attempts in ((20, 5), (3, 5)):
        row = EmailVerificationCode.objects.create(
            user=user, code_hash="x", expires_at=now + CODE_LIFETIME, attempts=attempts
        )
        EmailVerificationCode.objects.filter(pk=row.pk).update(created_at=now - dt.timedelta(hours=hours_ago))
    response = client_for(user).post("/api/v1/auth/verify-email/", {"code": "123456"}, format="json")
    assert_error(response, 429, "throttled")
    # The cap lifts when the code of 20 hours ago leaves the 24 hours: in about 4 hours.
    assert abs(int(response["Retry-After"]) - 4 * 3600) < 10
    web = client_for(user).post("/api/v1/auth/verify-email/resend/")
    assert_error(web, 429, "throttled")


@pytest.mark.django_db
def test_the_web_page_says_when_to_try_again(client, settings):
    settings.RATE_LIMITS_ENABLED = False
    user = UserFactory(email_verified=False)
    EmailVerificationCode.objects.create(
        user=user, code_hash="x", expires_at=timezone.now() + CODE_LIFETIME, attempts=10
    )
    client.force_login(user)
    response = client.post("/accounts/verify/", {"code": "123456"})
    assert "Terlalu banyak kode salah" in response.content.decode()
