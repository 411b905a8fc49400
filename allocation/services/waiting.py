"""The waiting list: a household joins for an office and a date range (or, after a lost draw,
for the sessions its entry chose) and waits first come first served. Leaving passes an open
offer on, so it is in `offers`.

Every change keeps `Slot.waiting` (households waiting per online session) in step, in its own
transaction and under the office's row lock, so that quotas can decide in the statement that gives
a place back that it is held for the list rather than put in the public pool: a household joining
or leaving moves the count of its own sessions by one (`count_household`); the full recount
(`count_waiting_households`) is the nightly repair (docs/waiting-list.md)."""

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import check_bookings_allowed, check_not_restricted
from appointments.models import ACTIVE_STATUSES, Application
from appointments.services.booking import PersonBooking, refused_niks_counted
from mpaspor.db import in_callers_transaction, lock_row
from offices.models import Office
from offices.selectors import check_types_open
from quotas.models import Pool, Slot

from ..exceptions import OfficeClosedForWaiting, WaitingNotAllowed
from ..models import Entry, Seeker, Waiting
from ..people import add_seekers

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
        count_household(waiting=waiting, by=1, now=now)
        if in_same_transaction is not None:
            in_same_transaction([waiting])
    return waiting


@in_callers_transaction
def wait_after_lost_draw_batch(
    *, entries: Sequence[tuple[Entry, int]], office_id: int, drawn_at: dt.datetime
) -> list[int]:
    """Put lost draw entries of one release on the waiting list for the sessions each chose,
    behind everyone who joined before the draw and in draw order among its losers, `(entry,
    position)` each (position from 0), in the caller's transaction (the draw's, which marks them
    lost): a few statements for the whole batch, whatever its size. A draw has tens of thousands
    of losers; one transaction and one recount each took a third of a second per loser with
    14,000 of them, and more as the list grew.

    An entry with no online session left, or one of whose people holds an active application,
    does not wait, and its people leave the entry; returns those entries' ids. The people's data
    is not checked again: it passed the booking's checks when they entered, and an offer is
    booked through the booking path, which checks it then. Each chosen session's `Slot.waiting`
    grows by the households added for it, under the office's lock, which every change of the list
    takes: what `count_household` does for each household, in one UPDATE for the whole batch
    rather than one per household. The people only move from their entry to their waiting row: a
    NIK open elsewhere cannot be (`one_open_seeker_per_nik`)."""
    choices = {slot_id for entry, _position in entries for slot_id in entry.choices}
    slots = Slot.objects.filter(pk__in=choices, pool=Pool.ONLINE, office_id=office_id).in_bulk()
    lock_row("lock_office", Office, office_id)
    booked = Application.objects.filter(nik=OuterRef("nik"), status__in=ACTIVE_STATUSES)
    people = list(
        Seeker.objects.filter(entry_id__in=[entry.pk for entry, _position in entries], is_open=True)
        .annotate(booked=Exists(booked))
        .values_list("pk", "entry_id", "booked")
    )
    refused = {entry_id for _pk, entry_id, is_booked in people if is_booked}
    rows = []
    for entry, position in entries:
        chosen = sorted((slots[pk] for pk in entry.choices if pk in slots), key=lambda slot: slot.date)
        if not chosen or entry.pk in refused:
            refused.add(entry.pk)
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
        rows.append((waiting, chosen))
    # Closed first: the same NIKs open again below, on the waiting rows (one open row per NIK).
    Seeker.objects.filter(pk__in=[pk for pk, _entry_id, _booked in people]).update(is_open=False)
    Waiting.objects.bulk_create([waiting for waiting, _chosen in rows])
    _add_sessions([(waiting.pk, slot.pk) for waiting, chosen in rows for slot in chosen])
    _copy_people(
        seeker_ids=[pk for pk, entry_id, _booked in people if entry_id not in refused],
        waiting_ids=[waiting.pk for waiting, _chosen in rows],
    )
    added = Counter(slot.pk for _waiting, chosen in rows for slot in chosen)
    if added:
        raised = Case(*(When(pk=pk, then=Value(n)) for pk, n in added.items()), output_field=IntegerField())
        Slot.objects.filter(pk__in=added).update(waiting=F("waiting") + raised)
    return sorted(refused)


def _add_sessions(pairs: list[tuple[int, int]]) -> None:
    """The waiting rows' sessions, `(waiting id, slot id)` each, as multi-row INSERTs of their
    two ids: three per loser, where a model instance each cost more than the database's insert."""
    through = Waiting.slots.through
    quote = connection.ops.quote_name
    columns = [through._meta.get_field(name).column for name in ("waiting", "slot")]
    size = connection.ops.bulk_batch_size(columns, pairs) or 1
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), size):
            chunk = pairs[start : start + size]
            cursor.execute(
                f"INSERT INTO {quote(through._meta.db_table)} ({', '.join(map(quote, columns))})"
                f" VALUES {', '.join(['(%s, %s)'] * len(chunk))}",
                [value for pair in chunk for value in pair],
            )


def _copy_people(*, seeker_ids: list[int], waiting_ids: list[int]) -> None:
    """Each of these (closed) entry people, open again on the waiting row of their entry, in
    one INSERT ... SELECT: what `Seeker.of(seeker.as_person_booking(), waiting=waiting)` makes,
    without reading the rows into Python and sending them back."""
    if not seeker_ids:
        return
    quote = connection.ops.quote_name
    person = [quote(Seeker._meta.get_field(name).column) for name in Seeker.PERSON_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Seeker._meta.db_table)} (waiting_id, is_open, {', '.join(person)})"
            f" SELECT w.id, %s, {', '.join(f's.{column}' for column in person)}"
            f" FROM {quote(Seeker._meta.db_table)} s JOIN {quote(Waiting._meta.db_table)} w ON w.entry_id = s.entry_id"
            f" WHERE s.id IN ({', '.join(['%s'] * len(seeker_ids))})"
            f" AND w.id IN ({', '.join(['%s'] * len(waiting_ids))})"
            " ORDER BY w.id, s.id",
            [True, *seeker_ids, *waiting_ids],
        )


@in_callers_transaction
def count_household(*, waiting: Waiting, by: int, now: dt.datetime) -> int:
    """Add `by` (1 as the household starts waiting, -1 as it stops) to `Slot.waiting` of each
    session it waits for from today on, in one UPDATE: the office's online sessions in its date
    range, or a lost entry's chosen ones (the sessions `count_waiting_households` counts it for),
    whatever the length of the list. The caller holds the office's row lock and changes the
    household's row in the same transaction. Returns how many sessions changed."""
    today = now.astimezone(waiting.office.tzinfo).date()
    sessions = Slot.objects.filter(
        office_id=waiting.office_id,
        pool=Pool.ONLINE,
        date__gte=max(today, waiting.date_from),
        date__lte=waiting.date_to,
    )
    if waiting.entry_id is not None:
        sessions = sessions.filter(pk__in=Waiting.slots.through.objects.filter(waiting_id=waiting.pk).values("slot_id"))
    # Never below 0: a session created after the household joined has not counted it yet (the
    # nightly recount does); its leaving must not fail on the column's check for that.
    return sessions.update(waiting=Greatest(F("waiting") + by, 0))


def recount_waiting_lists(*, now: dt.datetime | None = None) -> int:
    """The nightly repair: every office's counts recounted (`count_waiting_households`), each in
    a transaction of its own under the office's lock. It gives sessions created since a household
    joined (the slots generated for the horizon at night) the households already waiting for them.
    Returns how many sessions it corrected."""
    now = now or timezone.now()
    corrected = 0
    for office_id in Office.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            lock_row("lock_office", Office, office_id)
            corrected += count_waiting_households(office_id=office_id, now=now)
    return corrected


@in_callers_transaction
def count_waiting_households(*, office_id: int, now: dt.datetime) -> int:
    """Set `Slot.waiting` of the office's online sessions from today on to the households that
    wait for each; only rows whose count changed are written. The repair of the counts that
    `count_household` keeps (seconds with tens of thousands waiting: never on a household's
    path). The caller holds the office's row lock, so no change of the list runs meanwhile.
    Returns how many sessions changed."""
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
