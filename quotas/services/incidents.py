"""Sessions closed by incidents (an office closed for a flood, a power cut): docs/incidents.md."""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from offices.incidents import covering, live_incidents
from offices.models import Incident

from ..availability_cache import mark_days_changed
from ..models import Slot


def close_sessions_for_incidents(*, now: dt.datetime | None = None) -> dict[int, int | None]:
    """Make `Slot.closed_by` match the live office-closed incidents: every session of a covered
    office that starts within an incident (from its start on, when its end is not known) is
    closed by it; a session no incident covers any more opens again. Sessions that have
    started are left as they are. Returns {slot id: incident id or None} of what changed."""
    now = now or timezone.now()
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
            closing_id = closing.pk if closing else None
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
