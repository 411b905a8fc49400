"""Celery tasks of appointments: thin; ids in, one service, the retry policy here."""

from celery import shared_task
from django.db import OperationalError

from . import services

DB_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(name="appointments.release_expired_holds", **DB_RETRY)
def release_expired_holds(slot_id: int | None = None) -> int:
    return services.release_expired_holds(slot_id=slot_id)


@shared_task(name="appointments.mark_no_shows", **DB_RETRY)
def mark_no_shows() -> int:
    return services.mark_no_shows()


@shared_task(name="appointments.reconcile_slot_counts", **DB_RETRY)
def reconcile_slot_counts() -> int:
    return services.reconcile_slot_counts()
