"""The waiting list: a household joins for an office and a date range (or, after a lost draw,
for the sessions its entry chose) and waits first come first served. Leaving passes an open
offer on, so it is in `offers`.

Every change keeps `Slot.waiting` (households waiting per online session) in step, under the
office's row lock, so that quotas can decide in the statement that gives a place back that it is
held for the list rather than put in the public pool (docs/waiting-list.md)."""

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import check_bookings_allowed, check_not_restricted
from appointments.models import ACTIVE_STATUSES, Application
from appointments.services.booking import PersonBooking, check_people
from mpaspor.db import in_callers_transaction, lock_row
from mpaspor.errors import DomainError
from offices.models import Office
from offices.selectors import check_types_open
from quotas.models import Pool, Slot

from ..exceptions import OfficeClosedForWaiting, WaitingNotAllowed
from ..models import Entry, Seeker, Waiting
from ..people import add_seekers, refused_niks_counted

# How far ahead a household may wait: the longest booking horizon of any release schedule.
MAX_WAITING_DAYS = 120


def join_waiting_list(
    *,
    account,
    office_id: int,
    date_from: dt.date,
    date_to: dt.date,
    people: Sequence[PersonBooking],
    language: str = "id",
    now: dt.datetime | None = None,
    in_same_transaction: Callable[[list[Waiting]], None] | None = None,
) -> Waiting:
    """Put a household of 1 to 5 people on an office's waiting list for a range of dates; or
    refuse (dates in the past or too far, a switched-off office, a NIK booked or already
    waiting) and change nothing. `in_same_transaction` is called with the new row inside the
    transaction (the API's idempotency key)."""
    now = now or timezone.now()
    check_not_restricted(account=account, now=now)
    check_bookings_allowed(account=account, now=now)  # an account paused for probing NIKs probes here neither
    office = Office.objects.filter(pk=office_id).first()
    if office is None or not office.is_active:
        raise OfficeClosedForWaiting()
    _check_range(office=office, date_from=date_from, date_to=date_to, now=now)
    # A type closed on the first day is closed on every later one (its books run out from a day):
    # nothing in the range could be offered. A type that closes within the range may still wait.
    check_types_open(office=office, passport_types=[p.passport_type for p in people], on=date_from)
    with refused_niks_counted(account=account, people=people, now=now), transaction.atomic(durable=True):
        lock_row("lock_office", Office, office.pk)
        waiting = Waiting(
            office=office, account=account, date_from=date_from, date_to=date_to, language=language, joined_at=now
        )
        add_seekers(people=people, waiting=waiting)
        count_waiting_households(office_id=office.pk, now=now)
        if in_same_transaction is not None:
            in_same_transaction([waiting])
    return waiting


def wait_after_lost_draw(*, entry: Entry, slot_ids: Sequence[int], position: int, drawn_at: dt.datetime) -> Waiting:
    """Add a lost draw entry's household to the waiting list for the sessions it chose, behind
    everyone who joined before the draw and in draw order among its losers (`position`, from 0).
    Its people leave the entry (no longer open there) and wait instead."""
    slots = list(Slot.objects.filter(pk__in=slot_ids, pool=Pool.ONLINE).order_by("date"))
    if not slots:
        raise WaitingNotAllowed(_("The entry chose no session to wait for."))
    office_id = slots[0].office_id
    with transaction.atomic(durable=True):
        lock_row("lock_office", Office, office_id)
        people = [seeker.as_person_booking() for seeker in entry.people.filter(is_open=True)]
        entry.people.filter(is_open=True).update(is_open=False)
        waiting = Waiting(
            office_id=office_id,
            account_id=entry.account_id,
            entry=entry,
            joined_at=drawn_at,
            rank=position,
            date_from=slots[0].date,
            date_to=slots[-1].date,
        )
        add_seekers(people=people, waiting=waiting)
        waiting.slots.set(slots)
        count_waiting_households(office_id=office_id, now=drawn_at)
    return waiting


def wait_after_lost_draw_batch(
    *, entries: Sequence[tuple[Entry, int]], office_id: int, drawn_at: dt.datetime
) -> list[int]:
    """`wait_after_lost_draw` for many lost entries of one release at once, `(entry, position)`
    each: one transaction, a few statements for the whole batch (a draw has tens of thousands of
    losers; one transaction and one recount each took a third of a second per loser with 14,000
    of them, and more as the list grew).

    The same checks, made in bulk: each household's people pass the booking's checks and none
    holds an active application; an entry with no online session left, or whose people fail
    them, does not wait and its people leave the entry. Returns those entries' ids. Each chosen
    session's `Slot.waiting` grows by the households added for it in the same transaction, under
    the office's lock, which every change of the list takes: the count stays what
    `count_waiting_households` would find, without its recount of every session. The people only move
    from their entry to their waiting row: a NIK open elsewhere cannot be (`one_open_seeker_per_nik`)."""
    choices = {slot_id for entry, _position in entries for slot_id in entry.choices}
    slots = Slot.objects.filter(pk__in=choices, pool=Pool.ONLINE, office_id=office_id).in_bulk()
    entry_ids = [entry.pk for entry, _position in entries]
    with transaction.atomic(durable=True):
        lock_row("lock_office", Office, office_id)
        seekers: dict[int, list[Seeker]] = {entry_id: [] for entry_id in entry_ids}
        for seeker in Seeker.objects.filter(entry_id__in=entry_ids, is_open=True).order_by("pk"):
            seekers[seeker.entry_id].append(seeker)
        people = {entry_id: [seeker.as_person_booking() for seeker in rows] for entry_id, rows in seekers.items()}
        niks = [person.applicant.nik for household in people.values() for person in household]
        booked = set(Application.objects.filter(nik__in=niks, status__in=ACTIVE_STATUSES).values_list("nik", flat=True))
        refused, rows = [], []
        for entry, position in entries:
            chosen = sorted((slots[pk] for pk in entry.choices if pk in slots), key=lambda slot: slot.date)
            household = people[entry.pk]
            try:
                if not chosen:
                    raise WaitingNotAllowed(_("The entry chose no session to wait for."))
                check_people(household)
            except DomainError:
                refused.append(entry.pk)
                continue
            if booked.intersection(person.applicant.nik for person in household):
                refused.append(entry.pk)
                continue
            waiting = Waiting(
                office_id=office_id,
                account_id=entry.account_id,
                entry=entry,
                joined_at=drawn_at,
                rank=position,
                date_from=chosen[0].date,
                date_to=chosen[-1].date,
            )
            rows.append((waiting, chosen, seekers[entry.pk]))
        # Closed first: the same NIKs open again below, on the waiting rows (one open row per NIK).
        Seeker.objects.filter(entry_id__in=entry_ids, is_open=True).update(is_open=False)
        Waiting.objects.bulk_create([waiting for waiting, _chosen, _household in rows])
        Waiting.slots.through.objects.bulk_create(
            Waiting.slots.through(waiting_id=waiting.pk, slot_id=slot.pk)
            for waiting, chosen, _household in rows
            for slot in chosen
        )
        # Each person as `Seeker.of(seeker.as_person_booking(), waiting=waiting)` would make them.
        Seeker.objects.bulk_create(
            Seeker(**{name: getattr(seeker, name) for name in Seeker.PERSON_FIELDS}, waiting=waiting)
            for waiting, _chosen, household in rows
            for seeker in household
        )
        added = Counter(slot.pk for _waiting, chosen, _household in rows for slot in chosen)
        for slot_id, households in added.items():
            Slot.objects.filter(pk=slot_id).update(waiting=F("waiting") + households)
    return refused


@in_callers_transaction
def count_waiting_households(*, office_id: int, now: dt.datetime) -> int:
    """Set `Slot.waiting` of the office's online sessions from today on to the households that
    wait for each; only rows whose count changed are written. The caller holds the office's row
    lock, so two changes of one office's list count one after the other. Returns how many
    sessions changed."""
    today = now.astimezone(Office.objects.get(pk=office_id).tzinfo).date()
    waiting_for_slot = (
        Waiting.objects.filter(
            office_id=OuterRef("office_id"),
            status=Waiting.Status.WAITING,
            date_from__lte=OuterRef("date"),
            date_to__gte=OuterRef("date"),
        )
        .filter(Q(entry__isnull=True) | Q(slots=OuterRef("pk")))
        .order_by()
        .values("office_id")
        .annotate(n=Count("pk", distinct=True))
        .values("n")
    )
    households = Coalesce(Subquery(waiting_for_slot), 0)
    changed = list(
        Slot.objects.filter(office_id=office_id, pool=Pool.ONLINE, date__gte=today)
        .annotate(households=households)
        .exclude(waiting=F("households"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if changed:
        Slot.objects.filter(pk__in=changed).update(waiting=households)
    return len(changed)


def _check_range(*, office: Office, date_from: dt.date, date_to: dt.date, now: dt.datetime) -> None:
    today = now.astimezone(office.tzinfo).date()
    if date_from < today:
        raise WaitingNotAllowed(_("Choose dates from today on."), field="date_from")
    if date_to < date_from:
        raise WaitingNotAllowed(_("The last date comes before the first."), field="date_to")
    if date_to > today + dt.timedelta(days=MAX_WAITING_DAYS):
        raise WaitingNotAllowed(
            _("You can wait for dates up to %(days)s days ahead.") % {"days": MAX_WAITING_DAYS}, field="date_to"
        )


def households_ahead(waiting: Waiting) -> int:
    """How many households of the same office wait before this one."""
    return (
        Waiting.objects.filter(office_id=waiting.office_id, status=Waiting.Status.WAITING)
        .filter(
            Q(joined_at__lt=waiting.joined_at)
            | Q(joined_at=waiting.joined_at, rank__lt=waiting.rank)
            | Q(joined_at=waiting.joined_at, rank=waiting.rank, pk__lt=waiting.pk)
        )
        .count()
    )
