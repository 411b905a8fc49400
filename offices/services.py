"""Writes of the offices app: staff accounts' membership."""

from mpaspor.db import in_callers_transaction

from .models import Office, StaffMembership


@in_callers_transaction
def enrol_staff_account(*, user, office: Office, role: str = StaffMembership.Role.OFFICER) -> StaffMembership:
    """Make a freshly created account a staff member of one office (its only way into the staff
    screens and the counter), in the transaction that created the account (the admin's)."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    membership, _created = StaffMembership.objects.get_or_create(user=user, role=role, office=office, region=None)
    return membership
