"""Writes of the offices app: staff accounts' membership, an office's staff and facilities,
incidents, its passport types and blank book stock (docs/book-stock.md)."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from mpaspor.db import in_callers_transaction

from . import permissions
from .exceptions import IncidentInvalid, IncidentNotAllowed, StockInputError
from .incidents import forget_banner
from .models import (
    Incident,
    Office,
    OfficeResources,
    PassportStock,
    PassportType,
    StaffMembership,
    StockReceipt,
    StockUse,
)
from .signals import incident_changed, stock_changed

# A delivery larger than this is a typing slip (an office prints a few hundred books a day).
MAX_BOOKS_PER_DELIVERY = 100_000
# How far back a delivery may be dated: recorded late, not from another year.
MAX_RECEIPT_AGE_DAYS = 60

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


def _announce(*, office_id: int, passport_type: str) -> None:
    transaction.on_commit(
        lambda: stock_changed.send(sender=PassportStock, office_id=office_id, passport_type=passport_type),
        robust=True,
    )


def _check_type(passport_type) -> None:
    if passport_type not in PassportType.values:
        raise StockInputError(_("Choose a passport type."), field="passport_type")


def record_receipt(
    *,
    office: Office,
    passport_type: str,
    books: int,
    reference: str,
    received_on: dt.date,
    actor,
    now: dt.datetime | None = None,
) -> StockReceipt:
    """Add a delivery of blank books to the office's stock of `passport_type`, with its delivery
    note's reference and date and who recorded it; the outlook is refreshed after the commit.
    Refuses bad input (StockInputError) and the same reference twice; nothing is written then."""
    now = now or timezone.now()
    _check_type(passport_type)
    if isinstance(books, bool) or not isinstance(books, int) or not 1 <= books <= MAX_BOOKS_PER_DELIVERY:
        raise StockInputError(
            _("A delivery has 1 to %(max)s books.") % {"max": f"{MAX_BOOKS_PER_DELIVERY:,}"}, field="books"
        )
    reference = (reference or "").strip()
    if not reference or len(reference) > 60:
        raise StockInputError(_("Write the delivery note's reference (at most 60 characters)."), field="reference")
    today = now.astimezone(office.tzinfo).date()
    if received_on > today or received_on < today - dt.timedelta(days=MAX_RECEIPT_AGE_DAYS):
        raise StockInputError(
            _("The delivery date is today or within the last %(days)s days.") % {"days": MAX_RECEIPT_AGE_DAYS},
            field="received_on",
        )
    with transaction.atomic(durable=True):
        stock, _created = PassportStock.objects.select_for_update().get_or_create(
            office=office, passport_type=passport_type
        )
        try:
            with transaction.atomic():
                receipt = StockReceipt.objects.create(
                    stock=stock, books=books, reference=reference, received_on=received_on, recorded_by=actor
                )
        except IntegrityError:
            raise StockInputError(
                _("The delivery %(reference)s is already recorded for this office and type."),
                field="reference",
                reference=reference,
            ) from None
        PassportStock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + books)
        _announce(office_id=office.pk, passport_type=passport_type)
    return receipt


def set_type_issued(*, office: Office, passport_type: str, issued: bool) -> PassportStock:
    """Whether the office issues `passport_type` at all. An office not issuing it refuses its
    bookings and entries, and the office lists hide it for that type. Nests in the admin's save."""
    _check_type(passport_type)
    with transaction.atomic():
        stock, _created = PassportStock.objects.select_for_update().get_or_create(
            office=office, passport_type=passport_type, defaults={"issued": issued}
        )
        if stock.issued != issued:
            stock.issued = issued
            stock.save(update_fields=["issued"])
        _announce(office_id=office.pk, passport_type=passport_type)
    return stock


@in_callers_transaction
def use_book(*, office_id: int, passport_type: str, application_id: int, now: dt.datetime) -> bool:
    """One book of the office's stock used by the printing of one application, in the caller's
    transaction (the printing step's). Once per application: a second call uses nothing and
    answers False. An office keeping no stock of the type (no row) records nothing."""
    stock_id = (
        PassportStock.objects.filter(office_id=office_id, passport_type=passport_type)
        .values_list("pk", flat=True)
        .first()
    )
    if stock_id is None:
        return False
    office_tz = Office.objects.only("timezone").get(pk=office_id).tzinfo
    try:
        with transaction.atomic():
            StockUse.objects.create(
                stock_id=stock_id, application_id=application_id, used_on=now.astimezone(office_tz).date(), used_at=now
            )
    except IntegrityError:
        return False  # this application's book was already counted
    PassportStock.objects.filter(pk=stock_id).update(on_hand=F("on_hand") - 1)
    _announce(office_id=office_id, passport_type=passport_type)
    return True


def set_outlook(*, stock_id: int, closed_from: dt.date | None, booked_ahead: int, now: dt.datetime) -> None:
    """Store a refreshed outlook: one UPDATE, no lock taken beforehand (the booking path reads
    this row without locking it)."""
    PassportStock.objects.filter(pk=stock_id).update(closed_from=closed_from, booked_ahead=booked_ahead, outlook_at=now)
