"""Places held for the waiting list, turned into time-limited offers.

A place given back while households wait for its session is held (`Slot.held`) by quotas in the
statement that gives it back. Here it is offered to the first household it fits, accepted (the
household is booked from the held places in one step), declined, or left to lapse; then it passes
on. What no household can take goes back to the public pool at once.

Locks, always in this order: the slot's row, then the offer's. An acceptance takes the slot's
row by its claim and then the offer's by its conditional UPDATE; every other change here locks
the slot first. So a place is offered to one household at a time, and an acceptance racing a
lapse or a withdrawal has one winner (docs/waiting-list.md)."""

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F, Prefetch, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from appointments.models import Application
from appointments.services.booking import book_applications, session_takes
from appointments.services.earlier import move_earlier_into, sweep_earlier
from mpaspor.db import lock_row
from mpaspor.metrics import count_offer
from offices.models import Office
from quotas.availability_cache import mark_slots_changed
from quotas.exceptions import SlotFull
from quotas.models import Slot

from ..exceptions import OfferExpired, OfferNotFound, WaitingNotFound
from ..models import Offer, Seeker, Waiting
from ..outbox import queue_offer_messages
from .waiting import count_household

logger = logging.getLogger(__name__)

# An offer is not made with less time than this left to answer it.
SHORTEST_OFFER = dt.timedelta(minutes=15)
# Between 21:00 and 06:00 office time no one is expected to answer: the offer runs from 08:00.
NIGHT_STARTS, NIGHT_ENDS, MORNING = dt.time(21), dt.time(6), dt.time(8)
# The booking's payment must fall due at least this long before the session starts.
BEFORE_SESSION = dt.timedelta(minutes=30)


def offer_expiry(*, starts_at: dt.datetime, tz: ZoneInfo, now: dt.datetime) -> dt.datetime | None:
    """When an offer made now for a session starting at `starts_at` expires, or None when too
    little time would remain: OFFER_MINUTES from now (from 08:00 for an offer made at night),
    and never later than the session's start less the payment window and half an hour."""
    minutes = dt.timedelta(minutes=settings.OFFER_MINUTES)
    local = now.astimezone(tz)
    if local.time() >= NIGHT_STARTS or local.time() < NIGHT_ENDS:
        morning = local.date() + dt.timedelta(days=1 if local.time() >= NIGHT_STARTS else 0)
        expires_at = dt.datetime.combine(morning, MORNING, tzinfo=tz) + minutes
    else:
        expires_at = now + minutes
    latest = starts_at - dt.timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES) - BEFORE_SESSION
    expires_at = min(expires_at, latest)
    return expires_at if expires_at - now >= SHORTEST_OFFER else None


def pass_on_places(*, slot_id: int, now: dt.datetime | None = None, given_back_at: dt.datetime | None = None) -> int:
    """Where places given back go: the waiting list's offers first, then the households that asked
    to come earlier take what is public (appointments.services.earlier). Returns the offers made."""
    made = offer_held_places(slot_id=slot_id, now=now, given_back_at=given_back_at)
    move_earlier_into(slot_id=slot_id, now=now)
    return made


def offer_held_places(*, slot_id: int, now: dt.datetime | None = None, given_back_at: dt.datetime | None = None) -> int:
    """Offer the slot's held places that no open offer covers to the first waiting households
    they fit, in the list's order; put what none can take back in the public pool. Idempotent.
    Returns how many offers it made."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        slot = Slot.objects.select_for_update(no_key=True).filter(pk=slot_id).select_related("office").first()
        if slot is None or slot.held == 0:
            return 0
        offered = Offer.objects.filter(slot=slot, status=Offer.Status.OPEN).aggregate(n=Coalesce(Sum("places"), 0))
        free = slot.held - offered["n"]
        if free <= 0:
            return 0
        expires_at = offer_expiry(starts_at=slot.starts_at, tz=slot.office.tzinfo, now=now)
        offers = []
        # A session an incident closed, or whose day is served by walk-in, is offered to nobody: its
        # place goes to the public pool (and from a day served by walk-in on to the door).
        booked_online = slot.closed_by_id is None and slot.walk_in_by_id is None
        if slot.office.is_active and booked_online and expires_at is not None:
            for waiting in _households_waiting_for(slot):
                people = list(waiting.people.all())
                if len(people) <= free and _fits(slot, people):
                    offers.append(
                        Offer.objects.create(
                            waiting=waiting,
                            slot=slot,
                            places=len(people),
                            given_back_at=given_back_at,
                            offered_at=now,
                            expires_at=expires_at,
                        )
                    )
                    queue_offer_messages(offer=offers[-1], people=people)
                    free -= len(people)
                if free == 0:
                    break
        if free:
            _to_public_pool(slot=slot, count=free)
    for offer in offers:
        if offer.given_back_at is not None:
            count_offer(given_back_at=offer.given_back_at, offered_at=offer.offered_at)
    if offers:
        logger.info("slot %s: %s offers made", slot_id, len(offers))
    return len(offers)


def _households_waiting_for(slot: Slot):
    """Households waiting for the slot's session, in the list's order, that hold no open offer and
    were not offered this session before (they declined it or let it lapse). The first 50: a slot
    gives back a few places at a time, and the next run looks again."""
    return (
        Waiting.objects.filter(
            office_id=slot.office_id,
            status=Waiting.Status.WAITING,
            date_from__lte=slot.date,
            date_to__gte=slot.date,
        )
        .filter(Q(entry__isnull=True) | Q(slots=slot))
        .exclude(offers__status=Offer.Status.OPEN)
        .exclude(offers__slot=slot)
        .distinct()
        .order_by("joined_at", "rank", "pk")
        .prefetch_related(Prefetch("people", queryset=Seeker.objects.filter(is_open=True).order_by("pk")))[:50]
    )


def _fits(slot: Slot, people: list[Seeker]) -> bool:
    """Whether the session takes every person: their kind, and the age rule on its date."""
    return bool(people) and all(
        session_takes(slot, kind=p.kind, validity_years=p.validity_years, birth_date=p.birth_date, married=p.married)
        for p in people
    )


def _to_public_pool(*, slot: Slot, count: int) -> None:
    Slot.objects.filter(pk=slot.pk, held__gte=count).update(held=F("held") - count)
    mark_slots_changed(slot_ids=[slot.pk], freed=True)


def own_offer(*, offer_id: int, account) -> Offer:
    offer = (
        Offer.objects.select_related("waiting__office", "slot__office")
        .filter(pk=offer_id, waiting__account=account)
        .first()
    )
    if offer is None:
        raise OfferNotFound()
    return offer


def accept_offer(
    *,
    offer_id: int,
    account,
    now: dt.datetime | None = None,
    in_same_transaction: Callable[[list[Application]], None] | None = None,
) -> list[Application]:
    """Book every person of the household on the offer's session (awaiting payment), taking the
    held places, in one transaction with the offer's closing; or refuse (OfferExpired, a NIK
    that meanwhile got an application elsewhere) and change nothing. `in_same_transaction` as
    in booking."""
    now = now or timezone.now()
    offer = own_offer(offer_id=offer_id, account=account)
    if offer.status != Offer.Status.OPEN or offer.expires_at <= now:
        raise OfferExpired()
    waiting = offer.waiting
    people = [seeker.as_person_booking() for seeker in waiting.people.filter(is_open=True).order_by("pk")]

    def lock_the_list() -> None:
        # The office's row before the slot's (the claim): the order every change of the list
        # takes them in, so that the household's count below waits for no one holding the slot.
        lock_row("lock_office", Office, waiting.office_id)

    def close_offer(applications) -> None:
        # The offer's row, locked by this UPDATE after the slot's (the claim): still open, or nothing.
        accepted = Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN, expires_at__gt=now).update(
            status=Offer.Status.ACCEPTED, closed_at=now
        )
        if not accepted:
            raise OfferExpired()
        if Waiting.objects.filter(pk=waiting.pk, status=Waiting.Status.WAITING).update(
            status=Waiting.Status.BOOKED, closed_at=now
        ):
            count_household(waiting=waiting, by=-1, now=now)
        Seeker.objects.filter(waiting=waiting, is_open=True).update(is_open=False)
        if in_same_transaction is not None:
            in_same_transaction(applications)

    try:
        applications = book_applications(
            account=account,
            slot_id=offer.slot_id,
            people=people,
            language=waiting.language,
            now=now,
            held=True,
            in_same_transaction=close_offer,
            before_claim=lock_the_list,
        )
    except SlotFull as exc:
        # An open offer's places are always held: none left means it closed meanwhile.
        raise OfferExpired() from exc
    return applications


def decline_offer(*, offer_id: int, account, now: dt.datetime | None = None) -> Offer:
    """The household says no; it keeps its place on the list and the places pass on."""
    now = now or timezone.now()
    offer = own_offer(offer_id=offer_id, account=account)
    if not _close(offer=offer, status=Offer.Status.DECLINED, now=now):
        raise OfferExpired()
    pass_on_places(slot_id=offer.slot_id, now=now)
    offer.status = Offer.Status.DECLINED
    return offer


def leave_waiting_list(*, waiting_id: int, account, now: dt.datetime | None = None) -> Waiting:
    """The household leaves the list; an open offer it holds passes to the next household."""
    now = now or timezone.now()
    waiting = (
        Waiting.objects.select_related("office")
        .filter(pk=waiting_id, account=account, status=Waiting.Status.WAITING)
        .first()
    )
    if waiting is None:
        raise WaitingNotFound()
    offer = Offer.objects.filter(waiting=waiting, status=Offer.Status.OPEN).first()
    if offer is not None:
        _close(offer=offer, status=Offer.Status.DECLINED, now=now)
    with transaction.atomic(durable=True):
        lock_row("lock_office", Office, waiting.office_id)
        closed = Waiting.objects.filter(pk=waiting.pk, status=Waiting.Status.WAITING).update(
            status=Waiting.Status.WITHDRAWN, closed_at=now
        )
        if not closed:
            raise WaitingNotFound()
        Seeker.objects.filter(waiting=waiting, is_open=True).update(is_open=False)
        count_household(waiting=waiting, by=-1, now=now)
    if offer is not None:
        pass_on_places(slot_id=offer.slot_id, now=now)
    waiting.status = Waiting.Status.WITHDRAWN
    return waiting


def _close(*, offer: Offer, status: str, now: dt.datetime) -> bool:
    """Close an open offer (declined, lapsed, cancelled): the slot's row first, then the offer's.
    Whether it was still open."""
    with transaction.atomic(durable=True):
        Slot.objects.select_for_update(no_key=True).filter(pk=offer.slot_id).values_list("pk").first()
        still_open = Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN)
        if status == Offer.Status.LAPSED:
            still_open = still_open.filter(expires_at__lte=now)
        return bool(still_open.update(status=status, closed_at=now))


def cancel_offers_at(*, office_id: int, now: dt.datetime | None = None) -> int:
    """Cancel the office's open offers (an incident, the office switched off) and put their
    places back in the pool. Returns how many it cancelled."""
    now = now or timezone.now()
    cancelled = 0
    for offer in Offer.objects.filter(slot__office_id=office_id, status=Offer.Status.OPEN).order_by("pk"):
        with transaction.atomic(durable=True):
            slot = Slot.objects.select_for_update(no_key=True).select_related("office").get(pk=offer.slot_id)
            if Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN).update(
                status=Offer.Status.CANCELLED, closed_at=now
            ):
                _to_public_pool(slot=slot, count=offer.places)
                cancelled += 1
    return cancelled


def sweep_offers(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Every 15 s: lapse offers past their deadline and pass their places on; cancel offers at
    switched-off offices; offer held places that no open offer covers (a give-back whose task
    never ran); end waiting rows whose last date has passed; move the households that asked to come
    earlier into free places no give-back moved them into. Each step reads a partial index."""
    now = now or timezone.now()
    done = {"lapsed": 0, "cancelled": 0, "offered": 0, "ended": 0, "moved_earlier": 0}
    for offer in Offer.objects.filter(status=Offer.Status.OPEN, expires_at__lte=now).order_by("expires_at")[:500]:
        done["lapsed"] += _close(offer=offer, status=Offer.Status.LAPSED, now=now)
    closed_offices = (
        Offer.objects.filter(status=Offer.Status.OPEN, slot__office__is_active=False)
        .values_list("slot__office_id", flat=True)
        .distinct()
    )
    for office_id in list(closed_offices):
        done["cancelled"] += cancel_offers_at(office_id=office_id, now=now)
    uncovered = (
        Slot.objects.filter(held__gt=0)
        .annotate(offered=Coalesce(Sum("offers__places", filter=Q(offers__status=Offer.Status.OPEN)), 0))
        .filter(held__gt=F("offered"))
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )
    for slot_id in list(uncovered[:500]):
        done["offered"] += offer_held_places(slot_id=slot_id, now=now)
    done["ended"] = _end_past_waiting(now=now)
    done["moved_earlier"] = sweep_earlier(now=now)
    return done


def _end_past_waiting(*, now: dt.datetime) -> int:
    """Waiting rows whose last date is over (a day behind UTC covers every zone) leave the list.
    They wait for no session from today on, so no count changes."""
    past = Waiting.objects.filter(status=Waiting.Status.WAITING, date_to__lt=(now - dt.timedelta(days=1)).date())
    with transaction.atomic(durable=True):
        Seeker.objects.filter(waiting__in=past, is_open=True).update(is_open=False)
        return past.update(status=Waiting.Status.ENDED, closed_at=now)
