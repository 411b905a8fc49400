"""The notification outbox: a message is a row first, written in the same transaction as the
change it reports; its delivery task (here, beside the rows it sends) runs after commit, and a
periodic sweep delivers whatever the broker never got. A row is claimed (state "sending")
before anything is sent, so no message goes out twice."""

import datetime as dt
import logging
from functools import partial
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from offices.models import TIMEZONE_LABELS

from .messaging import DeliveryError, PermanentDeliveryError, phone_gateway, send_email
from .models import Application, Notification, Status
from .templatetags.mpaspor import office_time, rupiah

logger = logging.getLogger(__name__)

# template name -> e-mail subject. The bodies are templates/appointments/notifications/<name>.txt.
SUBJECTS = {
    "booking_made": _("Your passport appointment %(booking_code)s: please pay"),
    "payment_received": _("Payment received: appointment %(booking_code)s is booked"),
    "reminder": _("Reminder: your passport appointment tomorrow"),
    "expired": _("Appointment %(booking_code)s expired (not paid)"),
    "cancelled": _("Appointment %(booking_code)s cancelled"),
    "rescheduled": _("Appointment %(booking_code)s moved to a new date"),
    "no_show": _("You missed your appointment %(booking_code)s"),
    "ready": _("Your passport is ready to collect (%(booking_code)s)"),
}

# The status an application enters -> the message that tells the applicant.
STATUS_MESSAGES = {
    Status.BOOKED: "payment_received",
    Status.EXPIRED: "expired",
    Status.CANCELLED: "cancelled",
    Status.NO_SHOW: "no_show",
    Status.ISSUED: "ready",
}

# --- Whether a message is still true when its turn comes ----------------------------------
# A row waits in the outbox (a booking's copy a minute, a retry up to an hour), and the
# application may move on meanwhile: a "please pay" must not arrive after "payment received" or
# "cancelled". Each rule answers "" while the message still holds at delivery, otherwise why not.
# Messages about a final status (expired, cancelled, no-show) always hold.

# Booked and every step after it on the way to the passport.
BOOKED_OR_FURTHER = (
    Status.BOOKED,
    Status.CHECKED_IN,
    Status.IN_PROCESS,
    Status.APPROVED,
    Status.ISSUED,
    Status.COLLECTED,
)


def _still_awaiting_payment(application: Application, now: dt.datetime) -> str:
    if application.status != Status.PENDING_PAYMENT:
        return Notification.SkipReason.STATUS_CHANGED
    if application.payment_due_at and application.payment_due_at <= now:
        return Notification.SkipReason.DEADLINE_PASSED
    return ""


def _still_booked_or_further(application: Application, now: dt.datetime) -> str:
    return "" if application.status in BOOKED_OR_FURTHER else Notification.SkipReason.STATUS_CHANGED


def _still_coming_tomorrow(application: Application, now: dt.datetime) -> str:
    if application.status != Status.BOOKED:
        return Notification.SkipReason.STATUS_CHANGED
    tomorrow = now.astimezone(application.slot.office.tzinfo).date() + dt.timedelta(days=1)
    return "" if application.slot.date == tomorrow else Notification.SkipReason.VISIT_NOT_TOMORROW


def _still_on_the_new_date(application: Application, now: dt.datetime) -> str:
    active = application.status in (Status.PENDING_PAYMENT, Status.BOOKED)
    return "" if active else Notification.SkipReason.STATUS_CHANGED


def _still_ready(application: Application, now: dt.datetime) -> str:
    return "" if application.status == Status.ISSUED else Notification.SkipReason.STATUS_CHANGED


STILL_TRUE = {
    "booking_made": _still_awaiting_payment,
    "payment_received": _still_booked_or_further,
    "reminder": _still_coming_tomorrow,
    "rescheduled": _still_on_the_new_date,
    "ready": _still_ready,
}


def reason_gone(notification: Notification, now: dt.datetime) -> str:
    """Why this message is no longer true at `now` (a Notification.SkipReason), or ""."""
    rule = STILL_TRUE.get(notification.template)
    return rule(notification.application, now) if rule else ""


STALE_SENDING = dt.timedelta(minutes=15)
MESSAGE_TIME_FORMAT = "j F Y, H:i"


# --- Queueing (inside the caller's transaction) ------------------------------------------


def _recipients(*, application: Application, template: str, email: str) -> list[tuple[str, str]]:
    """E-mail to the account; the phone when there is no e-mail or the message is one that
    settings also send by SMS/WhatsApp (the reminder, by default)."""
    out = []
    if email:
        out.append((Notification.Channel.EMAIL, email))
    if application.phone and (not email or template in settings.NOTIFICATION_PHONE_TEMPLATES):
        out.append((settings.NOTIFICATION_PHONE_CHANNEL, application.phone))
    return out


def outbox_rows(
    *,
    application: Application,
    template: str,
    context: dict | None = None,
    email: str | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """The unsaved outbox rows of one message. Pass `email` when the caller already has the
    account loaded (saves a query)."""
    if email is None:
        email = application.account.email if application.account_id else ""
    return [
        Notification(
            application=application,
            channel=channel,
            recipient=recipient,
            template=template,
            language=application.language,
            context=context or {},
            dedupe_key=f"{dedupe_key}:{channel}" if dedupe_key else None,
        )
        for channel, recipient in _recipients(application=application, template=template, email=email)
    ]


def queue_message(
    *,
    application: Application,
    template: str,
    context: dict | None = None,
    email: str | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Write the outbox rows for one message and enqueue their delivery after commit.

    No rendering and no network here: this runs inside the caller's transaction."""
    rows = outbox_rows(application=application, template=template, context=context, email=email, dedupe_key=dedupe_key)
    if rows:
        Notification.objects.bulk_create(rows)
        transaction.on_commit(partial(enqueue_delivery, [row.pk for row in rows]))
    return rows


def enqueue_delivery(notification_ids: list[int]) -> None:
    """Hand the rows to the broker. Never raises: with the broker down the request still
    succeeds and the periodic sweep sends the rows later."""
    for notification_id in notification_ids:
        try:
            deliver_notification_task.apply_async((notification_id,), retry=False)
        except Exception:  # broker unreachable, refused, timed out: the sweep covers it
            logger.warning(
                "Could not enqueue notification %s; the outbox sweep will send it.", notification_id, exc_info=True
            )
            return


# --- Rendering (at delivery, in the applicant's language) --------------------------------


def render_message(notification: Notification) -> tuple[str, str]:
    """(subject, text) of a notification in its language, times in the office's zone."""
    application = notification.application
    office = application.slot.office
    with translation.override(notification.language or settings.LANGUAGE_CODE):
        context = {
            "full_name": application.full_name,
            "booking_code": application.booking_code,
            "billing_code": application.billing_code,
            "amount": rupiah(application.amount),
            "payment_due": office_time(application.payment_due_at, office, MESSAGE_TIME_FORMAT),
            "visit": office_time(application.slot.starts_at, office, MESSAGE_TIME_FORMAT),
            "office": office.name,
            "address": office.address,
        }
        stored = dict(notification.context)
        if "previous_visit" in stored:
            previous = dt.datetime.fromisoformat(stored["previous_visit"])
            stored["previous_visit"] = office_time(previous, office, MESSAGE_TIME_FORMAT)
        context.update(stored)
        subject = str(SUBJECTS[notification.template]) % {"booking_code": application.booking_code}
        text = render_to_string(f"appointments/notifications/{notification.template}.txt", context).strip()
    return subject, text


# --- Delivery (a task or the sweep) ------------------------------------------------------


def _backoff(attempts: int) -> int:
    return min(settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600)


def deliver_notification(*, notification_id: int, now: dt.datetime | None = None) -> int | None:
    """Send one pending notification at most once, or mark it skipped when its reason is gone
    (`reason_gone`). Returns the seconds after which a failed delivery should be tried again, or
    None when there is nothing more to do."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=notification_id, state=Notification.State.PENDING)
            # a retry scheduled by backoff waits for its time (a little slack for clock drift)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + dt.timedelta(seconds=2)))
            .select_related("application__slot__office")
            .first()
        )
        if notification is None:
            return None  # sent, being sent by someone else, or not due yet
        # Read with the row, at the claim: a change committed in the instant between this and
        # the send is not seen (the next message tells the applicant).
        skip_reason = reason_gone(notification, now)
        if skip_reason:
            notification.state = Notification.State.SKIPPED
            notification.skip_reason = skip_reason
            notification.save(update_fields=["state", "skip_reason"])
            return None
        notification.state = Notification.State.SENDING
        notification.claimed_at = now
        notification.attempts += 1
        notification.save(update_fields=["state", "claimed_at", "attempts"])

    claimed = Notification.objects.filter(pk=notification.pk, state=Notification.State.SENDING)
    try:
        subject, text = render_message(notification)
        if notification.channel == Notification.Channel.EMAIL:
            send_email(to=notification.recipient, subject=subject, text=text)
        else:
            phone_gateway().send(channel=notification.channel, to=notification.recipient, text=text)
    except PermanentDeliveryError as exc:
        claimed.update(state=Notification.State.FAILED, last_error=str(exc)[:2000])
        logger.error("Notification %s failed for good: %s", notification.pk, exc)
        return None
    except Exception as exc:  # DeliveryError or anything unexpected: try again later
        if not isinstance(exc, DeliveryError):
            logger.exception("Notification %s: unexpected error", notification.pk)
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            claimed.update(state=Notification.State.FAILED, last_error=str(exc)[:2000])
            return None
        delay = _backoff(notification.attempts)
        claimed.update(
            state=Notification.State.PENDING,
            last_error=str(exc)[:2000],
            next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
        )
        return delay
    claimed.update(state=Notification.State.SENT, sent_at=timezone.now(), last_error="")
    return None


@shared_task(name="appointments.deliver_notification", bind=True, max_retries=8, acks_late=True)
def deliver_notification_task(self, notification_id: int) -> None:
    """Send one outbox row. A failed delivery is retried with exponential backoff; the row
    itself records when it is due, so the sweep and this retry cannot both send it.
    It lives beside the outbox, which enqueues it: in tasks.py it would close an import circle."""
    retry_in = deliver_notification(notification_id=notification_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


def sweep_outbox(*, now: dt.datetime | None = None, limit: int = 500, min_age_seconds: int | None = None) -> int:
    """Deliver pending rows older than `min_age_seconds` (BOOKING_MESSAGE_DELAY_SECONDS by
    default): the bookings' confirmations, which no task sends, and the rows whose task never
    ran (broker down); and the retries that are due. Younger rows are left to their own task.
    A row left in "sending" by a crashed worker may or may not have gone out; it is marked
    failed, never resent."""
    now = now or timezone.now()
    if min_age_seconds is None:
        min_age_seconds = settings.BOOKING_MESSAGE_DELAY_SECONDS
    Notification.objects.filter(state=Notification.State.SENDING, claimed_at__lt=now - STALE_SENDING).update(
        state=Notification.State.FAILED, last_error="interrupted while sending; not resent to avoid a duplicate"
    )
    due = (
        Notification.objects.filter(
            state=Notification.State.PENDING, created_at__lte=now - dt.timedelta(seconds=min_age_seconds)
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for notification_id in list(due):
        deliver_notification(notification_id=notification_id, now=now)
        sent += 1
    return sent


def queue_reminders(*, now: dt.datetime | None = None) -> int:
    """Queue the day-before reminder for booked applications, once the office's local time
    has reached REMINDER_HOUR. Run hourly; the dedupe key makes repeated runs harmless."""
    now = now or timezone.now()
    queued = 0
    for tz_name in TIMEZONE_LABELS:
        local = now.astimezone(ZoneInfo(tz_name))
        if local.hour < settings.REMINDER_HOUR:
            continue
        tomorrow = local.date() + dt.timedelta(days=1)
        due = Application.objects.filter(
            status=Status.BOOKED, slot__date=tomorrow, slot__office__timezone=tz_name
        ).select_related("account")
        for application in due.iterator():
            key = f"reminder:{application.pk}:{tomorrow.isoformat()}"
            if Notification.objects.filter(dedupe_key__startswith=key + ":").exists():
                continue
            try:
                with transaction.atomic(durable=True):
                    queue_message(
                        application=application,
                        template="reminder",
                        dedupe_key=key,
                        email=application.account.email if application.account else "",
                    )
            except IntegrityError:  # another run queued it a moment ago
                continue
            queued += 1
    return queued
