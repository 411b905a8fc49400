"""An application's life: the one table of allowed status changes, and every service that moves
an application along it (cancel, reschedule, expiry of unpaid holds, no-shows, staff steps).

Every status change passes through `do_transition`, which also gives the place back when the
new status releases it; a reschedule gives back the old place itself. Each give-back sends
quotas' `place_given_back` once its transaction commits."""

import datetime as dt
import functools
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mpaspor.db import in_callers_transaction
from quotas.exceptions import OfficeClosed, SlotFull, SlotInPast, SlotNotFound, WalkInOnly
from quotas.models import Pool, Slot
from quotas.services.claims import claim_places, lock_for_move, return_places

from ..exceptions import (
    ApplicationNotFound,
    CancelNotAllowed,
    KindNotAccepted,
    RescheduleNotAllowed,
    TransitionNotAllowed,
)
from ..models import RELEASED_STATUSES, Application, ApplicationEvent, Status
from ..outbox import STATUS_MESSAGES, queue_message

ALLOWED_TRANSITIONS = {
    Status.PENDING_PAYMENT: {Status.BOOKED, Status.CANCELLED, Status.EXPIRED},
    Status.BOOKED: {Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW},
    Status.CHECKED_IN: {Status.IN_PROCESS, Status.REJECTED, Status.CANCELLED},
    Status.IN_PROCESS: {Status.APPROVED, Status.REJECTED},
    Status.APPROVED: {Status.ISSUED},
    Status.ISSUED: {Status.COLLECTED},
    Status.COLLECTED: set(),
    Status.CANCELLED: set(),
    Status.EXPIRED: set(),
    Status.NO_SHOW: set(),
    Status.REJECTED: set(),
}
# Why a released status gives its place back, as quotas' place_given_back says it.
GIVE_BACK_REASON = {Status.CANCELLED: "cancelled", Status.EXPIRED: "expired", Status.NO_SHOW: "no_show"}
assert set(GIVE_BACK_REASON) == set(RELEASED_STATUSES)


@in_callers_transaction
def do_transition(
    *, application: Application, to: str, actor=None, reason: str = "", message_context: dict | None = None
) -> Application:
    """Change one application's status, give its place back if the new status releases it,
    write the event and queue the applicant's message (outbox, sent after commit). The caller
    holds the application row locked (`select_for_update`) in its transaction."""
    current = application.status
    if to not in ALLOWED_TRANSITIONS[current]:
        raise TransitionNotAllowed(current=Status(current).label, target=Status(to).label)
    if to in RELEASED_STATUSES and current not in RELEASED_STATUSES:
        return_places(slot_id=application.slot_id, reason=GIVE_BACK_REASON[to], express=int(application.express))
    application.status = to
    # A request to come earlier is a booked household's (services.earlier): a member who pays joins
    # the one the others made; leaving `booked` ends it.
    application.earlier_from, application.earlier_asked_at = _household_request(application, to=to)
    application.save(update_fields=["status", "earlier_from", "earlier_asked_at", "updated_at"])
    ApplicationEvent.objects.create(
        application=application, from_status=current, to_status=to, actor=actor, reason=reason[:255]
    )
    if to in STATUS_MESSAGES:
        queue_message(application=application, template=STATUS_MESSAGES[to], context=message_context)
    return application


def _household_request(application: Application, *, to: str) -> tuple[dt.date | None, dt.datetime | None]:
    """The request to come earlier that the application's household has, as (from, asked at)."""
    if to != Status.BOOKED or application.account_id is None:
        return None, None
    others = Application.objects.filter(
        account_id=application.account_id,
        slot_id=application.slot_id,
        status=Status.BOOKED,
        displaced_by=None,
        earlier_from__isnull=False,
    )
    return others.values_list("earlier_from", "earlier_asked_at").first() or (None, None)


@in_callers_transaction
def lock_application(*, application_id: int) -> Application:
    """The application with its slot and office, its row locked until the caller's transaction ends.

    The row is locked alone and its slot read afterwards. A locking query with a join would be
    re-checked by PostgreSQL, once the lock is granted, against the slot row it read before
    waiting: an application moved meanwhile (a reschedule) would come back as no row at all."""
    application = Application.objects.select_for_update().filter(pk=application_id).first()
    if application is None:
        raise ApplicationNotFound()
    application.slot = Slot.objects.select_related("office").get(pk=application.slot_id)
    return application


def change_status(*, application_id: int, to: str, actor=None, reason: str = "") -> Application:
    """A staff step (start processing, approve, reject, issue, collect, cancel)."""
    with transaction.atomic(durable=True):
        application = Application.objects.select_for_update().get(pk=application_id)
        return do_transition(application=application, to=to, actor=actor, reason=reason)


def check_cancel(*, application: Application, now: dt.datetime) -> None:
    """The applicant may cancel while awaiting payment or booked, before the session starts."""
    if application.status not in (Status.PENDING_PAYMENT, Status.BOOKED):
        raise CancelNotAllowed(_("Only an application awaiting payment or booked can be cancelled."))
    if application.slot.starts_at <= now:
        raise CancelNotAllowed(_("The session has already started; it can no longer be cancelled."))


def cancel_application(
    *, application_id: int, actor=None, reason: str = "", now: dt.datetime | None = None
) -> Application:
    """The applicant cancels (check_cancel); the place is given back. Staff use `change_status`."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        application = lock_application(application_id=application_id)
        check_cancel(application=application, now=now)
        return do_transition(application=application, to=Status.CANCELLED, actor=actor, reason=reason)


def check_reschedule(*, application: Application, now: dt.datetime) -> None:
    """Once, while awaiting payment or booked, and no later than the day before the visit (H-1).
    An application whose session an incident closed (`displaced_by`) may always move, and the
    move does not count (docs/incidents.md)."""
    if application.status not in (Status.PENDING_PAYMENT, Status.BOOKED):
        raise RescheduleNotAllowed(_("Only an application awaiting payment or booked can be rescheduled."))
    if application.displaced_by_id:
        return
    if application.reschedule_count >= 1:
        raise RescheduleNotAllowed(_("The date of an application can be changed only once."))
    today = now.astimezone(application.slot.office.tzinfo).date()
    if application.slot.date <= today:
        raise RescheduleNotAllowed(_("The date can be changed no later than the day before the visit."))


def reschedule_application(
    *, application_id: int, slot_id: int, actor=None, now: dt.datetime | None = None
) -> Application:
    """Move an application to another open session of its office (check_reschedule). The new
    place is claimed and the old one given back in one transaction, or nothing changes."""
    now = now or timezone.now()
    move = functools.partial(_move, application_id=application_id, slot_id=slot_id, actor=actor, now=now)
    return after_expiring_overdue_holds(move, slot_id=slot_id, now=now)


def _move(*, application_id: int, slot_id: int, actor, now: dt.datetime) -> Application:
    with transaction.atomic(durable=True):
        application = lock_application(application_id=application_id)
        check_reschedule(application=application, now=now)
        new_slot = _reschedule_target(application=application, slot_id=slot_id, now=now)
        if application.displaced_by_id:
            application.displaced_by = None  # the move the incident gave: it uses no change of date
        else:
            application.reschedule_count += 1
        return move_to_slot(application=application, slot=new_slot, now=now, actor=actor)


@in_callers_transaction
def move_to_slot(
    *, application: Application, slot: Slot, now: dt.datetime, actor=None, why: str = "rescheduled"
) -> Application:
    """Move a locked application to `slot`: the new place claimed and the old one given back, the
    event written and the applicant told (`why` is the message's template). The caller has checked
    that the move is allowed and set what it changes besides the slot."""
    old_slot = application.slot
    # An express application keeps its same-day place on the same date and moves it with a new
    # date. The rows are locked sessions first, then days, each in id order (`lock_for_move`), so
    # two crossing moves cannot deadlock; the claim and the give-back below find them locked.
    express = int(application.express and slot.date != old_slot.date)
    lock_for_move(slot_ids=[old_slot.pk, slot.pk], express=bool(express))
    for each in sorted((old_slot, slot), key=lambda s: s.pk):
        if each is old_slot:
            return_places(slot_id=old_slot.pk, reason="rescheduled", express=express)
        else:
            claim_places(slot_id=slot.pk, now=now, express=express)
    application.slot = slot
    application.earlier_from = application.earlier_asked_at = None  # any move ends a request to come earlier
    application.save(
        update_fields=["slot", "reschedule_count", "displaced_by", "earlier_from", "earlier_asked_at", "updated_at"]
    )
    ApplicationEvent.objects.create(
        application=application,
        from_status=application.status,
        to_status=application.status,
        actor=actor,
        reason=f"{why} from {old_slot.local_start:%Y-%m-%d %H:%M} to {slot.local_start:%Y-%m-%d %H:%M}",
    )
    queue_message(application=application, template=why, context={"previous_visit": old_slot.starts_at.isoformat()})
    return application


def _reschedule_target(*, application: Application, slot_id: int, now: dt.datetime) -> Slot:
    # A switched-off office gives no place, as in booking (bookable_slot_or_refusal).
    # An applicant displaced by a closed session may also take the office's priority places,
    # ahead of the public (docs/incidents.md).
    pools = (Pool.ONLINE, Pool.PRIORITY) if application.displaced_by_id else (Pool.ONLINE,)
    new_slot = Slot.objects.filter(pk=slot_id, pool__in=pools, office__is_active=True).select_related("office").first()
    if new_slot is None:
        raise SlotNotFound()
    if new_slot.closed_by_id:
        raise OfficeClosed()
    if new_slot.walk_in_by_id:
        raise WalkInOnly()
    if new_slot.pk == application.slot_id or new_slot.office_id != application.slot.office_id:
        raise RescheduleNotAllowed(_("Choose another session at the same office."))
    if new_slot.starts_at <= now:
        raise SlotInPast()
    if not new_slot.accepts(application.kind):
        raise KindNotAccepted()
    return new_slot


def after_expiring_overdue_holds(attempt: Callable, *, slot_id: int, now: dt.datetime):
    """Run `attempt`, a service that claims on `slot_id` in a transaction of its own. When the
    slot is full, expire its unpaid holds whose deadline has passed (each in its own transaction,
    committed before the second try) and try once more: so places come back even while no worker
    runs. Call it outside any transaction."""
    try:
        return attempt()
    except SlotFull:
        if not release_expired_holds(slot_id=slot_id, now=now):
            raise
    return attempt()


def release_expired_holds(*, slot_id: int | None = None, now: dt.datetime | None = None) -> int:
    """Expire applications still unpaid past their deadline and give their places back.
    Idempotent: a second run finds nothing left to expire. Returns how many it released."""
    now = now or timezone.now()
    overdue = Application.objects.filter(status=Status.PENDING_PAYMENT, payment_due_at__lt=now)
    if slot_id is not None:
        overdue = overdue.filter(slot_id=slot_id)
    released = 0
    for application_id in overdue.values_list("pk", flat=True)[:500]:
        with transaction.atomic(durable=True):
            # skip_locked: a payment or another releaser holding the row decides it.
            application = (
                Application.objects.select_for_update(skip_locked=True)
                .filter(pk=application_id, status=Status.PENDING_PAYMENT, payment_due_at__lt=now)
                .first()
            )
            if application:
                do_transition(application=application, to=Status.EXPIRED, reason="payment deadline passed")
                released += 1
    return released


def mark_no_shows(*, now: dt.datetime | None = None) -> int:
    """Booked applications not checked in by their session's end plus the grace period become
    `no_show` (their place is given back). Idempotent. Returns how many."""
    now = now or timezone.now()
    grace = dt.timedelta(minutes=settings.NO_SHOW_GRACE_MINUTES)
    # An applicant whose session an incident closed did not miss it: they may still move.
    late = Application.objects.filter(status=Status.BOOKED, slot__ends_at__lt=now - grace, displaced_by__isnull=True)
    marked = 0
    for application_id in late.values_list("pk", flat=True)[:2000]:
        with transaction.atomic(durable=True):
            # skip_locked: a check-in at the counter holding the row decides it.
            application = (
                Application.objects.select_for_update(skip_locked=True)
                .filter(pk=application_id, status=Status.BOOKED, displaced_by__isnull=True)
                .first()
            )
            if application:
                do_transition(application=application, to=Status.NO_SHOW, reason="not checked in by session end")
                marked += 1
    return marked
