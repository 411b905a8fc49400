"""Demand signals: availability searches counted in the cache, flushed into SearchTally rows."""

import datetime as dt
import logging
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


# A search adds to up to three cache counters (on Redis in one round trip: `cache.count_many`; no
# database write on the hot path). `flush_search_counts` moves them into SearchTally rows.
SEARCH_COUNTER_TTL = 4 * 24 * 3600  # counters outlive a missed flush or two
SEARCH_FLUSH_DAYS_BACK = 2  # the flush looks at today and the two days before (office date)
_SEARCH_FIELDS = ("searches", "found_nothing", "days_asked")


def _search_key(office_id: int, day, counter: str) -> str:
    return f"quotas:search:{office_id}:{day.isoformat()}:{counter}"


def record_availability_search(*, office: Office, date_from, date_to, found_free: bool, now=None) -> None:
    """Count one availability search (web calendar or API) of an office over
    [date_from, date_to]. Cheap and fail-safe: a cache outage loses the count, never the page."""
    now = now or timezone.now()
    day = now.astimezone(office.tzinfo).date()  # the office's own date
    days_asked = max((date_to - date_from).days + 1, 0)
    try:
        counts = {"searches": 1, "found_nothing": 0 if found_free else 1, "days_asked": days_asked}
        cache.count_many({_search_key(office.pk, day, name): n for name, n in counts.items() if n}, SEARCH_COUNTER_TTL)
    except Exception:  # noqa: BLE001 - a demand signal must never break availability
        logger.warning("availability search not counted (cache unavailable)", exc_info=True)


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
