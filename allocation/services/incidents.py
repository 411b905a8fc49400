"""Incidents applied everywhere they reach (docs/incidents.md). Allocation is the highest app an
incident touches, so it runs the whole recomputation: quotas closes sessions and serves days by
walk-in, appointments moves payment deadlines, tells displaced applicants (and cancels those who
never moved) and the applicants of a day served by walk-in, and here open offers and entry
windows (with their draws) are extended and offers on closed sessions cancelled.

`apply_incidents` is a pure recomputation from every live incident and every day an office serves
by walk-in (which stands through corrections of its incident's times, until it is switched back
or the incident withdrawn): run after each declaration,
correction, end or withdrawal (offices' `incident_changed`, in the same transaction) and every
minute (what was booked, offered or opened during an incident, and incidents whose end is not
known yet)."""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from appointments.services.incidents import (
    cancel_unmoved_displaced,
    displace_applications,
    extend_payment_deadlines,
    tell_walk_in_applicants,
)
from mpaspor.db import lock_for_transaction
from offices.incidents import PORTAL_KINDS, Deadline, move_deadlines
from quotas.models import Slot
from quotas.services.incidents import close_sessions_for_incidents, mark_walk_in_sessions, move_walk_in_places

from ..models import Offer, Release
from .offers import _to_public_pool

OFFER_DEADLINE = Deadline(opened="offered_at", due="expires_at", base="expires_base", office="slot__office")
ENTRY_DEADLINE = Deadline(opened="entries_open_at", due="entries_close_at", base="entries_close_base", office="office")


def apply_incidents(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Recompute what every live incident gives; idempotent. Runs in the caller's transaction
    when there is one (an incident's change), else in its own."""
    now = now or timezone.now()
    with transaction.atomic():
        # One recomputation at a time: the minute job reading the walk-in days just before a
        # switch commits, and the sessions just after, would undo the switch.
        lock_for_transaction("apply_incidents")
        closed = close_sessions_for_incidents(now=now)
        by_walk_in = mark_walk_in_sessions(now=now)
        return {
            "sessions_changed": len(closed),
            "cancelled_offers": _cancel_offers_not_booked_online(now=now),
            # After the offers: the places their cancellation gave back go to the door too.
            "walk_in_places_moved": move_walk_in_places(now=now),
            "deadlines_changed": extend_payment_deadlines(now=now),
            "displaced": displace_applications(now=now),
            "told_walk_in": tell_walk_in_applicants(slot_ids=by_walk_in),
            "cancelled_unmoved": cancel_unmoved_displaced(now=now),
            "offers_changed": _extend_offers(now=now),
            "windows_changed": _extend_entry_windows(now=now),
        }


def _extend_offers(*, now: dt.datetime) -> int:
    """Open offers' expiry moved like a payment deadline, for outages of the portal."""
    return move_deadlines(Offer.objects.filter(status=Offer.Status.OPEN), OFFER_DEADLINE, kinds=PORTAL_KINDS, now=now)


def _extend_entry_windows(*, now: dt.datetime) -> int:
    """Entry windows not yet closed (no snapshot) moved like a deadline, for outages of the
    portal; the draw runs at the close, so it is postponed with it (its task, scheduled for the
    old close, finds the window open and leaves the draw to the sweep)."""
    windows = Release.objects.filter(entries_sha256="", plan__isnull=True)
    return move_deadlines(windows, ENTRY_DEADLINE, kinds=PORTAL_KINDS, now=now)


def _cancel_offers_not_booked_online(*, now: dt.datetime) -> int:
    """An offer of a session the office will not hold, or whose day it serves by walk-in, is
    cancelled; its household keeps its place on the list, and the place goes back to the
    session's pool."""
    cancelled = 0
    not_booked_online = Q(slot__closed_by__isnull=False) | Q(slot__walk_in_by__isnull=False)
    for offer in Offer.objects.filter(not_booked_online, status=Offer.Status.OPEN).order_by("pk"):
        slot = Slot.objects.select_for_update(no_key=True).get(pk=offer.slot_id)
        if Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN).update(
            status=Offer.Status.CANCELLED, closed_at=now
        ):
            _to_public_pool(slot=slot, count=offer.places)
            cancelled += 1
    return cancelled
