"""Celery tasks of appointments: thin; ids in, one service, the retry policy here."""

from celery import shared_task
from django.db import OperationalError

from . import notifications, services

# Jobs that only touch the database: retried with backoff while it is unreachable.
DB_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(bind=True, max_retries=8, acks_late=True)
def deliver_notification_task(self, notification_id: int) -> None:
    """Send one outbox row. A failed delivery is retried with exponential backoff; the row
    itself records when it is due, so the sweep and this retry cannot both send it."""
    retry_in = notifications.deliver_notification(notification_id=notification_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(**DB_RETRY)
def sweep_outbox_task() -> int:
    """Periodic (every 15 s): bookings' confirmations, what the broker never got, due retries."""
    return notifications.sweep_outbox()


@shared_task(**DB_RETRY)
def queue_reminders_task() -> int:
    """Periodic (hourly): the day-before reminders, at REMINDER_HOUR in each office's zone."""
    return notifications.queue_reminders()


@shared_task(name="appointments.release_expired_holds", **DB_RETRY)
def release_expired_holds(slot_id: int | None = None) -> int:
    return services.release_expired_holds(slot_id=slot_id)


@shared_task(name="appointments.mark_no_shows", **DB_RETRY)
def mark_no_shows() -> int:
    return services.mark_no_shows()


@shared_task(name="appointments.reconcile_slot_counts", **DB_RETRY)
def reconcile_slot_counts() -> int:
    return services.reconcile_slot_counts()
