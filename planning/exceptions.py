from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError


class PlanningError(DomainError):
    pass


class InvalidProposal(PlanningError):
    code = "invalid"
    http_status = 400
    default_message = _("This proposal is incomplete.")


class AlreadyDecided(PlanningError):
    code = "already_decided"
    default_message = _("This proposal was already decided.")


class RoundClosed(PlanningError):
    code = "round_closed"
    default_message = _("The division has decided on this evaluation; it can no longer be changed.")
