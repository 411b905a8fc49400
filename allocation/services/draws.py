"""A release's draw: close the window (publish the snapshot), plan (the pure allocation of
allocation.draw, stored), apply the plan entry by entry. Each step is idempotent, so a draw
stopped anywhere runs again from where it stopped and gives nothing twice (docs/fair-release.md)."""

import datetime as dt
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from appointments.models import ACTIVE_STATUSES, Application
from appointments.services.booking import book_applications
from mpaspor.errors import DomainError
from mpaspor.metrics import time_draw
from quotas.availability_cache import mark_days_changed

from ..draw import allocate, canonical_json, draw_order, sha256_hex
from ..exceptions import DuplicateEntry, EntryAlreadyDecided, NotInEntryWindow, ReleaseNotFound, WaitingNotAllowed
from ..models import Entry, Release, Seeker, Waiting
from ..outbox import tell_outcome
from .entries import release_slots
from .waiting import wait_after_lost_draw

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (entries applied so far, entries to apply)


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
        tell_outcome(
            entries=Entry.objects.filter(pk__in=nobody_left).select_related("account"), outcome=Entry.Status.FORFEITED
        )

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
    whose people was booked elsewhere meanwhile (or any other refusal) is forfeited. Entries that
    got nothing are lost. Each entry's outcome commits with its booking, and only an entry still
    `entered` is applied: a second run skips what the first did."""
    release = Release.objects.select_related("office").get(pk=release_id)
    if release.applied_at is not None:
        return release
    order = draw_order(release.seed, release.snapshot)
    winners = [entry_id for entry_id in order if release.plan[str(entry_id)] is not None]
    pending = set(Entry.objects.filter(pk__in=winners, status=Entry.Status.ENTERED).values_list("pk", flat=True))
    done = len(winners) - len(pending)
    for entry_id in winners:
        if entry_id in pending:
            _apply_winner(entry_id=entry_id, slot_id=release.plan[str(entry_id)], now=now)
            done += 1
            if progress and (done % 500 == 0 or done == len(winners)):
                progress(done, len(winners))

    lost = [entry_id for entry_id in order if release.plan[str(entry_id)] is None]
    with transaction.atomic(durable=True):
        decided = list(
            Entry.objects.select_for_update()
            .filter(pk__in=lost, status=Entry.Status.ENTERED)
            .values_list("pk", flat=True)
        )
        Entry.objects.filter(pk__in=decided).update(status=Entry.Status.LOST, decided_at=now)
        tell_outcome(entries=Entry.objects.filter(pk__in=decided).select_related("account"), outcome=Entry.Status.LOST)
    _losers_wait(lost=lost, drawn_at=release.drawn_at or now)
    Release.objects.filter(pk=release.pk).update(applied_at=now)
    dates = set(release_slots(release).values_list("date", flat=True))
    mark_days_changed(office_code=release.office.code, dates=dates)
    release.applied_at = now
    return release


def _apply_winner(*, entry_id: int, slot_id: int, now: dt.datetime) -> None:
    entry = Entry.objects.select_related("account").get(pk=entry_id)
    people = [seeker.as_person_booking() for seeker in entry.people.filter(is_open=True).order_by("pk")]

    def decide(applications) -> None:
        # Only once: another run of this draw may have decided the entry meanwhile.
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

    try:
        book_applications(
            account=entry.account, slot_id=slot_id, people=people, now=now, in_same_transaction=decide, drawn=True
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
            tell_outcome(
                entries=Entry.objects.filter(pk=entry_id).select_related("account"), outcome=Entry.Status.FORFEITED
            )
    logger.info("draw entry %s forfeited: %s", entry_id, reason)


def due_releases(*, now: dt.datetime) -> list[int]:
    """Releases whose window has closed and whose draw has not been applied."""
    return list(
        Release.objects.filter(entries_close_at__lte=now, applied_at__isnull=True)
        .order_by("entries_close_at")
        .values_list("pk", flat=True)
    )


def _losers_wait(*, lost: list[int], drawn_at: dt.datetime) -> None:
    """Lost entries' households join the waiting list for the sessions they chose, in draw order,
    one household per transaction: a draw stopped half-way adds the rest when it runs again. A
    household one of whose people meanwhile holds a place elsewhere leaves the draw instead."""
    entries = Entry.objects.filter(pk__in=lost, status=Entry.Status.LOST).in_bulk()
    already = set(Waiting.objects.filter(entry_id__in=lost).values_list("entry_id", flat=True))
    for position, entry_id in enumerate(lost):
        entry = entries.get(entry_id)
        if entry is None or entry_id in already:
            continue
        try:
            wait_after_lost_draw(entry=entry, slot_ids=entry.choices, position=position, drawn_at=drawn_at)
        except (DuplicateEntry, WaitingNotAllowed):
            Seeker.objects.filter(entry_id=entry_id, is_open=True).update(is_open=False)
