"""Checks that a change to an office's quota data does not cut below places already taken.

A rule, programme session or date override decides the capacity of existing Slot rows; a
change that would leave a slot with fewer places than it has applications (or remove a
session people are booked on) is refused with the dates concerned, before anything is saved.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .exceptions import QuotaError
from .models import CAPACITY_FIELDS, DateOverride, Pool, QuotaRule, Slot


class CapacityBelowTaken(QuotaError):
    code = "capacity_below_taken"
    default_message = ""


@dataclass(frozen=True)
class Conflict:
    slot_id: int
    date: dt.date
    start: dt.time
    pool: str
    taken: int
    new_capacity: int

    def describe(self) -> str:
        return _("%(date)s %(start)s (%(pool)s): %(taken)s taken, %(capacity)s places left by this change") % {
            "date": formats.date_format(self.date),
            "start": self.start.strftime("%H:%M"),
            "pool": Pool(self.pool).label,
            "taken": self.taken,
            "capacity": self.new_capacity,
        }


def _future_slots(office, **filters):
    today = timezone.now().astimezone(office.tzinfo).date()
    return Slot.objects.filter(office=office, date__gte=today, taken__gt=0, **filters).select_related("office")


def _rule_covers(rule: QuotaRule, slot: Slot) -> bool:
    return (
        slot.program_id is None
        and slot.date.weekday() == rule.weekday
        and slot.local_start.time() == rule.start_time
        and slot.date >= rule.valid_from
        and (rule.valid_to is None or slot.date <= rule.valid_to)
    )


def _capacity(source, pool: str) -> int | None:
    """The source's places for the pool (a rule or programme session has no express places)."""
    field = {**CAPACITY_FIELDS, Pool.EXPRESS: "express_capacity"}[pool]
    return getattr(source, field, 0)


def _override_for(office, day: dt.date, *, exclude_pk=None) -> DateOverride | None:
    qs = DateOverride.objects.filter(office=office, date=day)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def _capped(capacity: int, override: DateOverride | None, pool: str) -> int:
    if override is None:
        return capacity
    if override.closed:
        return 0
    value = _capacity(override, pool)
    return capacity if value is None else value


def rule_conflicts(*, old: QuotaRule | None, new: QuotaRule | None) -> list[Conflict]:
    """Slots with places taken that `old` produced and `new` (None: deleted) would cut."""
    if old is None:
        return []
    conflicts = []
    slots = _future_slots(old.office, program__isnull=True, date__iso_week_day=old.weekday + 1)
    for slot in slots:
        if not _rule_covers(old, slot):
            continue
        if new is not None and _rule_covers(new, slot):
            capacity = _capped(_capacity(new, slot.pool), _override_for(slot.office, slot.date), slot.pool)
        else:
            capacity = 0
        if capacity < slot.taken:
            conflicts.append(Conflict(slot.pk, slot.date, slot.local_start.time(), slot.pool, slot.taken, capacity))
    return conflicts


def program_session_conflicts(*, program, sessions_after: list | None) -> list[Conflict]:
    """Slots of a programme with places taken that its new sessions (None: programme
    deleted) would cut; `sessions_after` holds objects with start_time and capacities."""
    conflicts = []
    for slot in _future_slots(program.office, program=program):
        capacity = 0
        if (
            sessions_after is not None
            and program.date_from <= slot.date <= program.date_to
            and (not program.weekdays or slot.date.weekday() in program.weekdays)
        ):
            for session in sessions_after:
                if session.start_time == slot.local_start.time():
                    capacity = _capped(_capacity(session, slot.pool), _override_for(slot.office, slot.date), slot.pool)
        if capacity < slot.taken:
            conflicts.append(Conflict(slot.pk, slot.date, slot.local_start.time(), slot.pool, slot.taken, capacity))
    return conflicts


def override_conflicts(*, office, day: dt.date, new: DateOverride | None) -> list[Conflict]:
    """Slots of one day with places taken that an override (closed, or smaller) would cut."""
    conflicts = []
    if new is None:
        return conflicts
    for slot in _future_slots(office, date=day):
        capacity = _capped(slot.capacity, new, slot.pool)
        if capacity < slot.taken:
            conflicts.append(Conflict(slot.pk, slot.date, slot.local_start.time(), slot.pool, slot.taken, capacity))
    return conflicts


def raise_for(conflicts: list[Conflict]) -> None:
    if not conflicts:
        return
    head = ngettext(
        "Refused: this change would cut below places already taken in %(count)d session.",
        "Refused: this change would cut below places already taken in %(count)d sessions.",
        len(conflicts),
    ) % {"count": len(conflicts)}
    listed = "; ".join(c.describe() for c in conflicts[:10])
    more = _(" (and %(count)d more)") % {"count": len(conflicts) - 10} if len(conflicts) > 10 else ""
    raise CapacityBelowTaken(
        f"{head} {listed}{more}. " + _("Move or cancel those applications first, or choose a larger capacity.")
    )
