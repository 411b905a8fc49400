from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError


class AllocationError(DomainError):
    pass


class DuplicateEntry(AllocationError):
    code = "duplicate_entry"
    # As for a booking: the refusal says the NIK is taken, nothing about who holds it.
    default_message = _(
        "This NIK is already entered in a draw or waiting for a place. Withdraw that first; if it is not "
        "yours, contact the immigration office."
    )


class NotInEntryWindow(AllocationError):
    code = "not_in_entry_window"
    default_message = _("Entries for this release are not open: its entry window has not started or has closed.")


class ReleaseNotFound(AllocationError):
    code = "not_found"
    http_status = 404
    default_message = _("No such release.")


class EntryNotFound(AllocationError):
    code = "not_found"
    http_status = 404
    # Someone else's entry gets the same answer as one that does not exist.
    default_message = _("No such entry.")


class NotDrawnYet(AllocationError):
    code = "not_drawn_yet"
    default_message = _("This release has not been drawn yet.")


class EntryAlreadyDecided(AllocationError):
    """An entry's outcome was written by another run of the same draw: nothing to do."""

    code = "entry_decided"


# --- The waiting list and its offers ---------------------------------------------------------


class WaitingNotAllowed(AllocationError):
    code = "invalid"
    http_status = 400
    default_message = _("This waiting list cannot be joined.")


class OfficeClosedForWaiting(AllocationError):
    code = "not_found"
    http_status = 404
    default_message = _("This office is not taking applications at the moment; choose another office.")


class WaitingNotFound(AllocationError):
    code = "not_found"
    http_status = 404
    default_message = _("No such place on your waiting list.")


class OfferNotFound(AllocationError):
    code = "not_found"
    http_status = 404
    default_message = _("No such offer.")


class OfferExpired(AllocationError):
    code = "offer_expired"
    default_message = _("This offer is no longer open: it expired, was declined or was withdrawn.")
