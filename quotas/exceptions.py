from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError


class QuotaError(DomainError):
    pass


class SlotNotFound(QuotaError):
    code = "not_found"
    http_status = 404
    default_message = _("This session does not exist.")


class SlotFull(QuotaError):
    code = "slot_full"
    default_message = _("This session is full. Please choose another session or date.")


class ExpressFull(QuotaError):
    code = "express_full"
    default_message = _("No same-day service places are left on this date. Choose regular service or another date.")


class WalkInOnly(QuotaError):
    code = "walk_in_only"
    default_message = _("This session takes walk-ins only, without booking: come to the office on the day.")


class OfficeClosed(QuotaError):
    code = "office_closed"
    default_message = _("The office is closed for this session (an incident). Please choose another date.")


class NotOpenYet(QuotaError):
    code = "not_open_yet"
    default_message = _("Booking for this date has not opened yet.")


class SlotInPast(QuotaError):
    code = "slot_past"
    default_message = _("This session has already started or is over.")


class ShrinkRefused(QuotaError):
    """A change of rules would leave fewer places than are already taken."""

    code = "shrink_refused"
    default_message = _("This change would leave fewer places than are already taken: %(slots)s.")
