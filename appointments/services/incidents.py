"""What incidents give applications (docs/incidents.md): payment deadlines moved past an outage
of the payment system or the portal, and the applicants of a closed session told and let move
to another day. Recomputed from every live incident, so a correction takes back what it gave."""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from offices.incidents import PAYMENT_KINDS, Deadline, move_deadlines

from ..models import Application, ApplicationEvent, Status
from ..outbox import queue_message

PAYMENT_DEADLINE = Deadline(opened="created_at", due="payment_due_at", base="payment_due_base", office="slot__office")

# Applications that a closed session displaces: those still coming.
COMING = (Status.PENDING_PAYMENT, Status.BOOKED)


def extend_payment_deadlines(*, now: dt.datetime | None = None) -> int:
    """Each unpaid hold's deadline moved by every outage of payment that overlapped its window
    (offices.incidents.move_deadlines); only holds still awaiting payment change, so an expired
    hold stays expired. Returns how many deadlines changed."""
    holds = Application.objects.filter(status=Status.PENDING_PAYMENT, payment_due_at__isnull=False)
    with transaction.atomic():
        return move_deadlines(holds, PAYMENT_DEADLINE, kinds=PAYMENT_KINDS, now=now or timezone.now())


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
