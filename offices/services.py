"""Writes of the offices app: staff accounts' membership."""

from django.db import transaction

from .models import Office, StaffMembership


def enrol_staff_account(*, user, office: Office, role: str = StaffMembership.Role.OFFICER) -> StaffMembership:
    """Make a freshly created account a staff member of one office (its only way into the staff
    screens and the counter)."""
    with transaction.atomic():
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        membership, _created = StaffMembership.objects.get_or_create(user=user, role=role, office=office, region=None)
    return membership
