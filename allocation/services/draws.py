"""A release's draw: close the window (publish the snapshot), plan (the pure allocation of
allocation.draw, stored), apply the plan entry by entry. Each step is idempotent, so a draw
stopped anywhere runs again from where it stopped and gives nothing twice (docs/fair-release.md)."""

import datetime as dt
import logging
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from appointments.models import ACTIVE_STATUSES, Application
from appointments.services.booking import DrawnBooking, book_applications, book_drawn
from mpaspor.errors import DomainError
from mpaspor.metrics import time_draw
from quotas.availability_cache import mark_days_changed
from quotas.exceptions import SlotFull

from ..draw import allocate, canonical_json, draw_order, sha256_hex
from ..exceptions import EntryAlreadyDecided, NotInEntryWindow, ReleaseNotFound
from ..models import Entry, Release, Seeker
from ..outbox import tell_outcome
from .entries import release_slots
from .waiting import wait_after_lost_draw_batch

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (entries of the plan decided so far, entries of the plan)


def run_draw(
    *, release_id: int, now: dt.datetime | None = None, close_now: bool = False, progress: Progress | None = None
) -> Release:
    """Close, plan and apply a release's draw, whichever of these is not done yet. Refuses a
    release whose window is still open (NotInEntryWindow) unless `close_now` ends it at once."""
    now = now or timezone.now()
    with time_draw():
        close_window(release_id=release_id, now=now, close_now=close_now)
        plan_draw(release_id=release_id, now=now)
        return apply_draw(release_id=release_id, now=now, progress=progress)


def close_window(*, release_id: int, now: dt.datetime, close_now: bool = False) -> Release:
    """Publish the snapshot of the eligible entries and the places, with its SHA-256.

    People who meanwhile hold an active application leave their entry (an entry left with
    nobody is forfeited); each entry keeps only the choices that take every one of its people."""
    with transaction.atomic(durable=True):
        release = Release.objects.select_for_update().filter(pk=release_id).first()
        if release is None:
            raise ReleaseNotFound()
        if release.snapshot:
            return release
        if close_now and now < release.entries_close_at:
            release.entries_close_at = max(now, release.entries_open_at + dt.timedelta(microseconds=1))
        if now < release.entries_close_at:
            raise NotInEntryWindow()
        entered = Entry.objects.filter(release=release, status=Entry.Status.ENTERED)
        booked = Application.objects.filter(status__in=ACTIVE_STATUSES).values("nik")
        Seeker.objects.filter(entry__in=entered, is_open=True, nik__in=booked).update(is_open=False)
        nobody_left = list(entered.exclude(people__is_open=True).values_list("pk", flat=True))
        Entry.objects.filter(pk__in=nobody_left).update(
            status=Entry.Status.FORFEITED, forfeit_reason="duplicate_application", decided_at=now
        )
        tell_outcome(entries=Entry.objects.filter(pk__in=nobody_left).order_by("pk"), outcome=Entry.Status.FORFEITED)

        slots = {slot.pk: slot for slot in release_slots(release).filter(starts_at__gt=now)}
        kinds: dict[int, set[str]] = {}
        for entry_id, kind in Seeker.objects.filter(entry__in=entered, is_open=True).values_list("entry_id", "kind"):
            kinds.setdefault(entry_id, set()).add(kind)
        people = {entry_id: 0 for entry_id in kinds}
        for entry_id in Seeker.objects.filter(entry__in=entered, is_open=True).values_list("entry_id", flat=True):
            people[entry_id] += 1
        entries = [
            {
                "id": entry_id,
                "people": people[entry_id],
                "choices": [
                    slot_id
                    for slot_id in choices
                    if slot_id in slots and all(slots[slot_id].accepts(kind) for kind in kinds[entry_id])
                ],
            }
            for entry_id, choices in entered.values_list("pk", "choices").order_by("pk")
        ]
        snapshot = {
            "release": release.pk,
            "slots": [{"id": pk, "places": slot.available} for pk, slot in slots.items()],
            "entries": entries,
        }
        release.snapshot = canonical_json(snapshot)
        release.entries_sha256 = sha256_hex(release.snapshot)
        release.save(update_fields=["snapshot", "entries_sha256", "entries_close_at"])
    return release


def plan_draw(*, release_id: int, now: dt.datetime) -> Release:
    """Store the allocation of (seed, snapshot): the same function a replay runs."""
    with transaction.atomic(durable=True):
        release = Release.objects.select_for_update().get(pk=release_id)
        if release.plan is None:
            release.plan = allocate(release.seed, release.snapshot)
            release.drawn_at = now
            release.save(update_fields=["plan", "drawn_at"])
    return release


def apply_draw(*, release_id: int, now: dt.datetime, progress: Progress | None = None) -> Release:
    """Book each winning entry, in draw order, through the one booking path; an entry one of
    whose people was booked elsewhere meanwhile (or any other refusal) is forfeited. Then the
    entries that got nothing are lost and join the waiting list, in draw order. Each entry's
    outcome commits with its booking or its waiting row, and only an entry still `entered` is
    applied: a second run skips what the first did. `progress` hears after each batch how many
    of the plan's entries are decided."""
    release = Release.objects.select_related("office").get(pk=release_id)
    if release.applied_at is not None:
        return release
    order = draw_order(release.seed, release.snapshot)
    pending = set(Entry.objects.filter(release=release, status=Entry.Status.ENTERED).values_list("pk", flat=True))
    winners = [entry_id for entry_id in order if release.plan[str(entry_id)] is not None]
    # A loser's place on the waiting list is its position among the losers, in draw order.
    losers = [
        (entry_id, position)
        for position, entry_id in enumerate(e for e in order if release.plan[str(e)] is None)
        if entry_id in pending
    ]
    done = len(order) - len(pending & set(order))

    def decided(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, len(order))

    to_apply = [entry_id for entry_id in winners if entry_id in pending]
    batch = settings.DRAW_APPLY_BATCH
    for start in range(0, len(to_apply), batch):
        chunk = to_apply[start : start + batch]
        _apply_winners(entry_ids=chunk, plan=release.plan, now=now)
        decided(len(chunk))
    batch = settings.DRAW_APPLY_BATCH * 10
    for start in range(0, len(losers), batch):
        chunk = losers[start : start + batch]
        _apply_losers(positions=dict(chunk), office_id=release.office_id, drawn_at=release.drawn_at or now, now=now)
        decided(len(chunk))
    Release.objects.filter(pk=release.pk).update(applied_at=now)
    dates = set(release_slots(release).values_list("date", flat=True))
    mark_days_changed(office_code=release.office.code, dates=dates)
    release.applied_at = now
    return release


def _apply_losers(*, positions: dict[int, int], office_id: int, drawn_at: dt.datetime, now: dt.datetime) -> None:
    """A batch of lost entries (`{entry id: position among the losers}`) in one transaction: each
    still `entered` is marked lost, told so (from the bulk queue) and its household joins the
    waiting list for the sessions it chose (`wait_after_lost_draw_batch`; a household one of whose
    people meanwhile holds a place elsewhere does not). A draw stopped half-way keeps whole
    batches, and the next run takes the entries still `entered`."""
    with transaction.atomic(durable=True):
        entries = list(
            Entry.objects.select_for_update()
            .filter(pk__in=positions, status=Entry.Status.ENTERED)
            .only("account_id", "choices")
            .order_by("pk")
        )
        lost = Entry.objects.filter(pk__in=[entry.pk for entry in entries])
        lost.update(status=Entry.Status.LOST, decided_at=now)
        tell_outcome(entries=lost.order_by("pk"), outcome=Entry.Status.LOST, bulk=True)
        wait_after_lost_draw_batch(
            entries=sorted(((entry, positions[entry.pk]) for entry in entries), key=lambda pair: pair[1]),
            office_id=office_id,
            drawn_at=drawn_at,
        )


def _apply_winners(*, entry_ids: list[int], plan: dict, now: dt.datetime) -> None:
    """Book a batch of winning entries, in draw order, in one transaction (book_drawn: the booking
    path's checks and claim, each entry in a savepoint); each entry is marked `won` in its
    savepoint, and only if it is still `entered`. A refusal forfeits the entry, except SlotFull,
    which is tried again alone through book_applications (it first expires the slot's overdue
    holds, in transactions of their own)."""
    entries = (
        Entry.objects.select_related("account")
        .prefetch_related(Prefetch("people", queryset=Seeker.objects.filter(is_open=True).order_by("pk")))
        .in_bulk(entry_ids)
    )
    bookings = [
        DrawnBooking(
            account=entries[entry_id].account,
            slot_id=plan[str(entry_id)],
            people=[seeker.as_person_booking() for seeker in entries[entry_id].people.all()],
            in_same_transaction=partial(_mark_won, entry_id=entry_id, slot_id=plan[str(entry_id)], now=now),
        )
        for entry_id in entry_ids
    ]
    for entry_id, result in zip(entry_ids, book_drawn(bookings=bookings, now=now), strict=True):
        if isinstance(result, SlotFull):
            _apply_winner(entry_id=entry_id, slot_id=plan[str(entry_id)], now=now)
        elif isinstance(result, EntryAlreadyDecided):
            continue
        elif isinstance(result, DomainError):
            _forfeit(entry_id=entry_id, reason=result.code, now=now)


def _mark_won(applications, *, entry_id: int, slot_id: int, now: dt.datetime) -> None:
    """Inside the winner's booking: the entry won, once (another run of this draw may have
    decided it meanwhile)."""
    won = Entry.objects.filter(pk=entry_id, status=Entry.Status.ENTERED).update(
        status=Entry.Status.WON,
        slot_id=slot_id,
        booking_codes=[application.booking_code for application in applications],
        decided_at=now,
    )
    if not won:
        raise EntryAlreadyDecided()
    Seeker.objects.filter(entry_id=entry_id).update(is_open=False)
    # Winners hear it from the booking's own message (codes and the payment deadline).


def _apply_winner(*, entry_id: int, slot_id: int, now: dt.datetime) -> None:
    """One winning entry through book_applications, alone: a batch's SlotFull tried again."""
    entry = Entry.objects.select_related("account").get(pk=entry_id)
    people = [seeker.as_person_booking() for seeker in entry.people.filter(is_open=True).order_by("pk")]
    try:
        book_applications(
            account=entry.account,
            slot_id=slot_id,
            people=people,
            now=now,
            in_same_transaction=partial(_mark_won, entry_id=entry_id, slot_id=slot_id, now=now),
            drawn=True,
        )
    except EntryAlreadyDecided:
        return
    except DomainError as refusal:
        _forfeit(entry_id=entry_id, reason=refusal.code, now=now)


def _forfeit(*, entry_id: int, reason: str, now: dt.datetime) -> None:
    """A winning entry that could not be booked (a NIK booked elsewhere meanwhile, the account
    restricted, ...): its places stay free, for offers and the public opening."""
    with transaction.atomic(durable=True):
        forfeited = Entry.objects.filter(pk=entry_id, status=Entry.Status.ENTERED).update(
            status=Entry.Status.FORFEITED, forfeit_reason=reason[:40], decided_at=now
        )
        if forfeited:
            Seeker.objects.filter(entry_id=entry_id).update(is_open=False)
            tell_outcome(entries=Entry.objects.filter(pk=entry_id).order_by("pk"), outcome=Entry.Status.FORFEITED)
    logger.info("draw entry %s forfeited: %s", entry_id, reason)


def due_releases(*, now: dt.datetime) -> list[int]:
    """Releases whose window has closed and whose draw has not been applied."""
    return list(
        Release.objects.filter(entries_close_at__lte=now, applied_at__isnull=True)
        .order_by("entries_close_at")
        .values_list("pk", flat=True)
    )
