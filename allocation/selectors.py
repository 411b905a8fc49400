"""Reads of the fair release: an office's releases with their demand, an account's entries,
a draw's publication and the staff's summary."""

import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone

from offices.models import Office

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
        release.places = _places(release)
    return releases


def _places(release: Release) -> int:
    if release.snapshot:
        return sum(slot["places"] for slot in json.loads(release.snapshot)["slots"])
    totals = release_slots(release).aggregate(capacity=Sum("capacity"), taken=Sum("taken"))
    return (totals["capacity"] or 0) - (totals["taken"] or 0)


def release_detail(*, release_id: int) -> Release:
    release = Release.objects.select_related("office").filter(pk=release_id).first()
    if release is None:
        raise ReleaseNotFound()
    release.entry_count = release.entries.exclude(status=Entry.Status.WITHDRAWN).count()
    release.places = _places(release)
    return release


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
    return {
        "by_status": by_status,
        "demand": sorted(demand.values(), key=lambda d: (d.slot_id, d.rank)),
        "forfeits": forfeits,
    }
