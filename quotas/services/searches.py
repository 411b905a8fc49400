"""Demand signals: availability searches counted in the cache, flushed into SearchTally rows."""

import atexit
import datetime as dt
import logging
import threading
import time
from collections import Counter
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from offices.models import Office

from ..models import (
    SearchTally,
)

logger = logging.getLogger(__name__)


# A search adds to up to three counters. Each process adds them up in memory and sends them to the
# cache in one `count_many` (one round trip on Redis) at most once every SEARCH_SEND_SECONDS, so an
# availability read at a release costs one round trip (its days), not two; no database write on the
# hot path. `flush_search_counts` moves the cache's counters into SearchTally rows. A process that
# dies without exiting loses its last second of counts: a demand signal, not a ledger.
SEARCH_COUNTER_TTL = 4 * 24 * 3600  # counters outlive a missed flush or two
SEARCH_FLUSH_DAYS_BACK = 2  # the flush looks at today and the two days before (office date)
SEARCH_SEND_SECONDS = 1.0
_SEARCH_FIELDS = ("searches", "found_nothing", "days_asked")

_unsent: Counter = Counter()
_unsent_lock = threading.Lock()
_last_sent = 0.0


def _search_key(office_id: int, day, counter: str) -> str:
    return f"quotas:search:{office_id}:{day.isoformat()}:{counter}"


def record_availability_search(*, office: Office, date_from, date_to, found_free: bool, now=None) -> None:
    """Count one availability search (web calendar or API) of an office over
    [date_from, date_to]. Cheap and fail-safe: a cache outage loses the count, never the page."""
    now = now or timezone.now()
    day = now.astimezone(office.tzinfo).date()  # the office's own date
    counts = {"searches": 1, "found_nothing": 0 if found_free else 1, "days_asked": (date_to - date_from).days + 1}
    with _unsent_lock:
        _unsent.update({_search_key(office.pk, day, name): n for name, n in counts.items() if n > 0})
        due = time.monotonic() - _last_sent >= SEARCH_SEND_SECONDS
    if due:
        send_search_counts()


@atexit.register
def send_search_counts() -> None:
    """Send this process's unsent counts to the cache now (also when the process exits)."""
    global _last_sent
    with _unsent_lock:
        batch = dict(_unsent)
        _unsent.clear()
        _last_sent = time.monotonic()
    if not batch:
        return
    try:
        cache.count_many(batch, SEARCH_COUNTER_TTL)
    except Exception:  # noqa: BLE001 - a demand signal must never break availability
        logger.warning("%s availability search counts lost (cache unavailable)", len(batch), exc_info=True)


def flush_search_counts(*, now=None) -> int:
    """Move the cached search counters of the last few days into SearchTally rows.
    Safe to run concurrently with searches: it subtracts exactly what it wrote, so a
    search counted meanwhile stays for the next flush. Returns the searches moved."""
    now = now or timezone.now()
    offices = dict(Office.objects.values_list("pk", "timezone"))
    keys = {}
    for office_id, tz_name in offices.items():
        today = now.astimezone(ZoneInfo(tz_name)).date()
        for back in range(SEARCH_FLUSH_DAYS_BACK + 1):
            day = today - dt.timedelta(days=back)
            for counter in _SEARCH_FIELDS:
                keys[_search_key(office_id, day, counter)] = (office_id, day, counter)
    send_search_counts()  # this process's own, first
    values = cache.get_many(list(keys))
    pending: dict[tuple, dict[str, int]] = {}
    for key, value in values.items():
        if value:
            office_id, day, counter = keys[key]
            pending.setdefault((office_id, day), {})[counter] = int(value)
    moved = 0
    for (office_id, day), counts in pending.items():
        with transaction.atomic():
            tally, _created = SearchTally.objects.select_for_update().get_or_create(office_id=office_id, day=day)
            SearchTally.objects.filter(pk=tally.pk).update(
                **{counter: F(counter) + counts.get(counter, 0) for counter in _SEARCH_FIELDS}
            )
        for counter, amount in counts.items():
            try:
                cache.decr(_search_key(office_id, day, counter), amount)
            except ValueError:  # expired meanwhile: nothing left to subtract
                pass
        moved += counts.get("searches", 0)
    return moved
