"""Delivery of every outbox: each app's message rows (subclasses of OutboxMessage) are sent here,
one way, with the same claim, retries and sweep.

A row is written in the same transaction as the change it reports (`queue`); its delivery task
runs after the commit, and a periodic sweep delivers whatever the broker never got. A row is
claimed (state "sending") before anything is sent, so no message goes out twice. An app
registers its table and the function that renders a row (`register`, in its AppConfig.ready),
so this module imports no app."""

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .messaging import DeliveryError, PermanentDeliveryError, phone_gateway, send_email
from .models import OutboxMessage

logger = logging.getLogger(__name__)

State = OutboxMessage.State
STALE_SENDING = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Outbox:
    model: type[OutboxMessage]
    render: Callable[[OutboxMessage], tuple[str, str]]  # a row -> (subject, text)
    # a row and now -> why it is no longer true ("" while it holds): checked when it is claimed
    skip: Callable[[OutboxMessage, dt.datetime], str] | None = None
    select_related: tuple[str, ...] = ()  # what `render` reads, loaded with the row
    secret_context: bool = False  # the context holds a secret (a code): emptied once done


_outboxes: dict[str, Outbox] = {}


def register(model, *, render, skip=None, select_related: Sequence[str] = (), secret_context: bool = False) -> None:
    """Deliver `model`'s rows with `render`, unless `skip` says a row's reason is gone by its
    turn. Called once per table, in its app's ready()."""
    _outboxes[model._meta.label_lower] = Outbox(model, render, skip, tuple(select_related), secret_context)


# --- Queueing (inside the caller's transaction) ------------------------------------------


def queue(rows: Sequence[OutboxMessage], *, bulk: bool = False) -> None:
    """Write the rows of one table and enqueue their delivery after commit. No rendering and no
    network here: this runs inside the caller's transaction. `bulk` messages (reminders, sent by
    the thousand) are delivered from the bulk queue, so that they never delay the urgent one."""
    if rows:
        model = type(rows[0])
        model.objects.bulk_create(rows)
        transaction.on_commit(partial(enqueue_delivery, model, [row.pk for row in rows], bulk=bulk))


# Bulk messages are handed to the broker this many to a task: a draw tells tens of thousands of
# lost entries at once, and one publish per row cost about as long as the whole draw.
BULK_PER_TASK = 100


def enqueue_delivery(model, message_ids: list[int], *, bulk: bool = False) -> None:
    """Hand the rows to the broker (the urgent queue, by the task's route, or the bulk queue).
    Never raises: with the broker down the request still succeeds and the periodic sweep sends
    the rows later. Several bulk rows go BULK_PER_TASK to a task (`deliver_many_task`)."""
    options = {"queue": "bulk"} if bulk else {}
    label = model._meta.label_lower
    if bulk and len(message_ids) > 1:
        calls = [
            (deliver_many_task, (label, message_ids[start : start + BULK_PER_TASK]))
            for start in range(0, len(message_ids), BULK_PER_TASK)
        ]
    else:
        calls = [(deliver_task, (label, message_id)) for message_id in message_ids]
    for task, args in calls:
        try:
            task.apply_async(args, retry=False, **options)
        except Exception:  # broker unreachable, refused, timed out: the sweep covers it
            logger.warning(
                "Could not enqueue %s %s; the outbox sweep will send it.", model._meta.label, args[1], exc_info=True
            )
            return


# --- Delivery (a task or the sweep) ------------------------------------------------------


def _backoff(attempts: int) -> int:
    return min(settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600)


def deliver(*, model, message_id: int, now: dt.datetime | None = None) -> int | None:
    """Send one pending row of `model` at most once, or mark it skipped when its reason is gone.
    Returns the seconds after which a failed delivery should be tried again, or None when there
    is nothing more to do."""
    now = now or timezone.now()
    outbox = _outboxes[model._meta.label_lower]
    with transaction.atomic(durable=True):
        message = (
            model.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=message_id, state=State.PENDING)
            # a retry scheduled by backoff waits for its time (a little slack for clock drift)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + dt.timedelta(seconds=2)))
            .select_related(*outbox.select_related)
            .first()
        )
        if message is None:
            return None  # sent, being sent by someone else, or not due yet
        # Read with the row, at the claim: a change committed in the instant between this and
        # the send is not seen (the next message tells the recipient).
        skip_reason = outbox.skip(message, now) if outbox.skip else ""
        if skip_reason:
            message.state, message.skip_reason = State.SKIPPED, skip_reason
            message.save(update_fields=["state", "skip_reason"])
            return None
        message.state = State.SENDING
        message.claimed_at = now
        message.attempts += 1
        message.save(update_fields=["state", "claimed_at", "attempts"])

    claimed = model.objects.filter(pk=message.pk, state=State.SENDING)
    done = {"context": {}} if outbox.secret_context else {}
    try:
        subject, text = outbox.render(message)
        if message.channel == OutboxMessage.Channel.EMAIL:
            send_email(to=message.recipient, subject=subject, text=text)
        else:
            phone_gateway().send(channel=message.channel, to=message.recipient, text=text)
    except PermanentDeliveryError as exc:
        claimed.update(state=State.FAILED, last_error=str(exc)[:2000], **done)
        logger.error("%s %s failed for good: %s", model._meta.label, message.pk, exc)
        return None
    except Exception as exc:  # DeliveryError or anything unexpected: try again later
        if not isinstance(exc, DeliveryError):
            logger.exception("%s %s: unexpected error", model._meta.label, message.pk)
        if message.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            claimed.update(state=State.FAILED, last_error=str(exc)[:2000], **done)
            return None
        delay = _backoff(message.attempts)
        claimed.update(
            state=State.PENDING,
            last_error=str(exc)[:2000],
            next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
        )
        return delay
    claimed.update(state=State.SENT, sent_at=timezone.now(), last_error="", **done)
    return None


@shared_task(name="notifications.deliver", bind=True, max_retries=8, acks_late=True)
def deliver_task(self, model_label: str, message_id: int) -> None:
    """Send one outbox row (`model_label` as "app.model"). A failed delivery is retried with
    exponential backoff; the row itself records when it is due, so the sweep and this retry
    cannot both send it. It lives beside `enqueue_delivery`, which sends it: in tasks.py it would
    close an import circle."""
    retry_in = deliver(model=_outboxes[model_label].model, message_id=message_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name="notifications.deliver_many", acks_late=True)
def deliver_many_task(model_label: str, message_ids: list[int]) -> None:
    """Send several outbox rows of one table, one after the other (bulk messages). A failed row
    records when it is due again (`next_attempt_at`), and the sweep retries it then."""
    model = _outboxes[model_label].model
    for message_id in message_ids:
        deliver(model=model, message_id=message_id)


def sweep_outboxes(*, now: dt.datetime | None = None, limit: int = 500, min_age_seconds: int | None = None) -> int:
    """Deliver, in every registered table, the pending rows older than `min_age_seconds`
    (BOOKING_MESSAGE_DELAY_SECONDS by default): the bookings' confirmations, which no task sends,
    and the rows whose task never ran (broker down); and the retries that are due. Younger rows
    are left to their own task. A row left in "sending" by a crashed worker may or may not have
    gone out; it is marked failed, never resent. Returns how many rows it tried."""
    now = now or timezone.now()
    if min_age_seconds is None:
        min_age_seconds = settings.BOOKING_MESSAGE_DELAY_SECONDS
    tried = 0
    for outbox in _outboxes.values():
        model = outbox.model
        done = {"context": {}} if outbox.secret_context else {}
        model.objects.filter(state=State.SENDING, claimed_at__lt=now - STALE_SENDING).update(
            state=State.FAILED, last_error="interrupted while sending; not resent to avoid a duplicate", **done
        )
        due = (
            model.objects.filter(state=State.PENDING, created_at__lte=now - dt.timedelta(seconds=min_age_seconds))
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        for message_id in list(due):
            deliver(model=model, message_id=message_id, now=now)
            tried += 1
    return tried
