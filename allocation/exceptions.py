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
