"""The one way a place is taken (`claim_places`) and given back (`return_places`)."""

import datetime as dt
import logging
from collections.abc import Sequence
from functools import partial

from django.db import transaction
from django.db.models import Case, F, Model, Q, Subquery, When

from mpaspor.db import in_callers_transaction, insert_after

from ..availability_cache import mark_slots_changed, remember_sold_out
from ..exceptions import ExpressFull, NotOpenYet, SlotFull
from ..models import (
    Pool,
    Slot,
)
from ..signals import GIVE_BACK_REASONS, place_given_back

logger = logging.getLogger(__name__)


# The claim: one conditional UPDATE, which PostgreSQL serialises on the slot's row; no read
# decides. Places held for the waiting list are not the public's. Its parameters: count, slot
# id, count, now. The same as
# Slot.objects.filter(pk=slot_id, taken__lte=F("capacity") - F("held") - count, opens_at__lte=now)
# .update(taken=F("taken") + count), written out to run as one statement with the inserts.
CLAIM_SQL = (
    f"UPDATE {Slot._meta.db_table} SET taken = taken + %s"
    " WHERE id = %s AND taken + held + %s <= capacity AND opens_at <= %s RETURNING id"
)
# An accepted offer's claim: places held for the waiting list become taken. Its parameters:
# count, count, slot id, count. The same as Slot.objects.filter(pk=slot_id, held__gte=count)
# .update(taken=F("taken") + count, held=F("held") - count).
CLAIM_HELD_SQL = (
    f"UPDATE {Slot._meta.db_table} SET taken = taken + %s, held = held - %s WHERE id = %s AND held >= %s RETURNING id"
)


# A draw gives its winners their places before the slot's public opening.
BEFORE_ANY_OPENING = dt.datetime.max.replace(tzinfo=dt.UTC)


@in_callers_transaction
def claim_places(
    *,
    slot_id: int,
    now: dt.datetime,
    count: int = 1,
    express: int = 0,
    then_insert: Sequence[tuple[Model, list[Model]]] = (),
    drawn: bool = False,
    held: bool = False,
) -> None:
    """Take `count` places on an open slot, all or none, and insert `then_insert` (unsaved
    parents, each with its unsaved children) in the same statement where the database allows it;
    or raise SlotFull / NotOpenYet and insert nothing. `express` of those people also take a
    same-day place of the slot's day (where the office set its same-day service), or ExpressFull
    is raised and the caller's transaction, which this raise ends, keeps nothing.

    The one way a place is taken: booking, reschedule and walk-in all come here. It runs inside
    the caller's transaction, so a failure of the caller afterwards (a duplicate NIK) gives the
    places back with it. Claim first, insert second: docs/architecture.md, "The hot path".
    `drawn`: places a release's draw gave, taken whether or not the slot has opened to everyone.
    `held=True` takes places held for the waiting list (an accepted offer, whose service checks
    in the same transaction that the offer is still open) instead of public ones."""
    if held:
        if not insert_after("claim_held", CLAIM_HELD_SQL, [count, count, slot_id, count], then_insert):
            raise SlotFull()
    else:
        opened_by = BEFORE_ANY_OPENING if drawn else now
        if not insert_after("claim", CLAIM_SQL, [count, slot_id, count, opened_by], then_insert):
            raise claim_refusal(slot_id=slot_id, now=now, count=count)
    # The session's row first, then the day's express row: every claim and give-back locks them
    # in this order, so two of them never wait for each other crosswise. A day without an express
    # slot is an office that has not set its same-day service: the surcharge only, no limit.
    if express:
        day = _express_slot_of(slot_id)
        if not day.filter(taken__lte=F("capacity") - express).update(taken=F("taken") + express) and day.exists():
            raise ExpressFull()
    mark_slots_changed(slot_ids=[slot_id], freed=False)


@in_callers_transaction
def lock_for_move(*, slot_ids: Sequence[int], express: bool) -> None:
    """Lock a move's sessions in id order, then (for an express application) their days' express
    rows in id order, inside the caller's transaction. A claim or give-back alone locks its session
    and then its day; a move does two of each, and locking them as it goes (session, day, session,
    day) could wait crosswise on another move between the same two days."""
    list(Slot.objects.select_for_update(no_key=True).filter(pk__in=slot_ids).order_by("pk").values_list("pk"))
    if express:
        days = Q()
        for office_id, date in Slot.objects.filter(pk__in=slot_ids).values_list("office_id", "date"):
            days |= Q(office_id=office_id, date=date)
        express_rows = Slot.objects.filter(days, pool=Pool.EXPRESS).select_for_update(no_key=True).order_by("pk")
        list(express_rows.values_list("pk"))


def _express_slot_of(slot_id: int):
    """The express slot of the same office and day as the session `slot_id`."""
    session = Slot.objects.filter(pk=slot_id)
    return Slot.objects.filter(
        pool=Pool.EXPRESS,
        office_id=Subquery(session.values("office_id")[:1]),
        date=Subquery(session.values("date")[:1]),
    )


def claim_refusal(*, slot_id: int, now: dt.datetime, count: int = 1) -> NotOpenYet | SlotFull:
    """Why a claim took no place: the slot has not opened yet, or it has too few places left
    (none at all when one was asked: remembered for the booking API's early refusal)."""
    if Slot.objects.filter(pk=slot_id, opens_at__gt=now).exists():
        return NotOpenYet()
    if count == 1:
        remember_sold_out(slot_id=slot_id)
    return SlotFull()


@in_callers_transaction
def return_places(*, slot_id: int, reason: str, count: int = 1, express: int = 0) -> None:
    """Give places back to a slot (and `express` same-day places to its day), inside the caller's
    transaction that releases what held them (an application's status change);
    `place_given_back` is sent once that commits. While households wait for the session the
    places are held for them (`kept_for_waiting`)."""
    assert reason in GIVE_BACK_REASONS, reason
    Slot.objects.filter(pk=slot_id, taken__gte=count).update(taken=F("taken") - count, held=kept_for_waiting(count))
    if express:
        _express_slot_of(slot_id).filter(taken__gte=express).update(taken=F("taken") - express)
    mark_slots_changed(slot_ids=[slot_id], freed=True)
    transaction.on_commit(
        partial(place_given_back.send, sender=Slot, slot_id=slot_id, count=count, reason=reason), robust=True
    )


def kept_for_waiting(count: int):
    """The new `held` of a slot given `count` places back: decided by the row itself, in the
    statement that gives them back, so no claim can take them before the waiting list does. The
    waiting list offers them, or puts them back in the pool when no household fits."""
    return Case(
        When(waiting__gt=0, then=F("held") + count), default=F("held"), output_field=Slot._meta.get_field("held")
    )
