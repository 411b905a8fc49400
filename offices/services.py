"""Writes of the offices app: staff accounts' membership, an office's staff and facilities,
incidents."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mpaspor.db import in_callers_transaction

from . import permissions
from .exceptions import IncidentInvalid, IncidentNotAllowed
from .incidents import forget_banner
from .models import Incident, Office, OfficeResources, StaffMembership
from .signals import incident_changed

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


# --- Incidents ----------------------------------------------------------------------------
# Each change of an incident and its recomputation (offices.signals) share one transaction; a
# plain atomic block, as the admin's save runs them inside its own (as slot generation does).

INCIDENT_REACH = dt.timedelta(days=366)
INCIDENT_FIELDS = ("kind", "scope", "region", "office", "starts_at", "ends_at", "message_id", "message_en")


def check_incident(*, actor, incident: Incident) -> None:
    """The incident's fields hang together and `actor` may declare it (IncidentInvalid,
    IncidentNotAllowed). Reads nothing but the actor's memberships."""
    if incident.scope == Incident.Scope.ALL:
        incident.region, incident.office = None, None
    elif incident.scope == Incident.Scope.REGION:
        incident.office = None
        if incident.region_id is None:
            raise IncidentInvalid(_("Choose the region."), field="region")
    elif incident.scope == Incident.Scope.OFFICE:
        incident.region = None
        if incident.office_id is None:
            raise IncidentInvalid(_("Choose the office."), field="office")
    if incident.starts_at is None:
        raise IncidentInvalid(_("Give the start."), field="starts_at")
    # An incident is about this year: far dates are typing errors (and overflow a deadline's sum).
    now = timezone.now()
    if not now - INCIDENT_REACH <= incident.starts_at <= now + INCIDENT_REACH:
        raise IncidentInvalid(_("The start must be within a year of today."), field="starts_at")
    if incident.ends_at is not None and incident.ends_at <= incident.starts_at:
        raise IncidentInvalid(_("The end must come after the start."), field="ends_at")
    if incident.ends_at is not None and incident.ends_at > incident.starts_at + INCIDENT_REACH:
        raise IncidentInvalid(_("An incident lasts at most a year."), field="ends_at")
    if not (incident.message_id or "").strip() or not (incident.message_en or "").strip():
        raise IncidentInvalid(_("Write the message in Indonesian and in English."), field="message_id")
    if not permissions.may_declare_incident(
        actor, scope=incident.scope, region_id=incident.region_id, office=incident.office
    ):
        raise IncidentNotAllowed()


def declare_incident(*, actor, **fields) -> Incident:
    """Declare an incident (fields: INCIDENT_FIELDS) and apply what it gives, in one transaction."""
    assert set(fields) <= set(INCIDENT_FIELDS), fields
    with transaction.atomic():
        return _save_incident(actor=actor, incident=Incident(**fields), before=None)


def change_incident(*, actor, incident_id: int, **fields) -> Incident:
    """Correct an incident's fields (its times, scope or message), or end it (`ends_at`); what
    every incident gives is recomputed. The actor must be allowed the old scope and the new."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        _check_may_change(actor=actor, incident=incident)
        for name, value in fields.items():
            assert name in INCIDENT_FIELDS, name
            setattr(incident, name, value)
        return _save_incident(actor=actor, incident=incident, before=incident_id)


def withdraw_incident(*, actor, incident_id: int, now: dt.datetime | None = None) -> Incident:
    """An incident declared by mistake: it stays on record and gives nothing any more."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        _check_may_change(actor=actor, incident=incident)
        if incident.withdrawn_at is None:
            incident.withdrawn_at = now
            incident._history_user = actor
            incident.save(update_fields=["withdrawn_at"])
            incident_changed.send(sender=Incident, incident_id=incident.pk)
            transaction.on_commit(forget_banner)
        return incident


def _check_may_change(*, actor, incident: Incident) -> None:
    if not permissions.may_declare_incident(
        actor, scope=incident.scope, region_id=incident.region_id, office=incident.office
    ):
        raise IncidentNotAllowed()


def _save_incident(*, actor, incident: Incident, before: int | None) -> Incident:
    check_incident(actor=actor, incident=incident)
    with transaction.atomic():
        if before is None:
            incident.declared_by = actor
        incident._history_user = actor
        incident.save()
        # Receivers recompute what incidents give inside this transaction (offices.signals).
        incident_changed.send(sender=Incident, incident_id=incident.pk)
        transaction.on_commit(forget_banner)
    return incident
