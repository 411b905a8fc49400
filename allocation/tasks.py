"""Celery tasks of allocation: ids in, one service, the retry policy here."""

import datetime as dt

from celery import shared_task
from django.db import OperationalError

from .services import offers

DB_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(name="allocation.offer_held_places", **DB_RETRY)
def offer_held_places_task(slot_id: int, given_back_at: str | None = None) -> int:
    given_back = dt.datetime.fromisoformat(given_back_at) if given_back_at else None
    return offers.offer_held_places(slot_id=slot_id, given_back_at=given_back)


@shared_task(name="allocation.sweep_offers", **DB_RETRY)
def sweep_offers_task() -> dict:
    return offers.sweep_offers()
