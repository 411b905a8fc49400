"""One beat's worth of periodic runs, however many beats run.

Exactly one `celery beat` should run for the whole installation, but a second one happens: a
deploy that starts the new one before the old has stopped, a node restored from an image, a
hand-started beat forgotten in a terminal. Each periodic run therefore first takes a lock in the
shared cache (Redis) named after its task, for nine tenths of the time until the task is next
due; a beat that finds the lock taken leaves that run to the beat that holds it. Two beats then
send each task about once per period, not twice.

When the cache cannot be reached the run is sent anyway: a periodic job run twice is harmless
(every job is idempotent), one never run is not.
"""

import logging

from django.core.cache import cache
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)


def lock_seconds(run_schedule) -> float:
    """Nine tenths of the time from now until a schedule is next due (at least one second)."""
    return max(1.0, 0.9 * run_schedule.remaining_estimate(run_schedule.now()).total_seconds())


def take_run_lock(task: str, seconds: float) -> bool:
    """Whether this beat may send `task` now: True for the first beat to ask within `seconds`."""
    try:
        return cache.add(f"beat:{task}", 1, timeout=seconds)
    except Exception:  # noqa: BLE001 - no lock service: run rather than skip
        logger.warning("Beat lock for %s unavailable; sending the run anyway.", task, exc_info=True)
        return True


class RunLock:
    """A beat scheduler's mixin: a run is sent only by the beat that takes its lock."""

    def apply_entry(self, entry, producer=None):
        if not take_run_lock(entry.task, lock_seconds(entry.schedule)):
            logger.info("Scheduler: %s (%s) already sent by another beat", entry.name, entry.task)
            return
        super().apply_entry(entry, producer=producer)


class LockedDatabaseScheduler(RunLock, DatabaseScheduler):
    pass
