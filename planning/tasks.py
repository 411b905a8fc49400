"""Celery tasks of planning: thin; one service, the retry policy here."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    name="planning.remind_late_offices",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def remind_late_offices() -> int:
    """Daily (CELERY_BEAT_SCHEDULE "planning-remind-late-offices"): the heads of offices late
    with an evaluation, once a day."""
    return services.remind_late_offices()
