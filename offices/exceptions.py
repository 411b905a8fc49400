"""Domain errors of the offices app."""

from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError


class OfficeError(DomainError):
    pass


class IncidentError(OfficeError):
    pass


class IncidentNotAllowed(IncidentError):
    code = "permission_denied"
    http_status = 403
    default_message = _("You may not declare or change an incident for this scope.")


class IncidentInvalid(IncidentError):
    code = "invalid"
    http_status = 400
    default_message = _("This incident is not valid.")


class PassportTypeUnavailable(OfficeError):
    """The office does not issue the passport type, or its blank books are booked out from the
    session's date on (docs/book-stock.md)."""

    code = "passport_type_unavailable"
    http_status = 409
    default_message = _("This office cannot take bookings for this passport type on this date.")


class StockInputError(OfficeError):
    code = "invalid"
    http_status = 400
