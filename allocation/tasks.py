"""Celery tasks of the fair release: they take ids and call one service."""

import logging

from celery import shared_task
from django.utils import timezone

from .exceptions import NotInEntryWindow
from .services.draws import due_releases, run_draw
from .services.releases import open_entry_windows

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
