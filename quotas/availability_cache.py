"""Availability as the API sends it, rendered once per day and served from the cache.

At a release most requests are people refreshing availability. Each day's JSON (the API's own
serializer applied to `office_availability`, so every field it gains is cached too) is stored as
bytes; a read joins the days it asks for, fetched with one `get_many` (one MGET on Redis), and
keeps the joined answer of that range with its ETag. No database query, no serializer, no account
work on a hit. How it stays fresh (docs/performance.md):

- every write of a slot's places (a claim, a give-back, slot generation, a priority move, the
  reconciliation) sets the day's *mark* to a new random token after its commit;
- a day's entry records the mark it was built under, and is fresh while the mark is unchanged
  and its own time is not up (AVAILABILITY_CACHE_SECONDS, or sooner when a session of the day
  opens or starts, which changes the day's state);
- a day that is not fresh is rebuilt by the one request that wins its rebuild lock; the others
  serve the previous bytes meanwhile. The mark is read before the database, so a write that
  commits during a rebuild leaves the new entry already stale: nothing stays stale for longer
  than one rebuild (or the lock's second when a rebuilder dies);
- a day built less than AVAILABILITY_REBUILD_SECONDS ago is served even when marked since: during
  a claim burst every claim marks the day, and rebuilding after each would cost a query per read.
  So a change shows within that interval plus one rebuild;
- a joined range records the office's mark (set with every day's) and is fresh by the same rule:
  a range joined from a day served behind its mark counts as built when that day was, so it is
  never served longer than its days would be.

`cached_availability` answers a range from its joined entry alone (one MGET of the entry and the
office's mark: no day, no database, no lock); the middleware in quotas/middleware.py serves
anonymous reads with it before the rest of the stack. Any other read joins the days and stores
the range.

The claim never reads any of this. `slot_sold_out` lets the booking API refuse a slot that a
claim has just found full before it validates the body; the flag lives a second and a
give-back drops it.
"""

import contextlib
import datetime as dt
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from mpaspor.metrics import count_availability_cache
from offices.models import Office
from offices.selectors import with_passport_types

from .models import Slot
from .selectors import DayAvailability, DayState, office_availability

logger = logging.getLogger(__name__)

# A built day stays in the cache this long after it stops being fresh, so that there are
# previous bytes to serve while one request rebuilds it.
KEEP_SECONDS = 600
MARK_SECONDS = 24 * 3600  # longer than any entry lives: a lost mark costs one rebuild
LOCK_SECONDS = 1  # a rebuilder that dies leaves the others serving old bytes this long at most
SOLD_OUT_SECONDS = 1
# The mark of a range joined from a day that was behind its own mark: equal to no office's mark.
BEHIND = "behind"


def enabled() -> bool:
    return settings.AVAILABILITY_CACHE_SECONDS > 0


def _day_key(code: str, language: str, day: dt.date) -> str:
    return f"availability:v4:day:{code}:{language}:{day.isoformat()}"


def _mark_key(code: str, day: dt.date) -> str:
    return f"availability:v4:mark:{code}:{day.isoformat()}"


def _lock_key(code: str, language: str, day: dt.date) -> str:
    return f"availability:v4:lock:{code}:{language}:{day.isoformat()}"


def _office_key(code: str, language: str) -> str:
    return f"availability:v4:office:{code}:{language}"


def _office_mark_key(code: str) -> str:
    return f"availability:v4:office-mark:{code}"


def _range_key(code: str, language: str, date_from: dt.date, date_to: dt.date) -> str:
    return f"availability:v4:range:{code}:{language}:{date_from.isoformat()}:{date_to.isoformat()}"


def _sold_out_key(slot_id: int) -> str:
    return f"availability:v4:sold-out:{slot_id}"


# --- Reading ----------------------------------------------------------------------------------


@dataclass
class Availability:
    office: Office
    date_from: dt.date
    date_to: dt.date
    json: bytes  # {"office": ..., "days": [...]}
    any_free: bool
    etag: str  # of `json`, computed once per joined range


def availability_json(
    *,
    code: str,
    asked: tuple[dt.date, dt.date] | None,
    dates: Callable[[Office], tuple[dt.date, dt.date]],
    render_office: Callable[[Office], bytes],
    render_day: Callable[[DayAvailability], bytes],
) -> Availability | None:
    """The availability of the active office `code` as JSON, or None when there is none; the
    joined range is stored for `cached_availability`.

    `dates(office)` gives the range (and refuses a wrong one); `asked` is that range when the
    request names it, so that the office and the days come in the same get_many. The office's
    part is cached for AVAILABILITY_CACHE_SECONDS: one switched off stops answering after that."""
    language = translation.get_language() or ""
    office_key, office_mark_key = _office_key(code, language), _office_mark_key(code)
    found = {}
    if enabled():
        # The office's mark is read no later than the days: a range that records it is never newer
        # than its days.
        keys = [office_key, office_mark_key, *(_keys(code, language, _range(*asked)) if asked else [])]
        found = _safely(cache.get_many, keys) or {}
    office_mark, office = found.get(office_mark_key), found.get(office_key)
    if office is None:
        # With its passport types' stock (the office part says from when a type is closed).
        row = with_passport_types(Office.objects.filter(code=code, is_active=True)).first()
        if row is None:
            return None
        office = (row, render_office(row), time.time() + settings.AVAILABILITY_CACHE_SECONDS)
        if enabled():
            _safely(cache.set, office_key, office, settings.AVAILABILITY_CACHE_SECONDS)
    date_from, date_to = dates(office[0])
    wanted = _range(date_from, date_to)
    if (date_from, date_to) != asked and enabled():
        found = _safely(cache.get_many, _keys(code, language, wanted)) or {}
    entries = _days(office=office[0], dates=wanted, language=language, found=found, render=render_day)
    body = b'{"office":' + office[1] + b',"days":[' + b",".join(entry[3] for entry in entries) + b"]}"
    answer = Availability(
        office=office[0],
        date_from=date_from,
        date_to=date_to,
        json=body,
        any_free=any(entry[2] for entry in entries),
        etag='"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"',
    )
    if enabled():
        marks = [found.get(_mark_key(code, day)) for day in wanted]
        _store_range(
            key=_range_key(code, language, date_from, date_to),
            answer=answer,
            office=office,
            office_mark=office_mark,
            entries=entries,
            marks=marks,
        )
    return answer


def _store_range(
    *, key: str, answer: Availability, office: tuple, office_mark, entries: list[tuple], marks: list
) -> None:
    """Keep a joined answer for `cached_availability`, under the office's mark read before its
    days. A range joined from a day served behind its mark (built too recently to rebuild, or
    being rebuilt by another request) records no mark and counts as built when that day was: it
    is served no longer than the day would be."""
    behind = [entry[4] for entry, mark in zip(entries, marks, strict=True) if entry[0] != mark]
    now = time.time()
    joined = (
        BEHIND if behind else office_mark,
        min(office[2], *(entry[1] for entry in entries)),
        answer.any_free,
        answer.json,
        min(behind, default=now),
        answer.etag,
        answer.office,
    )
    if _fresh(joined, office_mark, now):
        # Never served stale (a stale range is joined again from its days): it lives as long as
        # it can be fresh.
        _safely(cache.set, key, joined, settings.AVAILABILITY_CACHE_SECONDS)


def _range(date_from: dt.date, date_to: dt.date) -> list[dt.date]:
    return [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]


def _keys(code: str, language: str, dates: list[dt.date]) -> list[str]:
    return [_day_key(code, language, d) for d in dates] + [_mark_key(code, d) for d in dates]


def _days(*, office: Office, dates: list[dt.date], language: str, found: dict, render) -> list[tuple]:
    """Each day's entry (mark built under, fresh until, has free places, JSON, built at), from
    `found` (what the cache held) where it is fresh or being rebuilt by another request, else built
    now from the database."""
    if not enabled():
        built = _build(office=office, dates=dates, render=render)
        return [built[d] for d in dates]
    code = office.code
    now = time.time()
    entries, rebuild, locked = {}, [], []
    for day in dates:
        entry = found.get(_day_key(code, language, day))
        mark = found.get(_mark_key(code, day))
        if entry is not None and _fresh(entry, mark, now):
            entries[day] = entry
        elif entry is None:
            rebuild.append((day, mark))
        elif _safely(cache.add, _lock_key(code, language, day), 1, LOCK_SECONDS):
            rebuild.append((day, mark))
            locked.append(day)
        else:
            entries[day] = entry  # another request is rebuilding it: the previous bytes meanwhile
    count_availability_cache(hits=len(dates) - len(rebuild), misses=len(rebuild))
    if rebuild:
        try:
            built = _build(office=office, dates=[day for day, _mark in rebuild], render=render)
            stored = {}
            for day, mark in rebuild:
                entries[day] = (mark, *built[day][1:])
                stored[_day_key(code, language, day)] = entries[day]
            _safely(cache.set_many, stored, KEEP_SECONDS)
        finally:
            if locked:
                _safely(cache.delete_many, [_lock_key(code, language, day) for day in locked])
    return [entries[d] for d in dates]


def cached_availability(*, code: str, language: str, asked: tuple[dt.date, dt.date]) -> Availability | None:
    """The answer for the office `code` over `asked` from its joined entry alone (one MGET with the
    office's mark), when it is there and fresh; else None, and the caller takes the full path,
    which joins the days (rebuilding what changed) and stores the range."""
    if not enabled():
        return None
    range_key, office_mark_key = _range_key(code, language, *asked), _office_mark_key(code)
    found = _safely(cache.get_many, [range_key, office_mark_key]) or {}
    joined = found.get(range_key)
    if joined is None or not _fresh(joined, found.get(office_mark_key), time.time()):
        return None
    count_availability_cache(hits=(asked[1] - asked[0]).days + 1, misses=0)
    _mark, _until, any_free, body, _built, etag, office = joined
    return Availability(office=office, date_from=asked[0], date_to=asked[1], json=body, any_free=any_free, etag=etag)


def _fresh(entry: tuple, mark, now: float) -> bool:
    """Whether a day's (or a joined range's) entry may be served as it is: its time is not up, and
    it was built under the current mark or so recently that a rebuild would come too soon."""
    return now < entry[1] and (entry[0] == mark or now - entry[4] < settings.AVAILABILITY_REBUILD_SECONDS)


def _build(*, office: Office, dates: list[dt.date], render) -> dict[dt.date, tuple]:
    """Days from the database: {day: (mark, fresh until, has free places, JSON, built at)}, the
    times in epoch seconds."""
    now = timezone.now()
    wanted = set(dates)
    built = {}
    for day in office_availability(office=office, date_from=min(dates), date_to=max(dates), now=now):
        if day.date not in wanted:
            continue
        # The day's state changes by itself when one of its sessions opens or starts.
        changes = [t for s in day.sessions for t in (s.opens_at, s.starts_at) if t > now]
        fresh_until = now.timestamp() + settings.AVAILABILITY_CACHE_SECONDS
        if changes:
            fresh_until = min(fresh_until, min(changes).timestamp())
        built[day.date] = (None, fresh_until, day.state == DayState.FREE, render(day), now.timestamp())
    return built


def slot_sold_out(*, slot_id: int) -> bool:
    """Whether a claim found this slot full within the last second (never when the cache is off)."""
    return enabled() and bool(_safely(cache.get, _sold_out_key(slot_id)))


def remember_sold_out(*, slot_id: int) -> None:
    if enabled():
        _safely(cache.set, _sold_out_key(slot_id), 1, SOLD_OUT_SECONDS)


# --- Marking ----------------------------------------------------------------------------------


# The slots `mark_slots_changed` gathers inside `slot_marks_gathered`, by `freed`.
_gathered: ContextVar[dict[bool, set[int]] | None] = ContextVar("gathered_slot_marks", default=None)


def mark_slots_changed(*, slot_ids: Iterable[int], freed: bool) -> None:
    """After the caller's transaction commits, mark the days of these slots changed; with
    `freed` (places given back, capacity added) also drop their sold-out flags."""
    if not enabled():
        return
    gathered = _gathered.get()
    if gathered is not None:
        gathered.setdefault(freed, set()).update(slot_ids)
        return
    slot_ids = list(slot_ids)

    def mark():
        days = set(Slot.objects.filter(pk__in=slot_ids).values_list("office__code", "date"))
        _mark(days)
        if freed:
            _safely(cache.delete_many, [_sold_out_key(s) for s in slot_ids])

    transaction.on_commit(mark, robust=True)


@contextlib.contextmanager
def slot_marks_gathered():
    """Inside the caller's transaction: the slots marked changed meanwhile are marked once, after
    the commit, instead of once per claim (a batch of a draw's winners claims a hundred times on a
    few slots; a mark per claim was a query each). A claim rolled back in a savepoint stays
    gathered: its days are marked for nothing, which costs one rebuild at most."""
    gathered: dict[bool, set[int]] = {}
    token = _gathered.set(gathered)
    try:
        yield
    finally:
        _gathered.reset(token)
    for freed, slot_ids in gathered.items():
        mark_slots_changed(slot_ids=slot_ids, freed=freed)


def mark_days_changed(*, office_code: str, dates: Iterable[dt.date]) -> None:
    """After the caller's transaction commits, mark these days of an office changed (their slots
    were created, resized or removed)."""
    days = {(office_code, d) for d in dates}
    if not enabled() or not days:
        return
    transaction.on_commit(lambda: _mark(days), robust=True)


def _mark(days: set[tuple[str, dt.date]]) -> None:
    """A new mark for each day and for its office (which the joined ranges check)."""
    token = secrets.token_hex(8)
    marks = {_mark_key(code, day): token for code, day in days} | {_office_mark_key(code): token for code, _ in days}
    _safely(cache.set_many, marks, MARK_SECONDS)


def _safely(call, *args):
    """The cache fails safe: when Redis is down, availability costs the queries, nothing more."""
    try:
        return call(*args)
    except Exception:  # noqa: BLE001
        logger.warning("availability cache unreachable", exc_info=True)
        return None
