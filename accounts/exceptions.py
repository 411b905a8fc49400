from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError


class AccountError(DomainError):
    pass


class InvalidCredentials(AccountError):
    code = "invalid_credentials"
    http_status = 400
    default_message = _("The e-mail address or password is wrong.")


class LoginLockedOut(AccountError):
    code = "throttled"
    http_status = 429
    default_message = _("Too many failed logins. Try again in %(minutes)s minutes.")


class EmailTaken(AccountError):
    code = "invalid"
    http_status = 400
    default_message = _("An account with this e-mail address already exists.")


class EmailNotVerified(AccountError):
    code = "email_not_verified"
    http_status = 403
    default_message = _("Confirm your e-mail address with the code we sent before booking.")


class InvalidVerificationCode(AccountError):
    code = "invalid"
    http_status = 400
    default_message = _("The code is wrong or has expired. Ask for a new one.")
