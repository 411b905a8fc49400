from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError


class AccountError(DomainError):
    http_status = 400


class InvalidCode(AccountError):
    code = "invalid_code"
    default_message = _("This code is not right. Check the e-mail and try again.")


class CodeExpired(AccountError):
    code = "code_expired"
    default_message = _("This code has expired. Ask for a new one.")


class TooManyAttempts(AccountError):
    code = "too_many_attempts"
    http_status = 429
    default_message = _("Too many wrong codes. Ask for a new one.")


class ResendTooSoon(AccountError):
    code = "resend_too_soon"
    http_status = 429
    default_message = _("A code was sent less than a minute ago. Please wait a moment before asking again.")


class InvalidCredentials(AccountError):
    code = "invalid_credentials"
    default_message = _("The e-mail address or password is wrong.")


class LoginLockedOut(AccountError):
    code = "throttled"
    http_status = 429
    default_message = _("Too many failed logins. Try again in %(minutes)s minutes.")


class PasswordChecksBusy(AccountError):
    code = "throttled"
    http_status = 429
    retry_after = 1
    default_message = _("Many people are logging in right now. Please try again in a moment.")


class EmailNotVerified(AccountError):
    code = "email_not_verified"
    http_status = 403
    default_message = _("Confirm your e-mail address with the code we sent before booking.")


class InvalidIdempotencyKey(AccountError):
    code = "invalid"
    default_message = _("An Idempotency-Key is 1 to 255 visible ASCII characters (a UUID, for example).")


class IdempotencyMismatch(AccountError):
    code = "idempotency_mismatch"
    http_status = 422
    default_message = _("This Idempotency-Key was sent with another request. Use a new key for a new request.")


class RequestInProgress(AccountError):
    code = "request_in_progress"
    http_status = 409
    default_message = _("A request with this Idempotency-Key is still being processed. Try again in a moment.")


class AccountThrottled(AccountError):
    """A 429 that says until when: the API answers with Retry-After (seconds)."""

    code = "throttled"
    http_status = 429

    def __init__(self, *, until, now, field=None):
        local = timezone.localtime(until)
        super().__init__(time=f"{formats.date_format(local, 'j F Y, H:i')} {local.tzname()}", field=field)
        self.retry_after = max(1, int((until - now).total_seconds()))


class BookingsPaused(AccountThrottled):
    default_message = _(
        "This account tried too many NIKs today that already have an active application. "
        "It can book again from %(time)s."
    )


class TooManyWrongCodes(AccountThrottled):
    default_message = _("Too many wrong codes for this account today. Try again from %(time)s.")


class AccountRestricted(AccountError):
    """A hoarding restriction (accounts.hoarding): until when and why, or blocked by staff."""

    code = "account_restricted"
    http_status = 403
    default_message = _(
        "This account may not book, enter a draw or join a waiting list until %(time)s. Why: %(reason)s "
        "If you think this is a mistake, contact the immigration office."
    )
    blocked_message = _(
        "This account may no longer book, enter a draw or join a waiting list: immigration staff blocked it "
        "after a review. Contact the immigration office."
    )

    def __init__(self, *, until=None, reason=""):
        if until is None:
            super().__init__(self.blocked_message)
        else:
            local = timezone.localtime(until)
            super().__init__(time=f"{formats.date_format(local, 'j F Y, H:i')} {local.tzname()}", reason=reason)
        self.until = until
