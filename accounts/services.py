"""Writes to accounts: sign-up, e-mail verification, API tokens. Each service owns its transaction."""

# --- API tokens and sign-up through the API ------------------------------------------------
# (Written for the REST API. If the web sign-up adds its own `register`/verification services,
# the API should call those and this block keep only the token functions.)

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from .exceptions import EmailNotVerified, EmailTaken, InvalidVerificationCode
from .models import ApiToken, EmailVerificationCode, User

VERIFICATION_CODE_MINUTES = 30
VERIFICATION_CODE_ATTEMPTS = 5


def hash_token_key(key: str) -> str:
    """Keys are 256 random bits, so one SHA-256 is enough: nothing to guess, one indexed lookup."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_token(*, user: User, now: dt.datetime | None = None) -> str:
    """A new token for one device; returns the key, which is shown once and stored only hashed."""
    now = now or timezone.now()
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, key_hash=hash_token_key(key), expires_at=now + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)
    )
    return key


def revoke_api_token(*, token_id: int, now: dt.datetime | None = None) -> None:
    """Revoke one token (logout). Idempotent: a revoked token keeps its first revocation time."""
    ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=now or timezone.now())


def check_email_verified(*, user: User) -> None:
    """Booking needs a confirmed address while REQUIRE_VERIFIED_EMAIL is on."""
    if settings.REQUIRE_VERIFIED_EMAIL and not user.email_verified:
        raise EmailNotVerified()


def register_account(*, email: str, password: str, full_name: str, phone: str = "", language: str = "id") -> User:
    """Create an applicant's account, not yet verified, and send the e-mail code after commit."""
    email = User.objects.normalize_email(email).lower()
    try:
        password_validation.validate_password(password, user=User(email=email, full_name=full_name))
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken(field="email")
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name, phone=phone, language=language
            )
            send_email_verification_code(user=user)
    except IntegrityError as exc:  # two sign-ups with one address at once
        raise EmailTaken(field="email") from exc
    return user


def send_email_verification_code(*, user: User, now: dt.datetime | None = None) -> None:
    """A new 6-digit code (only its HMAC stored), mailed after commit in the account's language."""
    now = now or timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        EmailVerificationCode.objects.create(
            user=user,
            code_hash=_code_hash(user.pk, code),
            expires_at=now + dt.timedelta(minutes=VERIFICATION_CODE_MINUTES),
        )
        transaction.on_commit(lambda: _mail_code(user=user, code=code))


def verify_email(*, user: User, code: str, now: dt.datetime | None = None) -> None:
    """Mark the e-mail verified if `code` is the latest unexpired code; at most
    VERIFICATION_CODE_ATTEMPTS tries per code."""
    now = now or timezone.now()
    with transaction.atomic():
        latest = (
            EmailVerificationCode.objects.select_for_update()
            .filter(user=user, purpose="verify_email", used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if latest is None or latest.expires_at <= now or latest.attempts >= VERIFICATION_CODE_ATTEMPTS:
            raise InvalidVerificationCode(field="code")
        EmailVerificationCode.objects.filter(pk=latest.pk).update(attempts=F("attempts") + 1)
        matches = constant_time_compare(latest.code_hash, _code_hash(user.pk, str(code)))
        if matches:
            EmailVerificationCode.objects.filter(pk=latest.pk).update(used_at=now)
            User.objects.filter(pk=user.pk).update(email_verified=True)
            user.email_verified = True
    # Raised after the commit, so the failed attempt stays counted.
    if not matches:
        raise InvalidVerificationCode(field="code")


def _code_hash(user_id: int, code: str) -> str:
    return salted_hmac("accounts.email-verification", f"{user_id}:{code}").hexdigest()


def _mail_code(*, user: User, code: str) -> None:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        send_mail(
            subject=_("Your mpaspor confirmation code"),
            message=_("Your code to confirm your e-mail address is %(code)s. It is valid for %(minutes)s minutes.")
            % {"code": code, "minutes": VERIFICATION_CODE_MINUTES},
            from_email=None,
            recipient_list=[user.email],
        )
