"""What allocation does when quotas gives a place back, and when an incident changes.

A place given back: the place may be held for the waiting
list, so its offer is worked out by a task, enqueued at once (the signal arrives after the
commit). With the broker down the offer sweep finds the held place within 15 s."""

import logging

from django.utils import timezone

from .services.incidents import apply_incidents
from .tasks import offer_held_places_task

logger = logging.getLogger(__name__)


def offer_places_given_back(sender, *, slot_id: int, count: int, reason: str, **kwargs) -> None:
    try:
        offer_held_places_task.apply_async(
            kwargs={"slot_id": slot_id, "given_back_at": timezone.now().isoformat()}, retry=False
        )
    except Exception:  # broker unreachable: the sweep covers it
        logger.warning("Could not enqueue the offer of slot %s; the offer sweep will make it.", slot_id, exc_info=True)


def apply_incidents_on_change(sender, *, incident_id: int, **kwargs) -> None:
    """An incident was declared, corrected, ended or withdrawn: recompute what incidents give,
    in the transaction that changed it (offices.signals)."""
    apply_incidents()
