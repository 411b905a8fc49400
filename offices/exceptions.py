from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError


class IncidentError(DomainError):
    pass


class IncidentNotAllowed(IncidentError):
    code = "permission_denied"
    http_status = 403
    default_message = _("You may not declare or change an incident for this scope.")


class IncidentInvalid(IncidentError):
    code = "invalid"
    http_status = 400
    default_message = _("This incident is not valid.")
