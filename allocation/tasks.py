"""Celery tasks of allocation: ids in, one service, the retry policy here."""

import datetime as dt
import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from .exceptions import NotInEntryWindow
from .services import offers
from .services.draws import due_releases, run_draw
from .services.incidents import apply_incidents
from .services.releases import open_entry_windows
from .services.waiting import recount_waiting_lists

logger = logging.getLogger(__name__)


@shared_task(name="allocation.draw_release", acks_late=True)
def draw_release(release_id: int) -> None:
    """Scheduled at the window's close. A task that runs early (a clock a little behind) leaves
    the release to the sweep."""
    try:
        run_draw(release_id=release_id)
    except NotInEntryWindow:
        return


@shared_task(name="allocation.sweep_releases")
def sweep_releases() -> None:
    """Open the entry windows that are due and run every draw that is due and not applied (its
    task lost, or the worker down at the close)."""
    open_entry_windows()
    for release_id in due_releases(now=timezone.now()):
        try:
            run_draw(release_id=release_id)
        except Exception:  # one release's fault must not hold back the others' draws
            logger.exception("draw of release %s failed; the next sweep tries again", release_id)


DB_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(name="allocation.offer_held_places", **DB_RETRY)
def offer_held_places_task(slot_id: int, given_back_at: str | None = None) -> int:
    """A place given back: the waiting list's offers, then the moves of households asking to come
    earlier (offers.pass_on_places). The name is kept for the messages already queued."""
    given_back = dt.datetime.fromisoformat(given_back_at) if given_back_at else None
    return offers.pass_on_places(slot_id=slot_id, given_back_at=given_back)


@shared_task(name="allocation.sweep_offers", **DB_RETRY)
def sweep_offers_task() -> dict:
    return offers.sweep_offers()


@shared_task(name="allocation.apply_incidents", **DB_RETRY)
def apply_incidents_task() -> dict:
    """Every minute: what was booked, offered or opened during an incident, and incidents whose
    end is not known yet (docs/incidents.md)."""
    return apply_incidents()


@shared_task(name="allocation.recount_waiting", **DB_RETRY)
def recount_waiting_task() -> int:
    """Nightly: every session's count of waiting households recounted; a correction is logged."""
    corrected = recount_waiting_lists()
    if corrected:
        logger.warning("waiting counts: %s sessions corrected", corrected)
    return corrected
