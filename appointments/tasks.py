"""Celery tasks of appointments: thin; ids in, one service, the retry policy here. Messages are
delivered by notifications' tasks."""

from celery import shared_task
from django.db import OperationalError

from . import outbox
from .services import documents, hoarding, lifecycle, reconciliation, stock

# Jobs that only touch the database: retried with backoff while it is unreachable.
DB_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(**DB_RETRY)
def queue_reminders_task() -> int:
    """Periodic (hourly): the day-before reminders, at REMINDER_HOUR in each office's zone."""
    return outbox.queue_reminders()


@shared_task(name="appointments.release_expired_holds", **DB_RETRY)
def release_expired_holds(slot_id: int | None = None) -> int:
    return lifecycle.release_expired_holds(slot_id=slot_id)


@shared_task(name="appointments.mark_no_shows", **DB_RETRY)
def mark_no_shows() -> int:
    return lifecycle.mark_no_shows()


@shared_task(name="appointments.reconcile_slot_counts", **DB_RETRY)
def reconcile_slot_counts() -> int:
    return reconciliation.reconcile_slot_counts()


@shared_task(name="appointments.purge_documents", **DB_RETRY)
def purge_documents() -> dict[str, int]:
    """Periodic (nightly): supporting documents past their retention, deleted and counted."""
    return documents.purge_documents()


@shared_task(name="appointments.evaluate_hoarding", **DB_RETRY)
def evaluate_hoarding() -> int:
    """Periodic (every 5 minutes): hoarding signals against HOARDING_RULES; returns the flags raised."""
    return len(hoarding.evaluate_hoarding())


@shared_task(name="appointments.refresh_stock_outlooks", **DB_RETRY)
def refresh_stock_outlooks() -> int:
    """Every 5 minutes: each office's passport book outlook counted again (docs/book-stock.md)."""
    return stock.refresh_stock_outlooks()


@shared_task(name="appointments.alert_low_stock", **DB_RETRY)
def alert_low_stock() -> int:
    """Daily: the office and its division told of stock covering too few working days."""
    return stock.alert_low_stock()
