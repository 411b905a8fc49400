"""Celery tasks: ids in, one service call, the retry policy here."""

from celery import shared_task

from . import notifications, services


@shared_task(bind=True, max_retries=8, acks_late=True)
def deliver_notification_task(self, notification_id: int) -> None:
    """Send one outbox row. A failed delivery is retried with exponential backoff; the row
    itself records when it is due, so the sweep and this retry cannot both send it."""
    retry_in = notifications.deliver_notification(notification_id=notification_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task
def sweep_outbox_task() -> int:
    """Periodic: send what the broker never got and retries that are due."""
    return notifications.sweep_outbox()


@shared_task
def queue_reminders_task() -> int:
    """Periodic (hourly): the day-before reminders, at REMINDER_HOUR in each office's zone."""
    return notifications.queue_reminders()


@shared_task
def release_expired_holds_task() -> int:
    """Periodic: expire unpaid applications past their deadline and give their places back."""
    return services.release_expired_holds()
