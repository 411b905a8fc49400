"""Slot generation: an office's slots made to match its rules, programmes, overrides, holidays
and release schedule, with a preview of the plan."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from offices.models import Office

from .. import calendar
from ..availability_cache import mark_days_changed
from ..exceptions import ShrinkRefused
from ..models import (
    CAPACITY_FIELDS,
    DateOverride,
    Pool,
    ProgramSession,
    QuotaRule,
    ReleaseMode,
    ReleaseSchedule,
    SameDayService,
    ServiceProgram,
    Slot,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedSlot:
    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    pool: str
    capacity: int
    opens_at: dt.datetime
    program_id: int | None
    allowed_kinds: tuple
    mode: str = ReleaseMode.FIRST_COME


@dataclass
class SlotChange:
    """One line of a plan, in the office's zone: what a slot is and what it would become."""

    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    pool: str
    capacity_before: int | None  # None: a new slot
    capacity_after: int  # 0: the session goes away
    taken: int = 0
    opens_at: dt.datetime | None = None
    slot_id: int | None = None
    program_id: int | None = None
    allowed_kinds: tuple = ()
    mode: str = ReleaseMode.FIRST_COME
    changed: tuple = ()  # names of the fields that change


@dataclass
class SlotPlan:
    """What generating slots for an office and dates would do (preview) or did."""

    office: Office
    date_from: dt.date
    date_to: dt.date
    create: list[SlotChange] = field(default_factory=list)
    update: list[SlotChange] = field(default_factory=list)
    remove: list[SlotChange] = field(default_factory=list)
    # Changes that would leave fewer places than are taken: the whole plan is refused.
    conflicts: list[SlotChange] = field(default_factory=list)
    closed_days: dict[dt.date, str] = field(default_factory=dict)
    applied: bool = False

    @property
    def has_changes(self) -> bool:
        return bool(self.create or self.update or self.remove)

    def conflict_summary(self) -> str:
        label = self.office.timezone_label
        parts = [
            _("%(office)s %(date)s %(time)s %(zone)s (%(pool)s): %(taken)s taken, %(after)s places left")
            % {
                "office": self.office.name,
                "date": c.date.isoformat(),
                "time": f"{c.starts_at:%H:%M}",
                "zone": label,
                "pool": Pool(c.pool).label,
                "taken": c.taken,
                "after": c.capacity_after,
            }
            for c in self.conflicts[:10]
        ]
        if len(self.conflicts) > 10:
            more = len(self.conflicts) - 10
            parts.append(ngettext("and %(n)s more session", "and %(n)s more sessions", more) % {"n": more})
        return "; ".join(parts)


def release_schedule_of(office: Office) -> ReleaseSchedule:
    return ReleaseSchedule.objects.filter(office=office).first() or calendar.default_release_schedule(office)


def generate_slots(
    *,
    office: Office,
    date_from: dt.date,
    date_to: dt.date,
    preview: bool = False,
    now: dt.datetime | None = None,
) -> SlotPlan:
    """Make the office's slots from date_from to date_to (office dates, inclusive) match its
    weekday rules, programmes, date overrides, holidays and release schedule.

    Idempotent: a second run plans nothing. Sessions that have started are never touched.
    A change that leaves a slot fewer places than it has taken (a smaller capacity, a removed
    session, a closed day) refuses the whole run with ShrinkRefused naming the slots.
    With preview=True nothing is written and conflicts are listed in the plan instead.
    """
    now = now or timezone.now()
    if date_to < date_from:
        return SlotPlan(office=office, date_from=date_from, date_to=date_to)
    if preview:
        existing = list(Slot.objects.filter(office=office, date__gte=date_from, date__lte=date_to).order_by("pk"))
        return _plan(office=office, date_from=date_from, date_to=date_to, existing=existing, now=now)

    with transaction.atomic():
        # One generator per office at a time; no_key so bookings' foreign-key checks never wait.
        Office.objects.select_for_update(no_key=True).filter(pk=office.pk).first()
        existing = list(
            Slot.objects.select_for_update(no_key=True)
            .filter(office=office, date__gte=date_from, date__lte=date_to)
            .order_by("pk")
        )
        plan = _plan(office=office, date_from=date_from, date_to=date_to, existing=existing, now=now)
        if plan.conflicts:
            raise ShrinkRefused(slots=plan.conflict_summary())
        _apply(plan=plan, office=office, existing={s.pk: s for s in existing})
        plan.applied = True
    return plan


def generate_horizon_slots(*, office_id: int, now: dt.datetime | None = None, preview: bool = False) -> SlotPlan:
    """Generate an office's slots from today to the end of its booking horizon."""
    now = now or timezone.now()
    office = Office.objects.get(pk=office_id)
    schedule = release_schedule_of(office)
    today = now.astimezone(office.tzinfo).date()
    return generate_slots(
        office=office,
        date_from=today,
        date_to=today + dt.timedelta(days=schedule.horizon_days),
        preview=preview,
        now=now,
    )


def _desired(*, office: Office, date_from: dt.date, date_to: dt.date) -> tuple[dict, dict]:
    """The slots the rules ask for, keyed by (starts_at, pool), and the closed days with reasons."""
    tz = office.tzinfo
    schedule = release_schedule_of(office)
    rules, programs, overrides = _quota_settings(office=office, date_from=date_from, date_to=date_to)
    same_day = SameDayService.objects.filter(office=office).first()
    holidays = calendar.holidays_between(date_from, date_to)

    desired: dict[tuple, PlannedSlot] = {}
    closed: dict[dt.date, str] = {}
    day = date_from
    while day <= date_to:
        override = overrides.get(day)
        day_programs = [
            p for p in programs if p.date_from <= day <= p.date_to and (not p.weekdays or day.weekday() in p.weekdays)
        ]
        day_rules = [
            r
            for r in rules
            if r.weekday == day.weekday() and r.valid_from <= day and (r.valid_to is None or day <= r.valid_to)
        ]
        if day in holidays:
            # A holiday closes the office unless a programme opens it; then only its sessions run.
            day_programs = [p for p in day_programs if p.opens_on_holidays]
            day_rules = []
        if override and override.closed:
            closed[day] = override.reason or _("Closed")
        elif day in holidays and not day_programs:
            closed[day] = holidays[day]
        else:
            sessions = _sessions(day_rules, day_programs)
            opens = calendar.opens_at(schedule, day, tz)
            day_slots = _day_slots(day, sessions, override=override, opens_at=opens, mode=schedule.mode, tz=tz)
            express = _express_slot(day, day_slots, same_day=same_day, override=override, tz=tz)
            for slot in day_slots + express:
                desired[(slot.starts_at, slot.pool)] = slot
        day += dt.timedelta(days=1)
    return desired, closed


def _quota_settings(*, office: Office, date_from: dt.date, date_to: dt.date) -> tuple[list, list, dict]:
    """The office's weekday rules and programmes in force between the dates, and its date
    overrides by date."""
    # Explicit orderings: the models' default ones join the office and its region.
    rules = list(
        QuotaRule.objects.filter(office=office, valid_from__lte=date_to)
        .exclude(valid_to__lt=date_from)
        .order_by("weekday", "start_time", "pk")
    )
    programs = list(
        ServiceProgram.objects.filter(office=office, date_from__lte=date_to, date_to__gte=date_from)
        .order_by("date_from", "pk")
        .prefetch_related(Prefetch("sessions", queryset=ProgramSession.objects.order_by("start_time", "pk")))
    )
    overrides = {
        o.date: o for o in DateOverride.objects.filter(office=office, date__gte=date_from, date__lte=date_to).order_by()
    }
    return rules, programs, overrides


def _sessions(rules: list[QuotaRule], programs: list[ServiceProgram]) -> dict[dt.time, tuple]:
    """A day's sessions by start time: (end, {pool: places}, programme or None)."""
    sessions: dict[dt.time, tuple] = {}
    for rule in rules:
        sessions[rule.start_time] = (rule.end_time, _capacities(rule), None)
    for program in programs:  # a programme's session replaces a rule's at the same start
        for session in program.sessions.all():
            sessions[session.start_time] = (session.end_time, _capacities(session), program)
    return sessions


def _capacities(source) -> dict[str, int]:
    return {pool: getattr(source, name) for pool, name in CAPACITY_FIELDS.items()}


def _day_slots(
    day: dt.date,
    sessions: dict[dt.time, tuple],
    *,
    override: DateOverride | None,
    opens_at: dt.datetime,
    mode: str,
    tz,
) -> list[PlannedSlot]:
    """One slot per session and pool with places, after the date's override of the capacities."""
    slots = []
    for start, (end, capacities, program) in sessions.items():
        starts_at = dt.datetime.combine(day, start, tzinfo=tz)
        ends_at = dt.datetime.combine(day, end, tzinfo=tz)
        for pool, capacity in capacities.items():
            if override is not None and getattr(override, CAPACITY_FIELDS[pool]) is not None:
                capacity = getattr(override, CAPACITY_FIELDS[pool])
            if capacity > 0:
                slots.append(
                    PlannedSlot(
                        date=day,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        pool=pool,
                        capacity=capacity,
                        opens_at=opens_at,
                        program_id=program.pk if program else None,
                        allowed_kinds=tuple(program.allowed_kinds) if program else (),
                        # The draw hands out online places; priority places stay at the door.
                        mode=mode if pool == Pool.ONLINE else ReleaseMode.FIRST_COME,
                    )
                )
    return slots


def _express_slot(
    day: dt.date, day_slots: list[PlannedSlot], *, same_day: SameDayService | None, override: DateOverride | None, tz
) -> list[PlannedSlot]:
    """The day's same-day (express) places, when the office has set its same-day service and the
    day has online sessions: one slot from midnight to the check-in cut-off. With 0 places it
    still exists, so that express bookings that day are refused (without it: no limit)."""
    online = [s for s in day_slots if s.pool == Pool.ONLINE]
    if same_day is None or not online:
        return []
    places = same_day.places_per_day
    if override is not None and override.express_capacity is not None:
        places = override.express_capacity
    return [
        PlannedSlot(
            date=day,
            starts_at=dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz),
            ends_at=dt.datetime.combine(day, same_day.check_in_by, tzinfo=tz),
            pool=Pool.EXPRESS,
            capacity=places,
            opens_at=min(s.opens_at for s in online),
            program_id=None,
            allowed_kinds=(),
        )
    ]


def _plan(*, office: Office, date_from: dt.date, date_to: dt.date, existing: list[Slot], now: dt.datetime) -> SlotPlan:
    """What to create, update and remove so that the existing slots match the rules, and the
    changes that would leave a slot fewer places than are taken. Started sessions stay as they are."""
    tz = office.tzinfo
    desired, closed = _desired(office=office, date_from=date_from, date_to=date_to)
    plan = SlotPlan(office=office, date_from=date_from, date_to=date_to, closed_days=closed)
    current = {(s.starts_at, s.pool): s for s in existing}
    # Places the give-back moved from a session's priority pool to its online pool stay moved, and
    # so do the online places of a day served by walk-in for an incident (docs/incidents.md).
    moved = {s.starts_at: s.moved_to_online for s in existing if s.pool == Pool.PRIORITY}
    to_walk_in = {s.starts_at: s.moved_to_walk_in for s in existing if s.pool == Pool.ONLINE}

    for key, want in sorted(desired.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if want.starts_at <= now:
            continue
        slot = current.get(key)
        if slot is None:
            plan.create.append(_change(want, None, capacity=want.capacity, tz=tz))
            continue
        change = _update(
            slot,
            want,
            moved_to_online=moved.get(want.starts_at, 0),
            moved_to_walk_in=to_walk_in.get(want.starts_at, 0),
            now=now,
            tz=tz,
        )
        if change.changed:
            (plan.conflicts if change.capacity_after < slot.taken else plan.update).append(change)

    for key, slot in sorted(current.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if key in desired or slot.starts_at <= now or slot.capacity == 0:
            continue
        if slot.pool == Pool.WALK_IN and to_walk_in.get(slot.starts_at):
            continue  # made for a day served by walk-in: it holds the online places moved to it
        (plan.conflicts if slot.taken > 0 else plan.remove).append(_removal(slot, tz=tz))
    return plan


def _change(want: PlannedSlot, slot: Slot | None, *, capacity: int, tz) -> SlotChange:
    """The plan's line that makes `slot` (None: a new one) what the rules want, with `capacity`."""
    return SlotChange(
        date=want.date,
        starts_at=want.starts_at.astimezone(tz),
        ends_at=want.ends_at.astimezone(tz),
        pool=want.pool,
        capacity_before=None if slot is None else slot.capacity,
        capacity_after=capacity,
        taken=0 if slot is None else slot.taken,
        opens_at=want.opens_at.astimezone(tz),
        slot_id=None if slot is None else slot.pk,
        program_id=want.program_id,
        allowed_kinds=want.allowed_kinds,
        mode=want.mode,
    )


def _update(
    slot: Slot, want: PlannedSlot, *, moved_to_online: int, moved_to_walk_in: int, now: dt.datetime, tz
) -> SlotChange:
    """What an existing slot would become; its `changed` stays empty when nothing changes."""
    if want.pool == Pool.PRIORITY:
        capacity = want.capacity - moved_to_online + slot.overflow
    elif want.pool == Pool.ONLINE:
        capacity = want.capacity + moved_to_online - moved_to_walk_in
    elif want.pool == Pool.WALK_IN:
        capacity = want.capacity + moved_to_walk_in
    else:
        capacity = want.capacity
    capacity = max(capacity, 0)
    change = _change(want, slot, capacity=capacity, tz=tz)
    changed = []
    if slot.capacity != capacity:
        changed.append("capacity")
    if slot.ends_at != want.ends_at:
        changed.append("ends_at")
    # A date already open stays open: moving its opening later would take back what people see.
    if slot.opens_at != want.opens_at and slot.opens_at > now:
        changed.append("opens_at")
    else:
        change.opens_at = slot.opens_at.astimezone(tz)
    if slot.program_id != want.program_id:
        changed.append("program")
    if list(slot.allowed_kinds) != list(want.allowed_kinds):
        changed.append("allowed_kinds")
    # Like the opening, the mode of a date already open stays: its places are being handed out.
    if slot.mode != want.mode and slot.opens_at > now:
        changed.append("mode")
    else:
        change.mode = slot.mode
    change.changed = tuple(changed)
    return change


def _removal(slot: Slot, *, tz) -> SlotChange:
    """The plan's line for a session the rules no longer ask for: no places left."""
    return SlotChange(
        date=slot.date,
        starts_at=slot.starts_at.astimezone(tz),
        ends_at=slot.ends_at.astimezone(tz),
        pool=slot.pool,
        capacity_before=slot.capacity,
        capacity_after=0,
        taken=slot.taken,
        opens_at=slot.opens_at.astimezone(tz),
        slot_id=slot.pk,
        program_id=slot.program_id,
        allowed_kinds=tuple(slot.allowed_kinds),
        mode=slot.mode,
        changed=("capacity",),
    )


def _apply(*, plan: SlotPlan, office: Office, existing: dict[int, Slot]) -> None:
    Slot.objects.bulk_create(
        [
            Slot(
                office=office,
                date=c.date,
                starts_at=c.starts_at,
                ends_at=c.ends_at,
                pool=c.pool,
                capacity=c.capacity_after,
                opens_at=c.opens_at,
                program_id=c.program_id,
                allowed_kinds=list(c.allowed_kinds),
                mode=c.mode,
            )
            for c in plan.create
        ]
    )
    to_update = []
    for c in plan.update:
        slot = existing[c.slot_id]
        slot.capacity = c.capacity_after
        slot.ends_at = c.ends_at
        slot.opens_at = c.opens_at
        slot.program_id = c.program_id
        slot.allowed_kinds = list(c.allowed_kinds)
        slot.mode = c.mode
        to_update.append(slot)
    Slot.objects.bulk_update(to_update, ["capacity", "ends_at", "opens_at", "program", "allowed_kinds", "mode"])
    removed = [c.slot_id for c in plan.remove]
    if removed:
        # A slot that applications ever pointed at stays, empty, for their history.
        Slot.objects.filter(pk__in=removed, applications__isnull=True).delete()
        Slot.objects.filter(pk__in=removed).update(capacity=0)
    mark_days_changed(office_code=office.code, dates={c.date for c in plan.create + plan.update + plan.remove})
