"""Reads of the waiting list: an account's rows and offers, the nearest offices with free places
when one is full, and the figures staff and reports see."""

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Count, F, Min, Prefetch, Q, Sum
from django.utils import timezone

from offices.models import Office
from quotas.models import Pool, Slot

from .models import Offer, Release, Seeker, Waiting
from .services.waiting import households_ahead

EARTH_RADIUS_KM = 6371.0


def account_waiting(*, account) -> list[Waiting]:
    """The account's households still waiting, each with `ahead` (households before it) and
    `open_offer` (or None)."""
    rows = list(
        Waiting.objects.filter(account=account, status=Waiting.Status.WAITING)
        .select_related("office")
        .prefetch_related(
            Prefetch("people", queryset=Seeker.objects.filter(is_open=True).order_by("pk"), to_attr="open_people"),
            Prefetch(
                "offers",
                queryset=Offer.objects.filter(status=Offer.Status.OPEN).select_related("slot__office"),
                to_attr="open_offers",
            ),
        )
        .order_by("joined_at", "rank", "pk")
    )
    for row in rows:
        row.ahead = households_ahead(row)
        row.position = row.ahead + 1
        row.open_offer = row.open_offers[0] if row.open_offers else None
    return rows


def account_offers(*, account, now: dt.datetime | None = None) -> list[Offer]:
    """The account's open offers not yet past their deadline, with their session and people."""
    now = now or timezone.now()
    return list(
        Offer.objects.filter(waiting__account=account, status=Offer.Status.OPEN, expires_at__gt=now)
        .select_related("slot__office", "waiting")
        .prefetch_related(
            Prefetch(
                "waiting__people", queryset=Seeker.objects.filter(is_open=True).order_by("pk"), to_attr="open_people"
            )
        )
        .order_by("expires_at")
    )


# --- Nearby offices ---------------------------------------------------------------------------


@dataclass
class NearbyOffice:
    office: Office
    distance_km: float
    free: int  # online places free in the range, open now
    next_release_at: dt.datetime | None  # the next session to open for booking, office zone
    mode: str  # how that release hands out places: "first_come" or "draw"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearby_offices(
    *, office: Office, date_from: dt.date, date_to: dt.date, now: dt.datetime | None = None, limit: int = 3
) -> list[NearbyOffice]:
    """The nearest other active offices with online places free (and open) between the dates,
    nearest first; none when this office has no coordinates. Four queries whatever the number
    of offices: free places per office, those offices, their next openings, releases in draw mode."""
    now = now or timezone.now()
    if office.latitude is None or office.longitude is None:
        return []
    sessions = Slot.objects.filter(
        pool=Pool.ONLINE, date__gte=date_from, date__lte=date_to, office__is_active=True, office__latitude__isnull=False
    ).exclude(office=office)
    free = dict(
        sessions.filter(starts_at__gt=now, opens_at__lte=now)
        .values("office_id")
        .annotate(free=Sum(F("capacity") - F("taken") - F("held")))
        .filter(free__gt=0)
        .values_list("office_id", "free")
    )
    offices = Office.objects.filter(pk__in=free).order_by()
    ranked = sorted(offices, key=lambda o: distance_km(office.latitude, office.longitude, o.latitude, o.longitude))[
        :limit
    ]
    ids = [o.pk for o in ranked]
    next_opening = dict(
        Slot.objects.filter(office_id__in=ids, pool=Pool.ONLINE, opens_at__gt=now)
        .values("office_id")
        .annotate(at=Min("opens_at"))
        .values_list("office_id", "at")
    )
    drawing = set(
        Release.objects.filter(office_id__in=ids, entries_close_at__gt=now).values_list("office_id", flat=True)
    )
    return [
        NearbyOffice(
            office=o,
            distance_km=round(distance_km(office.latitude, office.longitude, o.latitude, o.longitude), 1),
            free=free[o.pk],
            next_release_at=next_opening[o.pk].astimezone(o.tzinfo) if o.pk in next_opening else None,
            mode="draw" if o.pk in drawing else "first_come",
        )
        for o in ranked
    ]


def office_has_free_places(
    *, office: Office, date_from: dt.date, date_to: dt.date, now: dt.datetime | None = None
) -> bool:
    now = now or timezone.now()
    return Slot.objects.filter(
        office=office,
        pool=Pool.ONLINE,
        date__gte=date_from,
        date__lte=date_to,
        starts_at__gt=now,
        opens_at__lte=now,
        capacity__gt=F("taken") + F("held"),
    ).exists()


# --- Staff and reports ------------------------------------------------------------------------


@dataclass
class OfferFigures:
    office: Office
    waiting: int  # households on the list now
    offers: int
    accepted: int
    declined: int
    lapsed: int
    cancelled: int
    p50_seconds: float | None  # from a place given back to its offer
    p99_seconds: float | None


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of `values` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def offer_figures(*, offices, since: dt.datetime | None = None) -> list[OfferFigures]:
    """Per office: its waiting list's length, the offers made since `since` (default 30 days)
    by outcome, and the time from a place given back to its offer (p50, p99)."""
    since = since or timezone.now() - dt.timedelta(days=30)
    offices = list(offices)
    ids = [o.pk for o in offices]
    waiting = dict(
        Waiting.objects.filter(office_id__in=ids, status=Waiting.Status.WAITING)
        .values("office_id")
        .annotate(n=Count("pk"))
        .values_list("office_id", "n")
    )
    outcomes = {
        row["slot__office_id"]: row
        for row in Offer.objects.filter(slot__office_id__in=ids, offered_at__gte=since)
        .values("slot__office_id")
        .annotate(
            offers=Count("pk"),
            **{s: Count("pk", filter=Q(status=s)) for s in ("accepted", "declined", "lapsed", "cancelled")},
        )
    }
    delays: dict[int, list[float]] = {}
    for office_id, given_back_at, offered_at in Offer.objects.filter(
        slot__office_id__in=ids, offered_at__gte=since, given_back_at__isnull=False
    ).values_list("slot__office_id", "given_back_at", "offered_at"):
        delays.setdefault(office_id, []).append((offered_at - given_back_at).total_seconds())
    figures = []
    for o in offices:
        row = outcomes.get(o.pk, {})
        figures.append(
            OfferFigures(
                office=o,
                waiting=waiting.get(o.pk, 0),
                offers=row.get("offers", 0),
                accepted=row.get("accepted", 0),
                declined=row.get("declined", 0),
                lapsed=row.get("lapsed", 0),
                cancelled=row.get("cancelled", 0),
                p50_seconds=percentile(delays.get(o.pk, []), 0.50),
                p99_seconds=percentile(delays.get(o.pk, []), 0.99),
            )
        )
    return figures
