"""The periodic check that each slot's `taken` equals the applications holding a place on it."""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from quotas.availability_cache import mark_slots_changed
from quotas.models import Pool, Slot, SlotDrift

from ..models import RELEASED_STATUSES, Application

logger = logging.getLogger(__name__)


def reconcile_slot_counts(*, since: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Compare each slot's `taken` with the applications holding a place on it (every status
    but the released ones) for slots from `since` (default: a week ago) on; correct any
    difference and record it as a SlotDrift that staff see in the admin. A day's express slot
    is held by the express applications on that day's sessions.
    Idempotent: a second run finds nothing. Returns how many drifts it recorded."""
    now = now or timezone.now()
    since = since or (now - dt.timedelta(days=7)).date()
    holding = ~Q(applications__status__in=RELEASED_STATUSES) & Q(applications__isnull=False)
    # One statement, one snapshot: a claim and its application commit together.
    sessions = (
        Slot.objects.filter(date__gte=since)
        .exclude(pool=Pool.EXPRESS)
        .annotate(actual=Count("applications", filter=holding))
        .exclude(taken=F("actual"))
        .order_by()  # no joins for the default ordering
        .values_list("pk", flat=True)
    )
    express_held = (
        _express_holding(office_id=OuterRef("office_id"), day=OuterRef("date"))
        .order_by()
        .values("slot__office_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    express_days = (
        Slot.objects.filter(date__gte=since, pool=Pool.EXPRESS)
        .annotate(actual=Coalesce(Subquery(express_held), 0))
        .exclude(taken=F("actual"))
        .order_by()
        .values_list("pk", flat=True)
    )
    return sum(_reconcile(slot_id=slot_id) for slot_id in [*sessions, *express_days])


def _express_holding(*, office_id, day):
    """The express applications holding a same-day place of an office's day."""
    return Application.objects.filter(slot__office_id=office_id, slot__date=day, express=True).exclude(
        status__in=RELEASED_STATUSES
    )


def _reconcile(*, slot_id: int) -> bool:
    """Correct one slot's count and record the drift; whether a drift was recorded."""
    with transaction.atomic(durable=True):
        # Locked, then counted again: a claim in flight on this slot has committed by now.
        slot = Slot.objects.select_for_update(no_key=True).get(pk=slot_id)
        if slot.pool == Pool.EXPRESS:
            actual = _express_holding(office_id=slot.office_id, day=slot.date).count()
        else:
            actual = slot.applications.exclude(status__in=RELEASED_STATUSES).count()
        if actual == slot.taken:
            return False
        if SlotDrift.objects.filter(
            slot=slot, corrected=False, recorded_taken=slot.taken, actual_taken=actual
        ).exists():
            return False  # already reported; more places held than the slot has needs a person
        # Places held for the waiting list are not applications: they count against capacity only.
        corrected = actual + slot.held <= slot.capacity
        SlotDrift.objects.create(slot=slot, recorded_taken=slot.taken, actual_taken=actual, corrected=corrected)
        if corrected:
            Slot.objects.filter(pk=slot.pk).update(taken=actual)
            mark_slots_changed(slot_ids=[slot.pk], freed=actual < slot.taken)
        logger.warning("slot %s: taken %s, held by applications %s", slot.pk, slot.taken, actual)
        return True
