"""What incidents give applications (docs/incidents.md): payment deadlines moved past an outage
of the payment system or the portal, and the applicants of a closed session told and let move
to another day. Recomputed from every live incident, so a correction takes back what it gave."""

import datetime as dt

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from offices.incidents import PAYMENT_KINDS, covering, extended_deadline, live_incidents, outages
from offices.models import Office

from ..models import Application, ApplicationEvent, Status
from ..outbox import queue_message

# Applications that a closed session displaces: those still coming.
COMING = (Status.PENDING_PAYMENT, Status.BOOKED)


def extend_payment_deadlines(*, now: dt.datetime | None = None) -> int:
    """Set each unpaid hold's deadline to its deadline without incidents, moved by the overlap
    of its payment window with every outage of payment (overlapping incidents once) plus the
    grace (offices.incidents.extended_deadline). A hold an incident no longer touches gets its
    own deadline back. Only holds still awaiting payment change: an expired hold stays expired.
    Returns how many deadlines changed."""
    now = now or timezone.now()
    incidents = live_incidents(kinds=PAYMENT_KINDS)
    holds = Application.objects.filter(status=Status.PENDING_PAYMENT, payment_due_at__isnull=False)
    touched = Q(payment_due_base__isnull=False)
    if incidents:
        # A window [created_at, due) can overlap only incidents that started before it ended.
        touched |= Q(payment_due_at__gt=min(i.starts_at for i in incidents))
    changed = 0
    offices: dict[int, list] = {}
    with transaction.atomic():
        for hold in holds.filter(touched).select_related("slot__office").order_by("pk").iterator():
            office: Office = hold.slot.office
            if office.pk not in offices:
                offices[office.pk] = outages(covering(incidents, office), now=now)
            base = hold.payment_due_base or hold.payment_due_at
            due = extended_deadline(opened_at=hold.created_at, due=base, periods=offices[office.pk])
            new_base = base if due != base else None
            if (due, new_base) != (hold.payment_due_at, hold.payment_due_base):
                # Conditional on the status: a payment or the expiry job that got there first decides.
                changed += Application.objects.filter(pk=hold.pk, status=Status.PENDING_PAYMENT).update(
                    payment_due_at=due, payment_due_base=new_base
                )
    return changed


def displace_applications(*, now: dt.datetime | None = None) -> int:
    """Match `displaced_by` to the closed sessions (`Slot.closed_by`): the applicants of a newly
    closed session are told (message `office_closed`) and may move to another day; an application
    whose session opened again is no longer displaced. Returns how many were newly displaced."""
    now = now or timezone.now()
    newly = 0
    with transaction.atomic():
        Application.objects.filter(displaced_by__isnull=False, slot__closed_by__isnull=True, status__in=COMING).update(
            displaced_by=None
        )
        displaced = (
            Application.objects.filter(status__in=COMING, slot__closed_by__isnull=False, slot__starts_at__gt=now)
            .exclude(displaced_by_id=F("slot__closed_by_id"))
            .select_related("slot__office", "slot__closed_by", "account")
            .order_by("pk")
        )
        for application in displaced:
            incident = application.slot.closed_by
            first_time = application.displaced_by_id is None
            application.displaced_by = incident
            application.save(update_fields=["displaced_by", "updated_at"])
            if first_time:
                newly += 1
                ApplicationEvent.objects.create(
                    application=application,
                    from_status=application.status,
                    to_status=application.status,
                    reason=f"session closed by incident {incident.pk}",
                )
                queue_message(
                    application=application,
                    template="office_closed",
                    context={"incident_message": incident.message(application.language)},
                )
    return newly
