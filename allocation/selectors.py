"""Reads of the fair release: an office's releases with their demand, an account's entries,
a draw's publication and the staff's summary."""

import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from appointments.models import Application, Status
from offices.models import Office
from quotas.models import Pool, ReleaseMode, Slot

from .exceptions import EntryNotFound, NotDrawnYet, ReleaseNotFound
from .models import Entry, Release, Seeker
from .services.entries import release_slots


def office_releases(*, office: Office, now: dt.datetime | None = None) -> list[Release]:
    """The office's releases from those still to be drawn or drawn in the last 30 days, each with
    `places` (free places of its sessions) and `entries` (entries not withdrawn): demand made visible.
    Three queries whatever the number of releases."""
    now = now or timezone.now()
    releases = list(
        Release.objects.filter(office=office, entries_close_at__gte=now - dt.timedelta(days=30))
        .annotate(entry_count=Count("entries", filter=~Q(entries__status=Entry.Status.WITHDRAWN)))
        .order_by("entries_close_at")
    )
    for release in releases:
        release.office = office
    _set_places(releases)
    return releases


def _set_places(releases: list[Release]) -> None:
    """Each release's `places`: from its snapshot once closed, else the free places of its
    sessions now; one query for all the open ones."""
    open_ones = [r for r in releases if not r.snapshot]
    free: dict[tuple[int, dt.date], int] = {}
    if open_ones:
        slots = Slot.objects.filter(
            office_id__in={r.office_id for r in open_ones},
            pool=Pool.ONLINE,
            mode=ReleaseMode.DRAW,
            capacity__gt=0,
            date__gte=min(r.sessions_from for r in open_ones),
            date__lte=max(r.sessions_to for r in open_ones),
        ).values_list("office_id", "date", "capacity", "taken")
        for office_id, day, capacity, taken in slots:
            free[(office_id, day)] = free.get((office_id, day), 0) + max(capacity - taken, 0)
    for release in releases:
        if release.snapshot:
            release.places = sum(slot["places"] for slot in json.loads(release.snapshot)["slots"])
        else:
            release.places = sum(
                places
                for (office_id, day), places in free.items()
                if office_id == release.office_id and release.sessions_from <= day <= release.sessions_to
            )


def release_detail(*, release_id: int) -> Release:
    release = Release.objects.select_related("office").filter(pk=release_id).first()
    if release is None:
        raise ReleaseNotFound()
    release.entry_count = release.entries.exclude(status=Entry.Status.WITHDRAWN).count()
    _set_places([release])
    return release


def release_sessions(*, release: Release) -> list:
    """The release's sessions still to come, with their office, for the entry form."""
    return list(
        release_slots(release).filter(starts_at__gt=timezone.now()).select_related("office").order_by("starts_at")
    )


def account_entries(*, account):
    return Entry.objects.filter(account=account).select_related("release__office").order_by("-created_at")


def account_entry(*, account, entry_id: int) -> Entry:
    entry = account_entries(account=account).filter(pk=entry_id).first()
    if entry is None:
        raise EntryNotFound()
    return entry


def published_draw(*, release_id: int) -> dict:
    """What anyone needs to replay the draw: the seed (revealed only now), the snapshot's parts
    and the result."""
    release = Release.objects.filter(pk=release_id).first()
    if release is None:
        raise ReleaseNotFound()
    if release.plan is None:
        raise NotDrawnYet()
    snapshot = json.loads(release.snapshot)
    return {
        "id": release.pk,
        "seed": release.seed,
        "seed_sha256": release.seed_sha256,
        "entries_sha256": release.entries_sha256,
        "slots": snapshot["slots"],
        "entries": snapshot["entries"],
        "result": release.plan,
    }


@dataclass
class ChoiceDemand:
    slot_id: int
    rank: int
    entries: int
    people: int
    session: object = None


def release_summary(*, release: Release) -> dict:
    """For staff: entries by status, demand per session and rank of choice, and the winners
    still unpaid."""
    by_status = dict(release.entries.values_list("status").annotate(n=Count("pk")).order_by())
    people = dict(
        Seeker.objects.filter(entry__release=release).values_list("entry_id").annotate(n=Count("pk")).order_by()
    )
    demand: dict[tuple[int, int], ChoiceDemand] = {}
    for entry_id, choices in release.entries.exclude(status=Entry.Status.WITHDRAWN).values_list("pk", "choices"):
        for rank, slot_id in enumerate(choices, start=1):
            row = demand.setdefault((slot_id, rank), ChoiceDemand(slot_id=slot_id, rank=rank, entries=0, people=0))
            row.entries += 1
            row.people += people.get(entry_id, 0)
    forfeits = list(release.entries.filter(status=Entry.Status.FORFEITED).values_list("pk", "forfeit_reason"))
    won_codes = [
        code
        for codes in release.entries.filter(status=Entry.Status.WON).values_list("booking_codes", flat=True)
        for code in codes
    ]
    applications = Application.objects.filter(booking_code__in=won_codes)
    sessions = {slot.pk: slot for slot in release_slots(release).select_related("office")}
    for row in demand.values():
        row.session = sessions.get(row.slot_id)
    return {
        "by_status": [(label, by_status.get(value, 0)) for value, label in Entry.Status.choices],
        "demand": sorted(demand.values(), key=lambda d: (d.slot_id, d.rank)),
        "sessions": list(sessions.values()),
        "forfeits": forfeits,
        "won_applications": applications.count(),
        "unpaid": applications.filter(status=Status.PENDING_PAYMENT).count(),
        "expired": applications.filter(status=Status.EXPIRED).count(),
    }


def draw_demand(*, offices, date_from: dt.date, date_to: dt.date) -> list[dict]:
    """Demand measured directly: per office and release drawn (or to be drawn) between the
    dates, its entries and people (withdrawn ones left out) against its places."""
    releases = (
        Release.objects.filter(
            office__in=offices, entries_close_at__date__gte=date_from, entries_close_at__date__lte=date_to
        )
        .select_related("office")
        .annotate(
            entry_count=Count("entries", filter=~Q(entries__status=Entry.Status.WITHDRAWN), distinct=True),
            people=Count("entries__people", filter=~Q(entries__status=Entry.Status.WITHDRAWN)),
        )
        .order_by("office__name", "entries_close_at")
    )
    releases = list(releases)
    _set_places(releases)
    rows = []
    for release in releases:
        places = release.places
        rows.append(
            {
                "office": release.office,
                "draw_at": release.entries_close_at.astimezone(release.office.tzinfo),
                "places": places,
                "entries": release.entry_count,
                "people": release.people,
                "people_per_place": release.people / places if places else None,
            }
        )
    return rows
