"""What incidents give applications (docs/incidents.md): payment deadlines moved past an outage
of the payment system or the portal, the applicants of a closed session told and let move to
another day (and their booking cancelled, the fee refunded, if they never move), and the
applicants of a day served by walk-in told that their booking stands. Recomputed from every live
incident, so a correction takes back what it gave."""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from offices.incidents import PAYMENT_KINDS, Deadline, move_deadlines

from ..models import Application, ApplicationEvent, Payment, Status
from ..outbox import queue_message
from .lifecycle import do_transition

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
            # A request to come earlier ends: the closure gives its own move (services.earlier).
            application.earlier_from = application.earlier_asked_at = None
            application.save(update_fields=["displaced_by", "earlier_from", "earlier_asked_at", "updated_at"])
            if first_time:
                newly += 1
                _tell(application, incident, template="office_closed", why=f"session closed by incident {incident.pk}")
    return newly


def _tell(application: Application, incident, *, template: str, why: str) -> None:
    """What an incident did to an application: an event in its history (its status unchanged)
    and a message with the incident's own words in the applicant's language."""
    ApplicationEvent.objects.create(
        application=application, from_status=application.status, to_status=application.status, reason=why
    )
    queue_message(
        application=application,
        template=template,
        context={"incident_message": incident.message(application.language)},
    )


def tell_walk_in_applicants(*, slot_ids: list[int]) -> int:
    """The applicants of sessions newly served by walk-in keep their booking: told (message
    `walk_in_day`, with the incident's message) to come at their time, served as booked, while
    people without a booking are served in order of arrival. Returns how many were told."""
    if not slot_ids:
        return 0  # the minute job's usual case: no statement at all
    coming = (
        Application.objects.filter(slot_id__in=slot_ids, status__in=COMING)
        .select_related("slot__walk_in_by__incident", "account")
        .order_by("pk")
    )
    told = 0
    with transaction.atomic():
        for application in coming:
            incident = application.slot.walk_in_by.incident
            _tell(
                application, incident, template="walk_in_day", why=f"day served by walk-in for incident {incident.pk}"
            )
            told += 1
    return told


def cancel_unmoved_displaced(*, now: dt.datetime | None = None) -> int:
    """A displaced application still on its closed session when the session starts is cancelled:
    the office did not serve it and the applicant chose no other day. Its fee, if paid, is
    flagged for refund (`Payment.refund_due`, as a late payment's), since the applicant did
    nothing wrong; the message says so. Frees the NIK for a new booking. Returns how many."""
    now = now or timezone.now()
    cancelled = 0
    with transaction.atomic():
        unmoved = (
            Application.objects.select_for_update(of=("self",))
            .filter(status__in=COMING, displaced_by__isnull=False, slot__starts_at__lte=now)
            .order_by("pk")
        )
        for application in unmoved:
            refund = Payment.objects.filter(application=application).update(refund_due=True) > 0  # already flagged too
            do_transition(
                application=application,
                to=Status.CANCELLED,
                reason=f"session closed by incident {application.displaced_by_id}; no other day chosen",
                message_context={"office_closed": True, "refund": refund},
            )
            cancelled += 1
    return cancelled
