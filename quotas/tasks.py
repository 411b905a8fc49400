"""Celery tasks of quotas: thin; ids in, one service, the retry policy here."""

import logging

from celery import shared_task
from django.db import OperationalError

from offices.models import Office

from .exceptions import ShrinkRefused
from .services import generation, priority

logger = logging.getLogger(__name__)

DB_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(name="quotas.generate_slots_for_horizon", **DB_RETRY)
def generate_slots_for_horizon() -> int:
    """Daily: one generation task per active office, so one office's refusal stops no other."""
    office_ids = list(Office.objects.filter(is_active=True).values_list("pk", flat=True))
    for office_id in office_ids:
        generate_office_slots.delay(office_id)
    return len(office_ids)


@shared_task(name="quotas.generate_office_slots", **DB_RETRY)
def generate_office_slots(office_id: int) -> dict:
    try:
        plan = generation.generate_horizon_slots(office_id=office_id)
    except ShrinkRefused as exc:
        # A person must decide (move applicants or keep the capacity); retrying cannot help.
        logger.error("slot generation refused for office %s: %s", office_id, exc.message)
        return {"refused": exc.message}
    return {"created": len(plan.create), "updated": len(plan.update), "removed": len(plan.remove)}


@shared_task(name="quotas.give_back_priority_places", **DB_RETRY)
def give_back_priority_places() -> int:
    return priority.give_back_priority_places()
