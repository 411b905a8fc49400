"""The one way a place is taken (`claim_places`) and given back (`return_places`)."""

import datetime as dt
import logging
from collections.abc import Sequence
from functools import partial

from django.db import transaction
from django.db.models import F, Model

from mpaspor.db import in_callers_transaction, insert_after

from ..availability_cache import mark_slots_changed, remember_sold_out
from ..exceptions import NotOpenYet, SlotFull
from ..models import (
    Slot,
)
from ..signals import GIVE_BACK_REASONS, place_given_back

logger = logging.getLogger(__name__)


# The claim: one conditional UPDATE, which PostgreSQL serialises on the slot's row; no read
# decides. Its parameters: count, slot id, count, now. The same as
# Slot.objects.filter(pk=slot_id, taken__lte=F("capacity") - count, opens_at__lte=now)
# .update(taken=F("taken") + count), written out to run as one statement with the inserts.
CLAIM_SQL = (
    f"UPDATE {Slot._meta.db_table} SET taken = taken + %s"
    " WHERE id = %s AND taken + %s <= capacity AND opens_at <= %s RETURNING id"
)


@in_callers_transaction
def claim_places(
    *, slot_id: int, now: dt.datetime, count: int = 1, then_insert: Sequence[tuple[Model, list[Model]]] = ()
) -> None:
    """Take `count` places on an open slot, all or none, and insert `then_insert` (unsaved
    parents, each with its unsaved children) in the same statement where the database allows it;
    or raise SlotFull / NotOpenYet and insert nothing.

    The one way a place is taken: booking, reschedule and walk-in all come here. It runs inside
    the caller's transaction, so a failure of the caller afterwards (a duplicate NIK) gives the
    places back with it. Claim first, insert second: docs/architecture.md, "The hot path"."""
    if not insert_after("claim", CLAIM_SQL, [count, slot_id, count, now], then_insert):
        raise claim_refusal(slot_id=slot_id, now=now, count=count)
    mark_slots_changed(slot_ids=[slot_id], freed=False)


def claim_refusal(*, slot_id: int, now: dt.datetime, count: int = 1) -> NotOpenYet | SlotFull:
    """Why a claim took no place: the slot has not opened yet, or it has too few places left
    (none at all when one was asked: remembered for the booking API's early refusal)."""
    if Slot.objects.filter(pk=slot_id, opens_at__gt=now).exists():
        return NotOpenYet()
    if count == 1:
        remember_sold_out(slot_id=slot_id)
    return SlotFull()


@in_callers_transaction
def return_places(*, slot_id: int, reason: str, count: int = 1) -> None:
    """Give places back to a slot, inside the caller's transaction that releases what held them
    (an application's status change); `place_given_back` is sent once that commits."""
    assert reason in GIVE_BACK_REASONS, reason
    Slot.objects.filter(pk=slot_id, taken__gte=count).update(taken=F("taken") - count)
    mark_slots_changed(slot_ids=[slot_id], freed=True)
    transaction.on_commit(
        partial(place_given_back.send, sender=Slot, slot_id=slot_id, count=count, reason=reason), robust=True
    )
