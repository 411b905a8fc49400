"""Writes for accounts: sign-up, the e-mail verification code, new passwords, API tokens, the
count of NIKs refused to an account, and hoarding flags and restrictions. Each service owns its
transaction."""

import datetime as dt
import hashlib
import logging
import secrets
import time

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .exceptions import (
    AccountRestricted,
    BookingsPaused,
    CodeExpired,
    EmailNotVerified,
    InvalidCode,
    PasswordChecksBusy,
    ResendTooSoon,
    TooManyAttempts,
    TooManyWrongCodes,
)
from .hoarding import BLOCKED, Hit, Rule, hoarding_rules
from .models import AccountFlag, ApiToken, EmailVerificationCode, RefusedNik, User
from .outbox import queue_account_message
from .validators import validate_person_name, validate_phone

VERIFY_EMAIL = "verify_email"
CODE_LIFETIME = dt.timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
RESEND_INTERVAL = dt.timedelta(seconds=60)
SIGNUP_NOTICE_INTERVAL = dt.timedelta(hours=1)
WRONG_CODES_WINDOW = dt.timedelta(hours=24)


def hash_code(*, user_id: int, code: str) -> str:
    """Keyed with SECRET_KEY and bound to the user: a leaked table does not reveal codes,
    and a cheap hash is enough because the attempts per code are limited."""
    return salted_hmac("accounts.EmailVerificationCode", f"{user_id}:{code}").hexdigest()


def check_password_capacity(*, now: float | None = None) -> None:
    """Refuse a login before its password is hashed (429, PasswordChecksBusy) when the portal has
    already checked PASSWORD_CHECKS_PER_SECOND passwords this second. Each check costs ~175 ms of
    CPU by design; a flood of logins beyond that budget would take the CPU from bookings. Fails
    open: without the cache, logins are only limited per address and account."""
    try:
        second = int(time.time() if now is None else now)
        checks = cache.count(f"accounts:password-checks:{second}", 1, 2)
    except Exception:  # noqa: BLE001
        logging.getLogger(__name__).warning("password check budget not counted (cache unavailable)", exc_info=True)
        return
    if checks > settings.PASSWORD_CHECKS_PER_SECOND:
        raise PasswordChecksBusy()


def check_signup(*, email: str, password: str, full_name: str, phone: str) -> None:
    """The rules of a new account's data (the same for the web form and the API): a ValidationError
    listing every field at fault."""
    checks = {
        "full_name": lambda: validate_person_name(full_name),
        "phone": lambda: validate_phone(phone),
        "password": lambda: password_validation.validate_password(
            password, user=User(email=email, full_name=full_name)
        ),
    }
    errors = {}
    for field, check in checks.items():
        try:
            check()
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)


def register_user(
    *,
    email: str,
    password: str,
    full_name: str,
    phone: str,
    reset_url: str,
    language: str = "id",
    address: str | None = None,
) -> None:
    """Create an applicant's account (not yet verified) and e-mail it a verification code; or,
    when the address already has an account, e-mail its owner that someone tried to sign up with
    it, with `reset_url` to choose a new password. The caller answers the same either way, so a
    sign-up never tells whether an address has an account; the new account logs in next.
    `address` is the client's network address, kept as a hoarding signal."""
    email = User.objects.normalize_email(email).lower()
    full_name = " ".join(full_name.split())
    check_signup(email=email, password=password, full_name=full_name, phone=phone)
    try:
        with transaction.atomic():
            owner = User.objects.filter(email__iexact=email).first()
            if owner is None:
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    full_name=full_name,
                    phone=phone,
                    language=language,
                    signup_address=address or None,
                )
                send_verification_code(user=user, check_interval=False)
                return
    except IntegrityError:  # another sign-up took the address a moment ago
        owner = User.objects.get(email__iexact=email)
    make_password(password)  # the work of a new account's password, so both answers take as long
    _tell_owner_of_signup_attempt(owner=owner, reset_url=reset_url)


def _tell_owner_of_signup_attempt(*, owner: User, reset_url: str) -> None:
    """At most one such e-mail per SIGNUP_NOTICE_INTERVAL: sign-ups cannot flood an inbox."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=owner.pk).first()  # one notice at a time
        recent = owner.account_messages.filter(
            template="signup_attempt", created_at__gt=timezone.now() - SIGNUP_NOTICE_INTERVAL
        ).exists()
        if not recent:
            queue_account_message(user=owner, template="signup_attempt", context={"reset_url": reset_url})


def check_email_verified(*, user: User) -> None:
    """Booking needs a confirmed address while REQUIRE_VERIFIED_EMAIL is on."""
    if settings.REQUIRE_VERIFIED_EMAIL and not user.email_verified:
        raise EmailNotVerified()


def send_verification_code(*, user: User, now: dt.datetime | None = None, check_interval: bool = True) -> None:
    """Issue a new 6-digit code (older unused ones stop working) and e-mail it through the outbox:
    a slow or unreachable mail relay delays the e-mail, never the request."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the user row so two quick resends cannot both pass the interval check.
        User.objects.select_for_update().filter(pk=user.pk).first()
        codes = EmailVerificationCode.objects.filter(user=user, purpose=VERIFY_EMAIL)
        if check_interval and codes.filter(created_at__gt=now - RESEND_INTERVAL).exists():
            raise ResendTooSoon()
        until = _wrong_codes_until(user=user, now=now)
        if until:  # a new code could not be tried before then anyway
            raise TooManyWrongCodes(until=until, now=now)
        codes.filter(used_at__isnull=True).update(expires_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        EmailVerificationCode.objects.create(
            user=user,
            purpose=VERIFY_EMAIL,
            code_hash=hash_code(user_id=user.pk, code=code),
            expires_at=now + CODE_LIFETIME,
        )
        queue_account_message(
            user=user,
            template="verification",
            context={"code": code, "minutes": int(CODE_LIFETIME.total_seconds() // 60)},
        )


def verify_email(*, user: User, code: str, now: dt.datetime | None = None) -> User:
    """Mark the e-mail verified when `code` is the latest unexpired one; count wrong tries, at most
    CODE_MAX_ATTEMPTS per code and VERIFICATION_WRONG_CODES_PER_DAY per account (`_wrong_codes_until`)."""
    now = now or timezone.now()
    code = (code or "").strip()
    with transaction.atomic():
        # One try at a time per account, so that the count below holds until the commit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        until = _wrong_codes_until(user=user, now=now)
        if until:  # even the right code: a guess that hits must not count once capped
            raise TooManyWrongCodes(until=until, now=now, field="code")
        current = (
            EmailVerificationCode.objects.filter(user=user, purpose=VERIFY_EMAIL, used_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if current is None:
            error = InvalidCode(field="code")
        elif current.expires_at <= now:
            error = CodeExpired(field="code")
        elif current.attempts >= CODE_MAX_ATTEMPTS:
            error = TooManyAttempts(field="code")
        elif not constant_time_compare(current.code_hash, hash_code(user_id=user.pk, code=code)):
            # The wrong try is counted and committed before the error goes out.
            current.attempts += 1
            current.save(update_fields=["attempts"])
            until = _wrong_codes_until(user=user, now=now)
            if until:
                error = TooManyWrongCodes(until=until, now=now, field="code")
            elif current.attempts >= CODE_MAX_ATTEMPTS:
                error = TooManyAttempts(field="code")
            else:
                error = InvalidCode(field="code")
        else:
            current.used_at = now
            current.save(update_fields=["used_at"])
            User.objects.filter(pk=user.pk).update(email_verified=True)
            user.email_verified = True
            error = None
    if error:
        raise error
    return user


def _wrong_codes_until(*, user: User, now: dt.datetime) -> dt.datetime | None:
    """When the account may try codes again, or None while it may: at most
    VERIFICATION_WRONG_CODES_PER_DAY wrong tries on the codes issued in the last 24 hours. Each new
    code brings CODE_MAX_ATTEMPTS tries; without this, a resend a minute gave 5 more guesses
    (about 7,200 a day). The cap lifts when the oldest codes' tries leave the 24 hours."""
    limit = settings.VERIFICATION_WRONG_CODES_PER_DAY
    tried = list(
        EmailVerificationCode.objects.filter(
            user=user, purpose=VERIFY_EMAIL, created_at__gt=now - WRONG_CODES_WINDOW, attempts__gt=0
        )
        .order_by("created_at")
        .values_list("created_at", "attempts")
    )
    wrong = sum(attempts for _created, attempts in tried)
    if wrong < limit:
        return None
    for created_at, attempts in tried:  # oldest first: once enough of them leave the window
        wrong -= attempts
        if wrong < limit:
            return created_at + WRONG_CODES_WINDOW
    return now + WRONG_CODES_WINDOW  # a limit of 0: no tries at all


# --- NIKs refused as already in someone else's application ---------------------------------


def check_bookings_allowed(*, account: User, now: dt.datetime) -> None:
    """Refuse (429) the bookings of an account paused by record_refused_niks, until its day ends."""
    until = account.bookings_paused_until
    if until is not None and until > now:
        raise BookingsPaused(until=until, now=now)


def record_refused_niks(*, account: User, niks: list[str], now: dt.datetime | None = None) -> None:
    """Count the NIKs this account was refused today because someone else's active application
    holds them; at REFUSED_NIKS_PER_DAY different NIKs, pause its bookings until the day ends."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    with transaction.atomic(durable=True):
        for nik in set(niks):
            digest = salted_hmac("accounts.RefusedNik", nik).hexdigest()
            row, created = RefusedNik.objects.get_or_create(
                account=account, day=day, nik_digest=digest, defaults={"last_at": now}
            )
            if not created:
                RefusedNik.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1, last_at=now)
        if RefusedNik.objects.filter(account=account, day=day).count() >= settings.REFUSED_NIKS_PER_DAY:
            until = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
            User.objects.filter(pk=account.pk).update(bookings_paused_until=until)
            account.bookings_paused_until = until


# --- Hoarding: flags and restrictions (accounts.hoarding) ----------------------------------


def check_not_restricted(*, account: User, now: dt.datetime) -> None:
    """Refuse (403 account_restricted, with until when and why) an account under a hoarding
    restriction. Booking, draw entries and the waiting list call it; it reads only the account's
    row, which the caller has already loaded."""
    if account.restricted_by == BLOCKED:
        raise AccountRestricted()
    until = account.restricted_until
    if until is not None and until > now:
        rule = hoarding_rules().get(account.restricted_by)
        raise AccountRestricted(until=until, reason=rule.explanation() if rule else "")


def raise_hoarding_flags(*, hits: dict[str, list[Hit]], now: dt.datetime | None = None) -> list[AccountFlag]:
    """Flag each account that met a rule (`hits` by rule name) and restrict it for the rule's
    `restrict_for`. An account flagged by a rule within that rule's window is not flagged again,
    whatever staff decided, so no counted event leads to two flags; a blocked account stays so."""
    now = now or timezone.now()
    rules = hoarding_rules()
    raised = []
    with transaction.atomic(durable=True):
        for name, rule_hits in hits.items():
            rule = rules[name]
            recent = set(
                AccountFlag.objects.filter(
                    rule=name, account_id__in={hit.account_id for hit in rule_hits}, raised_at__gt=now - rule.window
                ).values_list("account_id", flat=True)
            )
            for hit in rule_hits:
                if hit.account_id in recent:
                    continue
                recent.add(hit.account_id)
                raised.append(_flag(rule=rule, hit=hit, now=now))
    return raised


def _flag(*, rule: Rule, hit: Hit, now: dt.datetime) -> AccountFlag:
    until = now + rule.restrict_for if rule.restrict_for else None
    flag = AccountFlag.objects.create(
        account_id=hit.account_id,
        rule=rule.name,
        signal=rule.signal,
        subject=hit.subject[:64],
        count=hit.count,
        window_start=now - rule.window,
        raised_at=now,
        restricted_until=until,
    )
    if until is not None:
        account = User.objects.select_for_update().get(pk=hit.account_id)
        if account.restricted_by != BLOCKED and (account.restricted_until is None or account.restricted_until < until):
            account.restricted_until, account.restricted_by = until, rule.name
            account.save(update_fields=["restricted_until", "restricted_by"])
    return flag


def lift_flag(*, flag_id: int, actor: User, note: str = "", now: dt.datetime | None = None) -> AccountFlag:
    """A reviewer finds the flag unfounded: it is lifted, and so is its restriction. The account
    stays restricted by its other open flags still running, if any (the latest end wins)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        flag = AccountFlag.objects.select_for_update().get(pk=flag_id)
        account = User.objects.select_for_update().get(pk=flag.account_id)
        _decide(flag=flag, state=AccountFlag.State.LIFTED, actor=actor, note=note, now=now)
        if account.restricted_by != BLOCKED:
            other = (
                AccountFlag.objects.filter(account=account, state=AccountFlag.State.OPEN, restricted_until__gt=now)
                .order_by("-restricted_until")
                .first()
            )
            account.restricted_until = other.restricted_until if other else None
            account.restricted_by = other.rule if other else ""
            account.save(update_fields=["restricted_until", "restricted_by"])
    return flag


def block_account(*, flag_id: int, actor: User, note: str = "", now: dt.datetime | None = None) -> AccountFlag:
    """A reviewer confirms the flag: the account may no longer book, enter or wait, with no end.
    It can still sign in and see (or cancel) its applications."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        flag = AccountFlag.objects.select_for_update().get(pk=flag_id)
        account = User.objects.select_for_update().get(pk=flag.account_id)
        _decide(flag=flag, state=AccountFlag.State.BLOCKED, actor=actor, note=note, now=now)
        account.restricted_until, account.restricted_by = None, BLOCKED
        account.save(update_fields=["restricted_until", "restricted_by"])
    return flag


def _decide(*, flag: AccountFlag, state: str, actor: User, note: str, now: dt.datetime) -> None:
    flag.state, flag.decided_by, flag.decided_at, flag.note = state, actor, now, note[:255]
    flag._history_user = actor  # the flag's history is the audit of every decision
    flag.save(update_fields=["state", "decided_by", "decided_at", "note"])


# --- Passwords ---------------------------------------------------------------------------


def set_new_password(*, user: User, password: str, now: dt.datetime | None = None) -> None:
    """Set the account's password (a reset or a change) and shut every door the old one opened:
    every API token is revoked, and every web session ends, because Django checks each session
    against a hash of the password at its next request. A signed-in change keeps its own session
    by renewing that hash (`update_session_auth_hash`, in the view)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now or timezone.now())


# --- API tokens ----------------------------------------------------------------------------


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
