"""Every write to quotas and slots. Each service owns its transaction."""

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Model, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mpaspor.db import in_callers_transaction, insert_after
from offices.models import Office

from . import calendar
from .exceptions import NotOpenYet, ShrinkRefused, SlotFull, SlotNotFound
from .models import (
    DateOverride,
    Pool,
    ProgramSession,
    QuotaRule,
    ReleaseSchedule,
    SearchTally,
    ServiceProgram,
    Slot,
)
from .selectors import forget_cached_days
from .signals import GIVE_BACK_REASONS, place_given_back

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
        raise claim_refusal(slot_id=slot_id, now=now)


def claim_refusal(*, slot_id: int, now: dt.datetime) -> NotOpenYet | SlotFull:
    """Why a claim took no place: the slot has not opened yet, or it has too few places left."""
    return NotOpenYet() if Slot.objects.filter(pk=slot_id, opens_at__gt=now).exists() else SlotFull()


@in_callers_transaction
def return_places(*, slot_id: int, reason: str, count: int = 1) -> None:
    """Give places back to a slot, inside the caller's transaction that releases what held them
    (an application's status change); `place_given_back` is sent once that commits."""
    assert reason in GIVE_BACK_REASONS, reason
    Slot.objects.filter(pk=slot_id, taken__gte=count).update(taken=F("taken") - count)
    transaction.on_commit(
        partial(place_given_back.send, sender=Slot, slot_id=slot_id, count=count, reason=reason), robust=True
    )


# --- Slot generation ----------------------------------------------------------------------


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
    if plan.has_changes:
        days = {c.date for c in plan.create + plan.update + plan.remove}
        transaction.on_commit(lambda: forget_cached_days(office_id=office.pk, dates=days))
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
            for slot in _day_slots(day, sessions, override=override, opens_at=opens, tz=tz):
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
    """A day's sessions by start time: (end, online places, priority places, programme or None)."""
    sessions: dict[dt.time, tuple] = {}
    for rule in rules:
        sessions[rule.start_time] = (rule.end_time, rule.online_capacity, rule.priority_capacity, None)
    for program in programs:  # a programme's session replaces a rule's at the same start
        for session in program.sessions.all():
            sessions[session.start_time] = (
                session.end_time,
                session.online_capacity,
                session.priority_capacity,
                program,
            )
    return sessions


def _day_slots(
    day: dt.date, sessions: dict[dt.time, tuple], *, override: DateOverride | None, opens_at: dt.datetime, tz
) -> list[PlannedSlot]:
    """One slot per session and pool with places, after the date's override of the capacities."""
    slots = []
    for start, (end, online, priority, program) in sessions.items():
        if override is not None:
            online = override.online_capacity if override.online_capacity is not None else online
            priority = override.priority_capacity if override.priority_capacity is not None else priority
        starts_at = dt.datetime.combine(day, start, tzinfo=tz)
        ends_at = dt.datetime.combine(day, end, tzinfo=tz)
        for pool, capacity in ((Pool.ONLINE, online), (Pool.PRIORITY, priority)):
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
                    )
                )
    return slots


def _plan(*, office: Office, date_from: dt.date, date_to: dt.date, existing: list[Slot], now: dt.datetime) -> SlotPlan:
    """What to create, update and remove so that the existing slots match the rules, and the
    changes that would leave a slot fewer places than are taken. Started sessions stay as they are."""
    tz = office.tzinfo
    desired, closed = _desired(office=office, date_from=date_from, date_to=date_to)
    plan = SlotPlan(office=office, date_from=date_from, date_to=date_to, closed_days=closed)
    current = {(s.starts_at, s.pool): s for s in existing}
    # Places the give-back moved from a session's priority pool to its online pool stay moved.
    moved = {s.starts_at: s.moved_to_online for s in existing if s.pool == Pool.PRIORITY}

    for key, want in sorted(desired.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if want.starts_at <= now:
            continue
        slot = current.get(key)
        if slot is None:
            plan.create.append(_change(want, None, capacity=want.capacity, tz=tz))
            continue
        change = _update(slot, want, moved_to_online=moved.get(want.starts_at, 0), now=now, tz=tz)
        if change.changed:
            (plan.conflicts if change.capacity_after < slot.taken else plan.update).append(change)

    for key, slot in sorted(current.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if key in desired or slot.starts_at <= now or slot.capacity == 0:
            continue
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
    )


def _update(slot: Slot, want: PlannedSlot, *, moved_to_online: int, now: dt.datetime, tz) -> SlotChange:
    """What an existing slot would become; its `changed` stays empty when nothing changes."""
    if want.pool == Pool.PRIORITY:
        capacity = want.capacity - moved_to_online + slot.overflow
    else:
        capacity = want.capacity + moved_to_online
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
        to_update.append(slot)
    Slot.objects.bulk_update(to_update, ["capacity", "ends_at", "opens_at", "program", "allowed_kinds"])
    removed = [c.slot_id for c in plan.remove]
    if removed:
        # A slot that applications ever pointed at stays, empty, for their history.
        Slot.objects.filter(pk__in=removed, applications__isnull=True).delete()
        Slot.objects.filter(pk__in=removed).update(capacity=0)


# --- Priority places: online before the session, overflow during it ------------------------
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
        Slot.objects.filter(pk=online.pk).update(capacity=F("capacity") + free)
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


# --- Demo and first set-up ----------------------------------------------------------------


@dataclass(frozen=True)
class SessionSpec:
    """One session of a weekday in set_up_office_quotas; `kinds` limits it to those kinds."""

    start: dt.time
    end: dt.time
    online: int
    priority: int = 0
    kinds: tuple = ()


def set_up_office_quotas(
    *,
    office: Office,
    week: dict[int, list[SessionSpec]],
    release_kind: str = ReleaseSchedule.Kind.ROLLING,
    days_before: int = 14,
    release_weekday: int = 4,
    day_of_month: int = 25,
    release_time: dt.time = dt.time(9),
    horizon_days: int = 30,
    programme_name: str = "Layanan Paspor Akhir Pekan",
    valid_from: dt.date | None = None,
    now: dt.datetime | None = None,
) -> SlotPlan:
    """Give an office its quota rules and release schedule, then generate its slots for the
    horizon. `week` maps a weekday (0 = Monday) to its sessions; sessions limited to some
    application kinds become a service programme (rules carry no kinds) on the weekdays they
    occur. Idempotent: an office that already has rules, a schedule or the programme keeps
    them. Meant for seed_demo and a first set-up."""
    now = now or timezone.now()
    valid_from = valid_from or now.astimezone(office.tzinfo).date() - dt.timedelta(days=1)
    with transaction.atomic():
        if not QuotaRule.objects.filter(office=office).exists():
            _create_weekday_rules(office=office, week=week, valid_from=valid_from)
        _create_limited_programmes(office=office, week=week, valid_from=valid_from, name=programme_name)
        ReleaseSchedule.objects.get_or_create(
            office=office,
            defaults={
                "kind": release_kind,
                "days_before": days_before,
                "weekday": release_weekday,
                "day_of_month": day_of_month,
                "release_time": release_time,
                "horizon_days": horizon_days,
            },
        )
    return generate_horizon_slots(office_id=office.pk, now=now)


def _create_weekday_rules(*, office: Office, week: dict[int, list[SessionSpec]], valid_from: dt.date) -> None:
    """A quota rule for each session open to every kind."""
    QuotaRule.objects.bulk_create(
        QuotaRule(
            office=office,
            weekday=weekday,
            start_time=spec.start,
            end_time=spec.end,
            online_capacity=spec.online,
            priority_capacity=spec.priority,
            valid_from=valid_from,
        )
        for weekday, specs in sorted(week.items())
        for spec in specs
        if not spec.kinds
    )


def _create_limited_programmes(
    *, office: Office, week: dict[int, list[SessionSpec]], valid_from: dt.date, name: str
) -> None:
    """A service programme for the sessions limited to some kinds, for a year from valid_from;
    weekdays with the same limited sessions share one. A programme already there is kept."""
    limited: dict[tuple, list[int]] = {}
    for weekday, specs in sorted(week.items()):
        group = tuple(sorted(spec for spec in specs if spec.kinds))
        if group:
            limited.setdefault(group, []).append(weekday)
    for number, (group, weekdays) in enumerate(limited.items(), start=1):
        programme_name = name if len(limited) == 1 else f"{name} {number}"
        if ServiceProgram.objects.filter(office=office, name=programme_name).exists():
            continue
        program = ServiceProgram.objects.create(
            office=office,
            name=programme_name,
            date_from=valid_from,
            date_to=valid_from + dt.timedelta(days=366),
            weekdays=weekdays,
            allowed_kinds=sorted({kind for spec in group for kind in spec.kinds}),
        )
        ProgramSession.objects.bulk_create(
            ProgramSession(
                program=program,
                start_time=spec.start,
                end_time=spec.end,
                online_capacity=spec.online,
                priority_capacity=spec.priority,
            )
            for spec in group
        )


# --- Demand signals: availability searches ------------------------------------------------
# A search adds to up to three cache counters (Redis in production: `cache.count`, no database
# write on the hot path). `flush_search_counts` moves them into SearchTally rows.
SEARCH_COUNTER_TTL = 4 * 24 * 3600  # counters outlive a missed flush or two
SEARCH_FLUSH_DAYS_BACK = 2  # the flush looks at today and the two days before (office date)
_SEARCH_FIELDS = ("searches", "found_nothing", "days_asked")


def _search_key(office_id: int, day, counter: str) -> str:
    return f"quotas:search:{office_id}:{day.isoformat()}:{counter}"


def record_availability_search(*, office: Office, date_from, date_to, found_free: bool, now=None) -> None:
    """Count one availability search (web calendar or API) of an office over
    [date_from, date_to]. Cheap and fail-safe: a cache outage loses the count, never the page."""
    now = now or timezone.now()
    day = now.astimezone(office.tzinfo).date()  # the office's own date
    days_asked = max((date_to - date_from).days + 1, 0)
    try:
        cache.count(_search_key(office.pk, day, "searches"), 1, SEARCH_COUNTER_TTL)
        if not found_free:
            cache.count(_search_key(office.pk, day, "found_nothing"), 1, SEARCH_COUNTER_TTL)
        if days_asked:
            cache.count(_search_key(office.pk, day, "days_asked"), days_asked, SEARCH_COUNTER_TTL)
    except Exception:  # noqa: BLE001 - a demand signal must never break availability
        logger.warning("availability search not counted (cache unavailable)", exc_info=True)


def flush_search_counts(*, now=None) -> int:
    """Move the cached search counters of the last few days into SearchTally rows.
    Safe to run concurrently with searches: it subtracts exactly what it wrote, so a
    search counted meanwhile stays for the next flush. Returns the searches moved."""
    now = now or timezone.now()
    offices = dict(Office.objects.values_list("pk", "timezone"))
    keys = {}
    for office_id, tz_name in offices.items():
        today = now.astimezone(ZoneInfo(tz_name)).date()
        for back in range(SEARCH_FLUSH_DAYS_BACK + 1):
            day = today - dt.timedelta(days=back)
            for counter in _SEARCH_FIELDS:
                keys[_search_key(office_id, day, counter)] = (office_id, day, counter)
    values = cache.get_many(list(keys))
    pending: dict[tuple, dict[str, int]] = {}
    for key, value in values.items():
        if value:
            office_id, day, counter = keys[key]
            pending.setdefault((office_id, day), {})[counter] = int(value)
    moved = 0
    for (office_id, day), counts in pending.items():
        with transaction.atomic():
            tally, _created = SearchTally.objects.select_for_update().get_or_create(office_id=office_id, day=day)
            SearchTally.objects.filter(pk=tally.pk).update(
                **{counter: F(counter) + counts.get(counter, 0) for counter in _SEARCH_FIELDS}
            )
        for counter, amount in counts.items():
            try:
                cache.decr(_search_key(office_id, day, counter), amount)
            except ValueError:  # expired meanwhile: nothing left to subtract
                pass
        moved += counts.get("searches", 0)
    return moved
