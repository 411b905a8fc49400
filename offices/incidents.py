"""Incidents read by the apps above offices: which ones cover an office, and how far a
deadline moves for the outages that overlapped it (docs/incidents.md)."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import TIMEZONE_LABELS, Incident, Office

Kind = Incident.Kind

# Which kinds of incident move which deadline. Paying needs the payment system and the portal;
# accepting an offer and entering a draw need the portal.
PAYMENT_KINDS = (Kind.PAYMENT_DOWN, Kind.PORTAL_DOWN)
PORTAL_KINDS = (Kind.PORTAL_DOWN,)


def grace() -> dt.timedelta:
    """Added to a deadline on top of each outage's overlap with it (2 hours by default)."""
    return dt.timedelta(minutes=settings.INCIDENT_GRACE_MINUTES)


def assumed_end(incident: Incident, now: dt.datetime) -> dt.datetime:
    """The end of an incident; one whose end is not known yet is assumed to last at least
    INCIDENT_OPEN_HOURS from now (to the next full hour). Recomputed every minute while open, so nothing it protects
    expires while it lasts, and recomputed once more when its end is set."""
    if incident.ends_at is not None:
        return incident.ends_at
    # Rounded up to the hour: the minute job then rewrites the deadlines once an hour, not each run.
    assumed = max(now, incident.starts_at) + dt.timedelta(hours=settings.INCIDENT_OPEN_HOURS)
    rounded = assumed.replace(minute=0, second=0, microsecond=0)
    return rounded if rounded == assumed else rounded + dt.timedelta(hours=1)


def live_incidents(*, kinds: Sequence[str] | None = None) -> list[Incident]:
    """Every incident not withdrawn, of `kinds` (all kinds: None), oldest first. Incidents are
    few (a handful a month), so callers filter them by office in Python (`covering`)."""
    incidents = Incident.objects.filter(withdrawn_at__isnull=True)
    if kinds is not None:
        incidents = incidents.filter(kind__in=kinds)
    return list(incidents.order_by("starts_at", "pk"))


def covering(incidents: Iterable[Incident], office: Office) -> list[Incident]:
    return [incident for incident in incidents if incident.covers(office)]


def outages(incidents: Iterable[Incident], *, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The incidents' periods, overlapping ones merged: two incidents at once count once."""
    merged: list[list[dt.datetime]] = []
    for start, end in sorted((i.starts_at, assumed_end(i, now)) for i in incidents):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def extended_deadline(
    *, opened_at: dt.datetime, due: dt.datetime, periods: Sequence[tuple[dt.datetime, dt.datetime]]
) -> dt.datetime:
    """`due` (the deadline without incidents) of a window that opened at `opened_at`, moved by
    each outage period that overlaps the window: by the overlap plus the grace. The window is
    paused while the outage lasts, so an outage that outlasts the deadline counts to its end
    (the window never closes during the outage). In time order, so a deadline moved into a later
    outage is moved by that one too. A pure function of its arguments: recomputing it after a
    correction gives the corrected deadline."""
    for start, end in periods:
        if start < due and end > opened_at:
            due = due + (end - max(start, opened_at)) + grace()
    return due


@dataclass(frozen=True)
class Deadline:
    """Where a kind of row keeps a deadline that outages move (field names): when its window
    `opened`, the deadline every reader uses (`due`), the deadline without incidents kept beside
    it while an incident moves it (`base`), and the path to the row's `office`."""

    opened: str
    due: str
    base: str
    office: str


def move_deadlines(rows: QuerySet, deadline: Deadline, *, kinds, now: dt.datetime) -> int:
    """Set the deadline of each of `rows` to its deadline without incidents moved by every live
    outage of `kinds` at its office (`extended_deadline`); a row no incident touches any more gets
    its own deadline back. Each write is conditional on `rows`' own filter (a payment, an answer
    or a close that got there first decides). Returns how many deadlines changed."""
    incidents = live_incidents(kinds=kinds)
    touched = Q(**{f"{deadline.base}__isnull": False})
    if incidents:
        # A window can overlap only incidents that started before its deadline.
        touched |= Q(**{f"{deadline.due}__gt": min(i.starts_at for i in incidents)})
    office_of = attrgetter(deadline.office.replace("__", "."))
    changed = 0
    periods: dict[int, list] = {}
    for row in rows.filter(touched).select_related(deadline.office).order_by("pk").iterator():
        office = office_of(row)
        if office.pk not in periods:
            periods[office.pk] = outages(covering(incidents, office), now=now)
        base = getattr(row, deadline.base) or getattr(row, deadline.due)
        due = extended_deadline(opened_at=getattr(row, deadline.opened), due=base, periods=periods[office.pk])
        new_base = base if due != base else None
        if (due, new_base) != (getattr(row, deadline.due), getattr(row, deadline.base)):
            changed += rows.filter(pk=row.pk).update(**{deadline.due: due, deadline.base: new_base})
    return changed


def current_and_announced(*, now: dt.datetime | None = None) -> list[Incident]:
    """Incidents not withdrawn and not over: going on, or announced ahead. For the banner and
    GET /api/v1/status/. One query."""
    now = now or timezone.now()
    return list(
        Incident.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now), withdrawn_at__isnull=True)
        .select_related("region", "office")
        .order_by("starts_at", "pk")
    )


# The banner's incidents, for every page: a cache entry (a query at most every 30 s), cleared by
# each change of an incident (offices.services). An incident that ends drops out within 30 s.
BANNER_KEY = "incidents:banner:v1"
BANNER_SECONDS = 30


def forget_banner() -> None:
    try:
        cache.delete(BANNER_KEY)
    except Exception:  # the cache fails open: the entry expires within BANNER_SECONDS anyway
        pass


def banner_incidents(*, language: str | None, now: dt.datetime | None = None) -> list[dict]:
    """The incidents going on or announced, each {id, kind, label, where, message, starts_at,
    ends_at, zone, going_on}: times in the office's zone (WIB for a region or every office),
    `message` in `language`."""
    now = now or timezone.now()
    try:
        rows = cache.get(BANNER_KEY)
    except Exception:
        rows = None
    if rows is None:
        rows = [_banner_row(incident) for incident in current_and_announced(now=now)]
        try:
            cache.set(BANNER_KEY, rows, BANNER_SECONDS)
        except Exception:
            pass
    out = []
    for row in rows:
        if row["ends_at"] is not None and row["ends_at"] <= now:
            continue
        zone = ZoneInfo(row["timezone"])
        out.append(
            {
                "id": row["id"],
                "kind": row["kind"],
                "label": Incident.Kind(row["kind"]).label,
                "where": row["where"],
                "message": row["message_en"] if (language or "").startswith("en") else row["message_id"],
                "starts_at": row["starts_at"].astimezone(zone),
                "ends_at": row["ends_at"].astimezone(zone) if row["ends_at"] else None,
                "zone": TIMEZONE_LABELS[row["timezone"]],
                "going_on": row["starts_at"] <= now,
            }
        )
    return out


def _banner_row(incident: Incident) -> dict:
    zone = incident.office.timezone if incident.office else "Asia/Jakarta"
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "where": str(incident.office or incident.region or ""),
        "message_id": incident.message_id,
        "message_en": incident.message_en,
        "starts_at": incident.starts_at,
        "ends_at": incident.ends_at,
        "timezone": zone,
    }
