"""Celery tasks of accounts: thin; one service, the retry policy here."""

from celery import shared_task
from django.db import OperationalError

from . import idempotency


@shared_task(
    name="accounts.purge_idempotency_keys",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def purge_idempotency_keys() -> int:
    """Periodic (hourly): the API's stored answers older than 24 hours."""
    return idempotency.purge_idempotency_keys()
