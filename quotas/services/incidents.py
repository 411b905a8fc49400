"""Sessions closed by incidents (an office closed for a flood, a power cut), and office-days
served by walk-in instead: docs/incidents.md."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offices import permissions
from offices.exceptions import IncidentInvalid, IncidentNotAllowed
from offices.incidents import covering, live_incidents
from offices.models import Incident, Office
from offices.signals import incident_changed

from ..availability_cache import mark_days_changed, mark_slots_changed
from ..models import Pool, Slot, WalkInDay


def close_sessions_for_incidents(*, now: dt.datetime | None = None) -> dict[int, int | None]:
    """Make `Slot.closed_by` match the live office-closed incidents: every session of a covered
    office that starts within an incident (from its start on, when its end is not known) is
    closed by it; a session no incident covers any more opens again. Sessions that have
    started are left as they are. Returns {slot id: incident id or None} of what changed."""
    now = now or timezone.now()
    by_walk_in = set(walk_in_days())
    closures = [
        incident
        for incident in live_incidents(kinds=[Incident.Kind.OFFICE_CLOSED])
        if incident.ends_at is None or incident.ends_at > now
    ]
    changed: dict[int, int | None] = {}
    with transaction.atomic():
        candidates = Slot.objects.filter(starts_at__gt=now).select_related("office")
        reach = Q(pk__in=[])
        for incident in closures:
            reach |= _sessions_of(incident)
        in_reach = candidates.filter(reach)
        # What is closed now, and what any closure could reach: nothing else can change.
        rows = {slot.pk: slot for slot in candidates.filter(closed_by__isnull=False)}
        rows.update((slot.pk, slot) for slot in in_reach)
        offices: dict[int, list[Incident]] = {}
        for slot in rows.values():
            if slot.office_id not in offices:
                offices[slot.office_id] = covering(closures, slot.office)
            closing = next(
                (
                    incident
                    for incident in offices[slot.office_id]
                    if incident.starts_at <= slot.starts_at
                    and (incident.ends_at is None or slot.starts_at < incident.ends_at)
                ),
                None,
            )
            # A day the office serves by walk-in is open, whatever closed it.
            closing_id = closing.pk if closing and (slot.office_id, slot.date) not in by_walk_in else None
            if slot.closed_by_id != closing_id:
                changed[slot.pk] = closing_id
        for slot_id, incident_id in changed.items():
            Slot.objects.filter(pk=slot_id).update(closed_by_id=incident_id)
        days: dict[str, set[dt.date]] = {}
        for slot_id in changed:
            days.setdefault(rows[slot_id].office.code, set()).add(rows[slot_id].date)
        for code, dates in days.items():
            mark_days_changed(office_code=code, dates=dates)
    return changed


def _sessions_of(incident: Incident) -> Q:
    q = Q(starts_at__gte=incident.starts_at)
    if incident.ends_at is not None:
        q &= Q(starts_at__lt=incident.ends_at)
    if incident.scope == Incident.Scope.REGION:
        q &= Q(office__region_id=incident.region_id)
    elif incident.scope == Incident.Scope.OFFICE:
        q &= Q(office_id=incident.office_id)
    return q


# --- Days served by walk-in -----------------------------------------------------------------
# The alternative to moving a closed day's applicants (or to a day the portal could not take
# bookings for): the office serves the day at the counter. The switch is a row (WalkInDay); the
# slots are made to match it by the recomputation of what incidents give (allocation), like
# `closed_by`.


def walk_in_days() -> dict[tuple[int, dt.date], WalkInDay]:
    """The days served by walk-in now, by (office id, date): not switched back, for an incident
    not withdrawn."""
    days = WalkInDay.objects.filter(switched_back_at__isnull=True, incident__withdrawn_at__isnull=True)
    return {(day.office_id, day.date): day for day in days}


def check_walk_in_day(*, actor, incident: Incident | None, office: Office | None, date: dt.date | None, now) -> None:
    """Whether `actor` may serve this office-day by walk-in for `incident` (IncidentInvalid,
    IncidentNotAllowed): whoever may declare an incident for the office, for a day the incident
    touches, today or ahead, with online sessions still to come, not already switched."""
    if incident is None or incident.withdrawn_at is not None:
        raise IncidentInvalid(_("Choose an incident that is not withdrawn."), field="incident")
    if office is None:
        raise IncidentInvalid(_("Choose the office."), field="office")
    if date is None:
        raise IncidentInvalid(_("Give the date."), field="date")
    if not permissions.may_declare_incident(actor, scope=Incident.Scope.OFFICE, region_id=None, office=office):
        raise IncidentNotAllowed()
    if not incident.covers(office):
        raise IncidentInvalid(_("This incident does not cover this office."), field="office")
    if date < now.astimezone(office.tzinfo).date():
        raise IncidentInvalid(_("Choose today or a day ahead."), field="date")
    day_starts = dt.datetime.combine(date, dt.time(0, 0), tzinfo=office.tzinfo)
    day_ends = day_starts + dt.timedelta(days=1)
    if not (incident.starts_at < day_ends and (incident.ends_at is None or incident.ends_at > day_starts)):
        raise IncidentInvalid(_("The incident does not touch this day at this office."), field="date")
    if _switched(office=office, date=date).filter(incident__withdrawn_at__isnull=True).exists():
        raise IncidentInvalid(_("This day is already served by walk-in."), field="date")
    if not Slot.objects.filter(office=office, date=date, pool=Pool.ONLINE, capacity__gt=0, starts_at__gt=now).exists():
        raise IncidentInvalid(_("This day has no online session still to come."), field="date")


def switch_day_to_walk_in(
    *, actor, incident_id: int, office_id: int, date: dt.date, now: dt.datetime | None = None
) -> WalkInDay:
    """Serve an office-day an incident touches by walk-in: its free online places become walk-in
    places, and its applicants keep their sessions and are told. Recomputed with what every
    incident gives, in this transaction; refused with nothing changed (check_walk_in_day)."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = Incident.objects.filter(pk=incident_id).first()
        office = Office.objects.filter(pk=office_id).first()
        check_walk_in_day(actor=actor, incident=incident, office=office, date=date, now=now)
        # A switch whose incident was withdrawn gives nothing any more: it ends here, on record.
        for stale in _switched(office=office, date=date).select_for_update():
            stale.switched_back_at = now
            stale._history_user = actor
            stale.save(update_fields=["switched_back_at"])
        day = WalkInDay(incident=incident, office=office, date=date, switched_by=actor)
        day._history_user = actor
        try:
            with transaction.atomic():
                day.save()
        except IntegrityError:  # switched at the same moment by someone else
            raise IncidentInvalid(_("This day is already served by walk-in."), field="date") from None
        incident_changed.send(sender=WalkInDay, incident_id=incident.pk)
    return day


def _switched(*, office: Office, date: dt.date):
    return WalkInDay.objects.filter(office=office, date=date, switched_back_at__isnull=True)


def switch_day_back_online(*, actor, walk_in_day_id: int, now: dt.datetime | None = None) -> WalkInDay:
    """Book the day online again: the online places no walk-in used go back to the online pool
    (of the sessions not started). The row stays, with who switched it back in its history."""
    now = now or timezone.now()
    with transaction.atomic():
        day = WalkInDay.objects.select_for_update().filter(pk=walk_in_day_id).first()
        if day is None:
            raise IncidentInvalid(_("This day is not served by walk-in."))
        if not permissions.may_declare_incident(actor, scope=Incident.Scope.OFFICE, region_id=None, office=day.office):
            raise IncidentNotAllowed()
        if day.switched_back_at is None:
            day.switched_back_at = now
            day._history_user = actor
            day.save(update_fields=["switched_back_at"])
            incident_changed.send(sender=WalkInDay, incident_id=day.incident_id)
    return day


def mark_walk_in_sessions(*, now: dt.datetime | None = None) -> list[int]:
    """Make `Slot.walk_in_by` of the online sessions not started match the days served by
    walk-in. Returns the ids of the sessions newly served by walk-in (their applicants are told)."""
    now = now or timezone.now()
    days = walk_in_days()
    reach = Q(pk__in=[])
    for office_id, date in days:
        reach |= Q(office_id=office_id, date=date)
    online = Slot.objects.filter(pool=Pool.ONLINE, starts_at__gt=now).select_related("office")
    newly: list[int] = []
    changed: dict[str, set[dt.date]] = {}
    with transaction.atomic():
        for slot in online.filter(reach | Q(walk_in_by__isnull=False)):
            day = days.get((slot.office_id, slot.date))
            day_id = day.pk if day else None
            if slot.walk_in_by_id == day_id:
                continue
            Slot.objects.filter(pk=slot.pk).update(walk_in_by_id=day_id)
            changed.setdefault(slot.office.code, set()).add(slot.date)
            if day_id is not None:
                newly.append(slot.pk)
        for code, dates in changed.items():
            mark_days_changed(office_code=code, dates=dates)
    return newly


def move_walk_in_places(*, now: dt.datetime | None = None) -> int:
    """Move the free places of each online session served by walk-in (not started) to the
    session's walk-in slot (made when it has none), and give back to the online pool the places
    moved from a session no longer served by walk-in that no walk-in took. `moved_to_walk_in`
    counts what is moved, so slot generation keeps it. Returns how many places moved either way."""
    now = now or timezone.now()
    candidates = Slot.objects.filter(pool=Pool.ONLINE, starts_at__gt=now).filter(
        Q(walk_in_by__isnull=False, taken__lt=F("capacity") - F("held"))
        | Q(walk_in_by__isnull=True, moved_to_walk_in__gt=0)
    )
    moved = 0
    with transaction.atomic():
        for slot_id in candidates.order_by("pk").values_list("pk", flat=True):
            moved += _move_places(slot_id=slot_id)
    return moved


def _move_places(*, slot_id: int) -> int:
    online = Slot.objects.select_for_update(no_key=True).get(pk=slot_id)
    walk_in = (
        Slot.objects.select_for_update(no_key=True)
        .filter(office_id=online.office_id, starts_at=online.starts_at, pool=Pool.WALK_IN)
        .first()
    )
    if online.walk_in_by_id is not None:
        count = online.available
        if walk_in is None:
            walk_in = Slot.objects.create(
                office_id=online.office_id,
                date=online.date,
                starts_at=online.starts_at,
                ends_at=online.ends_at,
                pool=Pool.WALK_IN,
                capacity=0,
                opens_at=online.opens_at,
                program_id=online.program_id,
                allowed_kinds=online.allowed_kinds,
            )
    else:
        # Places a walk-in took stay taken: only what is free at the door goes back online.
        count = -min(online.moved_to_walk_in, walk_in.available if walk_in else 0)
    if count == 0:
        return 0
    Slot.objects.filter(pk=online.pk).update(
        capacity=F("capacity") - count, moved_to_walk_in=F("moved_to_walk_in") + count
    )
    Slot.objects.filter(pk=walk_in.pk).update(capacity=F("capacity") + count)
    mark_slots_changed(slot_ids=[online.pk, walk_in.pk], freed=True)
    return abs(count)
