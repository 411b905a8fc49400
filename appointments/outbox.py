"""The applicants' messages: which messages an application's changes send, to whom, and how
they read. The rows (appointments.Notification) are written in the same transaction as the
change they report and delivered by notifications.outbox, like every other outbox."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from notifications.outbox import queue
from offices.models import TIMEZONE_LABELS

from .models import Application, Notification, Status
from .templatetags.mpaspor import office_time, rupiah

# template name -> e-mail subject. The bodies are templates/appointments/notifications/<name>.txt.
SUBJECTS = {
    "booking_made": _("Your passport appointment %(booking_code)s: please pay"),
    "payment_received": _("Payment received: appointment %(booking_code)s is booked"),
    "reminder": _("Reminder: your passport appointment tomorrow"),
    "expired": _("Appointment %(booking_code)s expired (not paid)"),
    "cancelled": _("Appointment %(booking_code)s cancelled"),
    "rescheduled": _("Appointment %(booking_code)s moved to a new date"),
    "moved_earlier": _("Appointment %(booking_code)s moved to an earlier date, as you asked"),
    "no_show": _("You missed your appointment %(booking_code)s"),
    "ready": _("Your passport is ready to collect (%(booking_code)s)"),
    "office_closed": _("The office is closed for your appointment %(booking_code)s: choose another day"),
    "walk_in_day": _("Your appointment %(booking_code)s stands: the office serves that day by walk-in"),
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


def _still_displaced(application: Application, now: dt.datetime) -> str:
    active = application.status in (Status.PENDING_PAYMENT, Status.BOOKED) and application.displaced_by_id
    return "" if active else Notification.SkipReason.STATUS_CHANGED


def _still_served_by_walk_in(application: Application, now: dt.datetime) -> str:
    active = application.status in (Status.PENDING_PAYMENT, Status.BOOKED) and application.slot.walk_in_by_id
    return "" if active else Notification.SkipReason.STATUS_CHANGED


def _still_ready(application: Application, now: dt.datetime) -> str:
    return "" if application.status == Status.ISSUED else Notification.SkipReason.STATUS_CHANGED


STILL_TRUE = {
    "booking_made": _still_awaiting_payment,
    "payment_received": _still_booked_or_further,
    "reminder": _still_coming_tomorrow,
    "rescheduled": _still_on_the_new_date,
    "moved_earlier": _still_on_the_new_date,
    "ready": _still_ready,
    "office_closed": _still_displaced,
    "walk_in_day": _still_served_by_walk_in,
}


def reason_gone(notification: Notification, now: dt.datetime) -> str:
    """Why this message is no longer true at `now` (a Notification.SkipReason), or ""."""
    rule = STILL_TRUE.get(notification.template)
    return rule(notification.application, now) if rule else ""


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
    bulk: bool = False,
) -> list[Notification]:
    """Write the outbox rows for one message and enqueue their delivery after commit (from the
    bulk queue when `bulk`: see notifications.outbox.queue).

    No rendering and no network here: this runs inside the caller's transaction."""
    rows = outbox_rows(application=application, template=template, context=context, email=email, dedupe_key=dedupe_key)
    queue(rows, bulk=bulk)
    return rows


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
                        bulk=True,
                    )
            except IntegrityError:  # another run queued it a moment ago
                continue
            queued += 1
    return queued
