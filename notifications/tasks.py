"""The outbox sweep's periodic task (the delivery task lives in notifications.outbox)."""

from celery import shared_task
from django.db import OperationalError

from .outbox import sweep_outboxes


@shared_task(
    name="notifications.sweep_outboxes",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def sweep_outboxes_task() -> int:
    """Periodic (every 15 s): bookings' confirmations, what the broker never got, due retries."""
    return sweep_outboxes()
