"""Writes of the offices app: staff accounts' membership, an office's staff and facilities."""

from mpaspor.db import in_callers_transaction

from .models import Office, OfficeResources, StaffMembership

# What an office head states about the office (OfficeResources), besides the counters.
RESOURCE_FIELDS = (
    "verifiers",
    "biometric_operators",
    "interviewers",
    "approvers",
    "printing_staff",
    "biometric_stations",
    "printers",
    "opens_at",
    "closes_at",
    "saturday_ready",
    "sunday_ready",
)


@in_callers_transaction
def enrol_staff_account(*, user, office: Office, role: str = StaffMembership.Role.OFFICER) -> StaffMembership:
    """Make a freshly created account a staff member of one office (its only way into the staff
    screens and the counter), in the transaction that created the account (the admin's)."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    membership, _created = StaffMembership.objects.get_or_create(user=user, role=role, office=office, region=None)
    return membership


@in_callers_transaction
def set_office_resources(*, office: Office, counters: int, values: dict, actor=None) -> OfficeResources:
    """Store the office's staff on duty, facilities and hours (`values`, keyed by RESOURCE_FIELDS)
    and its counters; the history keeps who changed what."""
    resources = OfficeResources.objects.select_for_update().filter(office=office).first() or OfficeResources(
        office=office
    )
    for name in RESOURCE_FIELDS:
        setattr(resources, name, values[name])
    resources._history_user = actor
    resources.full_clean(exclude=["office"])
    resources.save()
    if office.counter_count != counters:
        office.counter_count = counters
        office._history_user = actor
        office.save(update_fields=["counter_count"])
    return resources
