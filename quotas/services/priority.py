"""Priority places: unused ones go online a set time before the session; during it, a walk-in
beyond a full pool gets a place added (docs/priority-places.md)."""

import datetime as dt
import logging
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mpaspor.db import in_callers_transaction

from ..availability_cache import mark_slots_changed
from ..exceptions import SlotNotFound
from ..models import (
    Pool,
    ReleaseSchedule,
    Slot,
)
from ..signals import place_given_back
from .claims import kept_for_waiting

logger = logging.getLogger(__name__)


# docs/priority-places.md

DEFAULT_PRIORITY_RELEASE_HOURS = ReleaseSchedule._meta.get_field("priority_release_hours").default


def give_back_priority_places(*, now: dt.datetime | None = None) -> int:
    """Move each session's unused priority places to its online pool once the session is within
    its office's `priority_release_hours`, while online applicants can still book them; never
    from a session that has started (online booking refuses those, so the places would be lost).
    Idempotent: a moved place is no longer free in the priority pool. Returns how many moved."""
    now = now or timezone.now()
    longest = max(
        [DEFAULT_PRIORITY_RELEASE_HOURS, *ReleaseSchedule.objects.values_list("priority_release_hours", flat=True)]
    )
    candidates = (
        Slot.objects.filter(
            pool=Pool.PRIORITY,
            taken__lt=F("capacity"),
            starts_at__lte=now + dt.timedelta(hours=longest),
            starts_at__gt=now,
        )
        .annotate(release_hours=F("office__release_schedule__priority_release_hours"))
        .order_by("starts_at", "pk")
        .values_list("pk", "office_id", "starts_at", "release_hours")
    )
    moved = 0
    for slot_id, office_id, starts_at, release_hours in candidates:
        release_hours = DEFAULT_PRIORITY_RELEASE_HOURS if release_hours is None else release_hours
        if starts_at - dt.timedelta(hours=release_hours) > now:
            continue
        moved += _move_priority_places(slot_id=slot_id, office_id=office_id, starts_at=starts_at)
    return moved


def _move_priority_places(*, slot_id: int, office_id: int, starts_at: dt.datetime) -> int:
    with transaction.atomic(durable=True):
        # Both rows locked in id order, so a walk-in claim or a booking waits, then sees the move.
        rows = list(
            Slot.objects.select_for_update(no_key=True)
            .filter(office_id=office_id, starts_at=starts_at, pool__in=[Pool.PRIORITY, Pool.ONLINE])
            .order_by("pk")
        )
        priority = next((s for s in rows if s.pk == slot_id), None)
        online = next((s for s in rows if s.pool == Pool.ONLINE), None)
        if priority is None or online is None:
            return 0  # a walk-in-only session: its places stay at the door
        free = priority.capacity - priority.taken
        if free <= 0:
            return 0
        Slot.objects.filter(pk=priority.pk).update(
            capacity=F("capacity") - free, moved_to_online=F("moved_to_online") + free
        )
        Slot.objects.filter(pk=online.pk).update(capacity=F("capacity") + free, held=kept_for_waiting(free))
        mark_slots_changed(slot_ids=[online.pk], freed=True)
        transaction.on_commit(
            partial(place_given_back.send, sender=Slot, slot_id=online.pk, count=free, reason="priority_release"),
            robust=True,
        )
    logger.info("moved %s priority places to the online pool of slot %s", free, online.pk)
    return free


@in_callers_transaction
def make_room_for_walk_in(*, slot_id: int) -> bool:
    """Lock a priority slot and, when it is full, add one place for a walk-in who is not turned
    away, counted as overflow. Returns whether it added one. The caller then claims the place
    with `claim_places` in the same transaction: the row stays locked until it commits, so
    nothing takes the place in between, and `taken <= capacity` holds throughout."""
    slot = Slot.objects.select_for_update(no_key=True).filter(pk=slot_id, pool=Pool.PRIORITY).first()
    if slot is None:
        raise SlotNotFound()
    if slot.taken < slot.capacity:
        return False
    Slot.objects.filter(pk=slot_id).update(capacity=F("capacity") + 1, overflow=F("overflow") + 1)
    return True
