"""Booking: 1 to 5 people on one online session, all or nothing, each awaiting payment.

The way of a booking from request to SQL is in docs/architecture.md ("The hot path"): checks
that read one row each, then the claim and every insert in one statement."""

import contextlib
import datetime as dt
import functools
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import check_bookings_allowed, check_not_restricted, record_refused_niks
from mpaspor.db import fetch, fetch_row, in_callers_transaction, lock_row, select_columns, violates
from mpaspor.errors import DomainError
from mpaspor.metrics import count_booking
from offices.models import Office, PassportStock
from offices.selectors import passport_type_refusal
from quotas.availability_cache import remember_sold_out, slot_marks_gathered
from quotas.exceptions import NotOpenYet, OfficeClosed, SlotFull, SlotInPast, SlotNotFound, WalkInOnly
from quotas.models import Pool, Slot
from quotas.services.claims import claim_places

from ..exceptions import DuplicateApplication, InvalidInput, KindNotAccepted, TooManyApplicants
from ..models import (
    ACTIVE_STATUSES,
    FULL_VALIDITY_AGE,
    NIK_CONSTRAINT,
    ONLINE_KINDS,
    Applicant,
    Application,
    ApplicationEvent,
    PassportType,
    Status,
    age_on,
)
from ..outbox import outbox_rows
from ..selectors import charges, fine_item
from .lifecycle import after_expiring_overdue_holds
from .people import ApplicantData, check_applicant
from .stock import after_booking

BOOKING_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter


def new_booking_code() -> str:
    return "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(10))


def new_billing_code() -> str:
    # SIMPONI billing codes are 15 digits; the first is never 0 so it survives spreadsheets.
    return str(secrets.randbelow(9 * 10**14) + 10**14)


@dataclass(frozen=True)
class PersonBooking:
    """One person of a booking: who, and the passport asked for. `person_id` is the account's
    listed person (Applicant) it is for, linked only when it is the account's with this NIK."""

    applicant: ApplicantData
    passport_type: str
    validity_years: int
    kind: str
    express: bool = False
    person_id: int | None = None


def check_passport_choice(*, passport_type, validity_years, express) -> None:
    if passport_type not in PassportType.values:
        raise InvalidInput(_("Choose a passport type."), field="passport_type")
    if isinstance(validity_years, bool) or validity_years not in (5, 10):
        raise InvalidInput(_("Validity is 5 or 10 years."), field="validity_years")
    if not isinstance(express, bool):
        raise InvalidInput(_("Choose regular or same-day service."), field="express")


def check_validity(*, validity_years: int, birth_date: dt.date, on: dt.date, married: bool) -> None:
    """Unmarried applicants under 17 on the day get only the 5-year passport; a married minor may
    choose 10 years (declared by the applicant, checked at the counter against the marriage book)."""
    if validity_years == 10 and age_on(birth_date, on) < FULL_VALIDITY_AGE and not married:
        raise InvalidInput(_("Unmarried applicants under 17 can only get a 5-year passport."), field="validity_years")


# Every booking that finds a place counts the account's other people: written out and prepared.
@functools.cache
def _other_people_sql(niks: int) -> str:
    return (
        f"SELECT COUNT(DISTINCT nik) FROM {Application._meta.db_table}"
        f" WHERE account_id = %s AND nik NOT IN ({', '.join(['%s'] * niks)})"
        f" AND status IN ({', '.join(['%s'] * len(ACTIVE_STATUSES))})"
    )


@in_callers_transaction
def check_account_capacity(*, account, niks: Sequence[str]) -> None:
    """At most MAX_APPLICANTS_PER_ACCOUNT people with active applications per account. Run it
    in the booking's transaction after `lock_row` of the account, which two bookings of one
    account would otherwise both pass with the same count.

    Counts as Application.objects.filter(account=account, status__in=ACTIVE_STATUSES)
    .exclude(nik__in=niks).values("nik").distinct().count()."""
    limit = settings.MAX_APPLICANTS_PER_ACCOUNT
    sql = _other_people_sql(len(niks))
    ((others,),) = fetch(f"other_people_{len(niks)}", sql, [account.pk, *niks, *ACTIVE_STATUSES])
    if others + len(niks) > limit:
        raise TooManyApplicants(limit=limit)


STOCK_CLOSED = 2


@functools.cache
def _bookable_slot_sql() -> str:
    # The earliest deadline of the slot's unpaid holds, compared with now: a read of one entry of
    # the partial index pending_holds_by_slot, also in the prepared statement's generic plan
    # (which an EXISTS with the status as a parameter did not use).
    # Then the stock of the booking's passport types on the slot's date, from the entries of the
    # unique (office, type) index: NULL when the office keeps no stock of them, 2 when one is
    # closed, else 1. The stored outlook, read without a lock (docs/book-stock.md).
    return (
        f"SELECT {select_columns(Slot, 's')}, {select_columns(Office, 'o')},"
        f" (SELECT min(a.payment_due_at) FROM {Application._meta.db_table} a"
        f"  WHERE a.slot_id = s.id AND a.status = '{Status.PENDING_PAYMENT}') < %s,"
        " (SELECT max(CASE WHEN NOT ps.issued OR ps.closed_from <= s.date THEN 2 ELSE 1 END)"
        f"  FROM {PassportStock._meta.db_table} ps"
        "  WHERE ps.office_id = s.office_id AND ps.passport_type IN (%s, %s))"
        f" FROM {Slot._meta.db_table} s JOIN {Office._meta.db_table} o ON o.id = s.office_id"
        " WHERE s.id = %s"
    )


def bookable_slot_or_refusal(*, slot_id: int, now: dt.datetime, passport_types: Sequence[str] = ()) -> Slot:
    """The online slot of an active office, with its office and whether it holds overdue unpaid
    holds (`has_overdue_holds`), in one query; or SlotNotFound / WalkInOnly / SlotInPast, or
    PassportTypeUnavailable when the office does not issue one of `passport_types` or its books
    are booked out from the slot's date.

    Every attempt of a release burst runs this, most of them to be refused from its row, so it
    is written out (mpaspor/db.py). Same row as Slot.objects.select_related("office")
    .annotate(has_overdue_holds=Exists(<pending payment, due before now>), stock=Subquery(
    <the office's PassportStock rows of passport_types: 2 if not issued or closed_from <= date,
    else 1; their max>)).filter(pk=slot_id), whose pool is then checked: a walk-in session says so
    rather than "not found". `slot.keeps_stock` tells whether the office keeps stock of the types."""
    if not isinstance(slot_id, int) or isinstance(slot_id, bool) or not 0 < slot_id < 2**63:
        raise SlotNotFound()
    types = sorted(set(passport_types)) or [""]
    params = [now, types[0], types[-1], slot_id]
    row = fetch_row("bookable_slot", _bookable_slot_sql(), params, (Slot, Office))
    if row is None:
        raise SlotNotFound()
    slot, slot.office, has_overdue_holds, stock = row
    if not slot.office.is_active or slot.pool not in (Pool.ONLINE, Pool.WALK_IN):
        raise SlotNotFound()
    if slot.pool == Pool.WALK_IN or slot.walk_in_by_id:  # a walk-in session, or a day served by walk-in
        raise WalkInOnly()
    if slot.closed_by_id:
        raise OfficeClosed()
    slot.has_overdue_holds = bool(has_overdue_holds)  # NULL (no holds) or 0/1 on SQLite
    if slot.starts_at <= now:
        raise SlotInPast()
    if stock == STOCK_CLOSED:  # the refusal's reason is read only now, off the bookings that pass
        raise passport_type_refusal(office=slot.office, passport_types=types, on=slot.date)
    slot.keeps_stock = stock is not None
    return slot


def new_application(
    *,
    slot: Slot,
    applicant: ApplicantData,
    passport_type: str,
    validity_years: int,
    kind: str,
    express: bool,
    status: str,
    force_majeure: bool = False,
    fee_rule: Callable[..., dict[str, int]] = charges,
    **fields,
) -> Application:
    """An unsaved application with fresh booking and billing codes, its fee and any fine (a lost
    or damaged passport's, at the counter)."""
    fees = fee_rule(
        passport_type=passport_type,
        validity_years=validity_years,
        express=express,
        on=slot.date,
        kind=kind,
        force_majeure=force_majeure,
    )
    return Application(
        booking_code=new_booking_code(),
        billing_code=new_billing_code(),
        **applicant.as_fields(),
        passport_type=passport_type,
        validity_years=validity_years,
        kind=kind,
        express=express,
        slot=slot,
        status=status,
        amount=sum(fees.values()),
        fine=fees.get(fine_item(kind=kind, force_majeure=force_majeure), 0),
        force_majeure=force_majeure,
        **fields,
    )


def book_applications(
    *,
    account,
    slot_id: int,
    people: Sequence[PersonBooking],
    language: str = "id",
    now: dt.datetime | None = None,
    in_same_transaction: Callable[[list[Application]], None] | None = None,
    drawn: bool = False,
    held: bool = False,
    before_claim: Callable[[], None] | None = None,
) -> list[Application]:
    """Claim a place for each person and create their applications awaiting payment, all or
    nothing; or raise and store nothing. A single booking is a list of one.

    `in_same_transaction` is called with the applications once they are inserted, inside the
    booking's transaction: what must commit with them or not at all (the API's idempotency key,
    a draw's entry marked won). `drawn`: a release's draw gave these places, before the slot's
    public opening. How long the holds may stay unpaid: `payment_window`.
    `held=True` books places held for the waiting list (an offer's) instead of public ones;
    `in_same_transaction` then checks that the offer is still open. `before_claim` is called
    first in the transaction, before any lock the booking takes: a lock the caller's part
    needs and that others take before the slot's (the waiting list's office)."""
    now = now or timezone.now()
    _check_account_and_people(account=account, people=people, language=language, now=now)
    slot = bookable_slot_or_refusal(slot_id=slot_id, now=now, passport_types=[p.passport_type for p in people])
    groups = _checked_groups(
        account=account, slot=slot, people=people, language=language, now=now, drawn=drawn, held=held, fee_rule=charges
    )
    claim = functools.partial(
        _claim_and_insert,
        account=account,
        slot_id=slot.pk,
        groups=groups,
        now=now,
        in_same_transaction=in_same_transaction,
        drawn=drawn,
        held=held,
        before_claim=before_claim,
    )
    with refused_niks_counted(account=account, people=people, now=now):
        after_expiring_overdue_holds(claim, slot_id=slot.pk, now=now)
    applications = [application for application, _rows in groups]
    count_booking(people=len(applications))  # committed: the claim's transaction is durable
    if slot.keeps_stock:
        after_booking(office_id=slot.office_id, passport_types={p.passport_type for p in people}, now=now)
    return applications


def _checked_groups(
    *,
    account,
    slot: Slot,
    people: Sequence[PersonBooking],
    language: str,
    now: dt.datetime,
    drawn: bool,
    held: bool,
    fee_rule: Callable[..., dict[str, int]],
) -> list:
    """The slot's checks of a booking whose account and people passed theirs, then its unsaved
    applications, each with its event and outbox rows, for `_claim_and_insert`. `fee_rule`
    is `charges`, or a batch's memo of it."""
    _check_slot_takes(slot=slot, people=people, now=now, drawn=drawn, held=held)
    pay_within = payment_window(slot=slot, now=now, drawn=drawn, held=held)
    listed = _listed_people(account=account, people=people)
    applications = [
        new_application(
            slot=slot,
            applicant=p.applicant,
            passport_type=p.passport_type,
            validity_years=p.validity_years,
            kind=p.kind,
            express=p.express,
            status=Status.PENDING_PAYMENT,
            account=account,
            applicant_id=p.person_id if p.person_id in listed else None,
            language=language,
            payment_due_at=now + pay_within,
            fee_rule=fee_rule,
        )
        for p in people
    ]
    # Each application's event records its creation (the hot path writes no history row). The
    # outbox rows are the e-mail copy of the codes this answer shows: nothing publishes them, the
    # outbox sweep sends them once BOOKING_MESSAGE_DELAY_SECONDS have passed, after the rush.
    email = getattr(account, "email", "") or ""
    groups = [
        (
            application,
            [
                ApplicationEvent(application=application, to_status=Status.PENDING_PAYMENT, actor=account),
                *outbox_rows(application=application, template="booking_made", email=email),
            ],
        )
        for application in applications
    ]
    for application in applications:
        application.skip_history_when_saving = True  # the event records the creation
    return groups


def payment_window(*, slot: Slot, now: dt.datetime, drawn: bool = False, held: bool = False) -> dt.timedelta:
    """How long a new hold may stay unpaid: DRAW_PAYMENT_HOURS for a draw's winners (a draw may
    close at night); RUSH_PAYMENT_MINUTES for a hold made in the release rush, the first
    RELEASE_RUSH_MINUTES after the session's places opened, where a two-hour hold is what a
    broker's fresh accounts keep places with while the applicants of the rush go elsewhere
    (docs/hoarding.md); PAYMENT_WINDOW_MINUTES otherwise, an offer's places included."""
    if drawn:
        return dt.timedelta(hours=settings.DRAW_PAYMENT_HOURS)
    window = dt.timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES)
    if not held and now < slot.opens_at + dt.timedelta(minutes=settings.RELEASE_RUSH_MINUTES):
        return min(window, dt.timedelta(minutes=settings.RUSH_PAYMENT_MINUTES))
    return window


def _check_account_and_people(*, account, people: Sequence[PersonBooking], language: str, now: dt.datetime) -> None:
    """A booking's first checks, before its slot is read: the account may book, the people too."""
    check_not_restricted(account=account, now=now)
    check_bookings_allowed(account=account, now=now)
    check_people(people, language=language)


def check_people(people: Sequence[PersonBooking], *, language: str = "id") -> None:
    """What no online slot could accept: 1 to 5 people with distinct NIKs, each with valid data,
    passport choice and an online kind."""
    if not 1 <= len(people) <= settings.MAX_APPLICANTS_PER_ACCOUNT:
        raise InvalidInput(_("Book for 1 to %(max)s people at once.") % {"max": settings.MAX_APPLICANTS_PER_ACCOUNT})
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Choose a language."), field="language")
    for person in people:
        check_passport_choice(
            passport_type=person.passport_type, validity_years=person.validity_years, express=person.express
        )
        if not isinstance(person.kind, str):
            raise InvalidInput(_("Choose the kind of application."), field="application_kind")
        check_applicant(person.applicant)
        if person.kind not in ONLINE_KINDS:
            raise InvalidInput(
                _("Lost, damaged and data-change applications are handled at the office, not online."),
                field="application_kind",
            )
    if len({p.applicant.nik for p in people}) < len(people):
        raise InvalidInput(_("Each person of a booking needs their own NIK."), field="nik")


def session_takes(slot: Slot, *, kind: str, validity_years: int, birth_date: dt.date, married: bool) -> bool:
    """Whether the session takes a person: their kind, and the age rule on its date. For places
    handed to people already known (an offer, a move earlier), who are passed over, not refused."""
    if not slot.accepts(kind):
        return False
    try:
        check_validity(validity_years=validity_years, birth_date=birth_date, on=slot.date, married=married)
    except InvalidInput:
        return False
    return True


def _check_slot_takes(
    *, slot: Slot, people: Sequence[PersonBooking], now: dt.datetime, drawn: bool = False, held: bool = False
) -> None:
    """What this slot refuses, cheapest first: the age rule on its date, its kinds, its opening
    and its places left."""
    for person in people:
        check_validity(
            validity_years=person.validity_years,
            birth_date=person.applicant.birth_date,
            on=slot.date,
            married=person.applicant.married,
        )
        if not slot.accepts(person.kind):
            raise KindNotAccepted()
    if slot.opens_at > now and not drawn:
        raise NotOpenYet()
    if held:
        return  # the offer's places, which the claim takes from `held`
    if slot.capacity - slot.taken - slot.held < len(people) and not slot.has_overdue_holds:
        # Too few places, read from the row in this request (never from a cache): refuse before
        # the account, fee and claim queries. Most requests of a release burst end here. A place
        # given back after this read is found by the next attempt; the claim still decides.
        if slot.capacity <= slot.taken + slot.held:
            remember_sold_out(slot_id=slot.pk)
        raise SlotFull()


def _listed_people(*, account, people: Sequence[PersonBooking]) -> set[int]:
    """The people's `person_id`s that are the account's listed persons with the same NIK."""
    wanted = {p.person_id: p.applicant.nik for p in people if p.person_id is not None}
    if not wanted:
        return set()
    rows = Applicant.objects.filter(pk__in=wanted, account=account).values_list("pk", "nik")
    return {pk for pk, nik in rows if wanted[pk] == nik}


def _claim_and_insert(**booking) -> None:
    """`_claim_and_insert_here(**booking)` in a transaction of its own."""
    with _duplicate_refused(), transaction.atomic(durable=True):
        _claim_and_insert_here(**booking)


@in_callers_transaction
def _claim_and_insert_here(
    *,
    account,
    slot_id: int,
    groups: list,
    now: dt.datetime,
    in_same_transaction=None,
    drawn: bool = False,
    held: bool = False,
    before_claim=None,
) -> None:
    """The account's lock and count, then the claim with every insert, then what must commit with
    them. The slot's row is locked last (by the claim), so the account's lock adds no wait on it;
    and it serialises only the bookings of one account."""
    if before_claim is not None:
        before_claim()
    lock_row("lock_account", get_user_model(), account.pk)
    check_account_capacity(account=account, niks=[application.nik for application, _rows in groups])
    claim_places(
        slot_id=slot_id,
        count=len(groups),
        express=sum(application.express for application, _rows in groups),
        now=now,
        then_insert=groups,
        drawn=drawn,
        held=held,
    )
    if in_same_transaction is not None:
        in_same_transaction([application for application, _rows in groups])


@contextlib.contextmanager
def _duplicate_refused():
    """Only the partial unique index on active NIKs is a duplicate (DuplicateApplication, the
    applicant's refusal); any other violation is a fault, not the applicant's. The claim is rolled
    back with it either way."""
    try:
        yield
    except IntegrityError as exc:
        if not violates(exc, Application, NIK_CONSTRAINT):
            raise
        raise DuplicateApplication() from exc


# --- A draw's winners, many bookings to one commit ---------------------------------------------


@dataclass(frozen=True)
class DrawnBooking:
    """One winning entry of a draw to book: the arguments of book_applications(drawn=True)."""

    account: object
    slot_id: int
    people: Sequence[PersonBooking]
    in_same_transaction: Callable[[list[Application]], None] | None = None


def book_drawn(*, bookings: Sequence[DrawnBooking], now: dt.datetime) -> list[list[Application] | DomainError]:
    """Book a batch of a draw's winners in one transaction: for each, what
    book_applications(drawn=True) does (the same checks, the same claim and inserts, its
    `in_same_transaction`), inside a savepoint of its own, so that a refusal keeps nothing of that
    booking and leaves the others. Returns, in order, each booking's applications or its refusal.

    One commit per batch instead of one per winner (a draw books thousands at once; the commits'
    flushes were most of its time), and each slot and fee read once per batch. A refusal that
    book_applications would have retried after expiring the slot's overdue holds (SlotFull) is
    returned like any other: the caller retries it through book_applications, outside this
    transaction. An exception that is not a refusal rolls the whole batch back."""
    results: list = [None] * len(bookings)
    slots: dict[tuple, Slot | DomainError] = {}
    fee_rule = functools.cache(charges)
    with transaction.atomic(durable=True), slot_marks_gathered():
        for i, booking in enumerate(bookings):
            try:
                with transaction.atomic():
                    results[i] = _book_drawn_here(booking=booking, slots=slots, fee_rule=fee_rule, now=now)
            except DomainError as refusal:
                results[i] = refusal
    stocked: dict[int, set[str]] = {}
    for booking, result in zip(bookings, results, strict=True):
        if isinstance(result, DuplicateApplication):
            count_refused_niks(account=booking.account, niks=[p.applicant.nik for p in booking.people], now=now)
        elif not isinstance(result, DomainError):
            count_booking(people=len(result))
            if result and result[0].slot.keeps_stock:
                stocked.setdefault(result[0].slot.office_id, set()).update(a.passport_type for a in result)
    for office_id, passport_types in stocked.items():
        after_booking(office_id=office_id, passport_types=passport_types, now=now)
    return results


def _book_drawn_here(*, booking: DrawnBooking, slots: dict, fee_rule, now: dt.datetime) -> list[Application]:
    """One booking of `book_drawn`, in its savepoint: book_applications' checks in its order, the
    slot read once per batch (`slots`, whose `taken` counts this batch's claims), then the claim."""
    _check_account_and_people(account=booking.account, people=booking.people, language="id", now=now)
    # One read per slot and set of passport types: the types' stock decides with the slot.
    key = (booking.slot_id, frozenset(p.passport_type for p in booking.people))
    if key not in slots:
        try:
            slots[key] = bookable_slot_or_refusal(slot_id=booking.slot_id, now=now, passport_types=sorted(key[1]))
        except DomainError as refusal:
            slots[key] = refusal
    slot = slots[key]
    if isinstance(slot, DomainError):
        raise slot
    groups = _checked_groups(
        account=booking.account,
        slot=slot,
        people=booking.people,
        language="id",
        now=now,
        drawn=True,
        held=False,
        fee_rule=fee_rule,
    )
    with _duplicate_refused():
        _claim_and_insert_here(
            account=booking.account,
            slot_id=slot.pk,
            groups=groups,
            now=now,
            in_same_transaction=booking.in_same_transaction,
            drawn=True,
        )
    slot.taken += len(groups)
    return [application for application, _rows in groups]


@contextlib.contextmanager
def refused_niks_counted(*, account, people: Sequence[PersonBooking], now: dt.datetime):
    """Around a booking, an entry or a join: a NIK refused because someone else's application
    holds it counts against the account (probing, decisions.md 14)."""
    try:
        yield
    except DuplicateApplication:
        count_refused_niks(account=account, niks=[p.applicant.nik for p in people], now=now)
        raise


def count_refused_niks(*, account, niks: list[str], now: dt.datetime) -> None:
    """After a duplicate refusal (a booking's, a draw entry's, the waiting list's): the NIKs that
    someone else's active application holds count against the account (probing); its own
    applications' NIKs do not."""
    held = (
        Application.objects.filter(nik__in=niks, status__in=ACTIVE_STATUSES)
        .exclude(account=account)
        .values_list("nik", flat=True)
    )
    niks_of_others = list(held)
    if niks_of_others:
        record_refused_niks(account=account, niks=niks_of_others, now=now)
