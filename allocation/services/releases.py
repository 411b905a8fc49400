"""Releases in draw mode come into being when their entry window opens: the seed is made and
its commitment published at that moment."""

import datetime as dt
import logging

from celery import current_app
from django.db import IntegrityError, transaction
from django.utils import timezone

from offices.models import Office
from quotas import calendar
from quotas.models import ReleaseMode, ReleaseSchedule

from ..draw import new_seed, sha256_hex
from ..models import Release

logger = logging.getLogger(__name__)

# How far ahead of today a release's dates are looked for: past any schedule's lead time.
_SEARCH_DAYS = 400


def open_entry_windows(*, now: dt.datetime | None = None) -> list[Release]:
    """Create the release of every draw-mode office whose entry window is open now and has no
    release yet, each with a fresh seed. Idempotent (one release per office and time)."""
    now = now or timezone.now()
    opened = []
    for schedule in ReleaseSchedule.objects.filter(mode=ReleaseMode.DRAW, office__is_active=True).select_related(
        "office"
    ):
        office = schedule.office
        today = now.astimezone(office.tzinfo).date()
        for release in calendar.releases(schedule, today, today + dt.timedelta(days=_SEARCH_DAYS), office.tzinfo):
            if release.entries_open_at > now:
                break
            if now < release.at and not Release.objects.filter(office=office, entries_close_at=release.at).exists():
                created = _create_release(office=office, release=release, schedule=schedule)
                if created is not None:
                    opened.append(created)
    return opened


def _create_release(*, office: Office, release: calendar.Release, schedule: ReleaseSchedule) -> Release | None:
    seed = new_seed()
    try:
        with transaction.atomic(durable=True):
            created = Release.objects.create(
                office=office,
                entries_open_at=release.entries_open_at,
                entries_close_at=release.at,
                sessions_from=release.first_day,
                sessions_to=release.last_day,
                opens_at=calendar.opens_at(schedule, release.first_day, office.tzinfo),
                seed=seed,
                seed_sha256=sha256_hex(seed),
            )
    except IntegrityError:  # another sweep created it a moment ago
        return None
    transaction.on_commit(lambda: _schedule_draw(release=created))
    return created


def _schedule_draw(*, release: Release) -> None:
    """Ask the broker to draw at the close (by the task's name: the tasks call these services).
    Never raises: with the broker down, the periodic sweep draws the release instead."""
    try:
        current_app.send_task("allocation.draw_release", args=(release.pk,), eta=release.entries_close_at, retry=False)
    except Exception:
        logger.warning("Could not schedule the draw of release %s; the sweep will run it.", release.pk, exc_info=True)
