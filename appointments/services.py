"""Every write to an application goes through here; each service owns its transaction."""

import datetime as dt
import functools
import logging
import re
import secrets
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.validators import PERSON_NAME_MESSAGE, PERSON_NAME_RE
from mpaspor.db import fetch, fetch_row, insert_after, select_columns
from offices.models import Office
from quotas.exceptions import NotOpenYet, SlotFull, SlotInPast, SlotNotFound
from quotas.models import Pool, Slot, SlotDrift
from quotas.services import CLAIM_SQL, claim_place, claim_refusal, return_place

from .exceptions import (
    ApplicantLimitReached,
    ApplicationNotFound,
    CancelNotAllowed,
    CheckInNotAllowed,
    DuplicateApplication,
    InvalidInput,
    KindNotAccepted,
    RescheduleNotAllowed,
    TooManyApplicants,
    TransitionNotAllowed,
    UnknownBillingCode,
)
from .models import (
    ACTIVE_STATUSES,
    ONLINE_KINDS,
    RELEASED_STATUSES,
    Applicant,
    Application,
    ApplicationEvent,
    ApplicationKind,
    Fee,
    PassportType,
    Payment,
    PriorityGroup,
    QueueCounter,
    Sex,
    Status,
)
from .nik import nik_problem
from .notifications import STATUS_MESSAGES, outbox_rows, queue_message
from .payments import PaymentNotice

logger = logging.getLogger(__name__)

# The only way an application's status changes (invariant 6). Staff actions, payments and
# jobs all pass through `do_transition`.
ALLOWED_TRANSITIONS = {
    Status.PENDING_PAYMENT: {Status.BOOKED, Status.CANCELLED, Status.EXPIRED},
    Status.BOOKED: {Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW},
    Status.CHECKED_IN: {Status.IN_PROCESS, Status.REJECTED, Status.CANCELLED},
    Status.IN_PROCESS: {Status.APPROVED, Status.REJECTED},
    Status.APPROVED: {Status.ISSUED},
    Status.ISSUED: {Status.COLLECTED},
    Status.COLLECTED: set(),
    Status.CANCELLED: set(),
    Status.EXPIRED: set(),
    Status.NO_SHOW: set(),
    Status.REJECTED: set(),
}

BOOKING_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter


@dataclass(frozen=True)
class ApplicantData:
    nik: str
    full_name: str
    birth_date: dt.date
    sex: str
    phone: str = ""

    def as_fields(self) -> dict:
        """The person's data as an Application's fields (kept on it as given at booking)."""
        return asdict(self)


def new_booking_code() -> str:
    return "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(10))


def new_billing_code() -> str:
    # SIMPONI billing codes are 15 digits; the first is never 0 so it survives spreadsheets.
    return str(secrets.randbelow(9 * 10**14) + 10**14)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# Every booking that finds a place runs this query and the account-capacity count below; both
# are written out because the ORM's building of them cost 5-10 times their run
# (bench/analysis.md). Each says what it equals.
@functools.cache
def _fee_sql(items: int) -> str:
    return (
        f"SELECT item, amount FROM {Fee._meta.db_table}"
        f" WHERE item IN ({', '.join(['%s'] * items)}) AND effective_from <= %s ORDER BY item, effective_from DESC"
    )


def fee_amount(*, passport_type: str, validity_years: int, express: bool, on: dt.date) -> int:
    """The PNBP amount in force on a date: the passport's fee plus the same-day surcharge.

    Same rows as Fee.objects.filter(item__in=items, effective_from__lte=on)
    .order_by("item", "-effective_from").values_list("item", "amount")."""
    items = (f"{passport_type}_{validity_years}",) + (("express",) if express else ())
    amounts = {}
    for item, amount in fetch(f"fee_{len(items)}", _fee_sql(len(items)), [*items, on]):
        amounts.setdefault(item, amount)
    if len(amounts) < len(items):
        raise InvalidInput(_("No fee is set for this passport type."), field="passport_type")
    return sum(amounts.values())


NAME_RE = PERSON_NAME_RE  # accounts.validators: letters, spaces and . , ' - (as on an e-KTP)
PHONE_RE = re.compile(r"\+?[0-9]{8,15}")
NAME_MAX_LENGTH = Application._meta.get_field("full_name").max_length


def check_applicant_fields(*, applicant: ApplicantData) -> None:
    """Refuse malformed, oversized and wrong-type personal data before anything is stored, so
    no caller (form, API, admin, script) can reach the database with it."""
    if not isinstance(applicant.full_name, str) or not applicant.full_name.strip():
        raise InvalidInput(_("Enter the full name as written on the e-KTP."), field="full_name")
    if len(applicant.full_name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            _("The full name may have at most %(max)s characters.") % {"max": NAME_MAX_LENGTH}, field="full_name"
        )
    if not NAME_RE.fullmatch(applicant.full_name.strip()):
        raise InvalidInput(PERSON_NAME_MESSAGE, field="full_name")
    birth_date = applicant.birth_date
    if not isinstance(birth_date, dt.date) or isinstance(birth_date, dt.datetime):
        raise InvalidInput(_("Enter a valid birth date."), field="birth_date")
    if not dt.date(1900, 1, 1) <= birth_date <= timezone.localdate():
        raise InvalidInput(_("The birth date must be between 1900 and today."), field="birth_date")
    if applicant.sex not in Sex.values:
        raise InvalidInput(_("Choose the sex as written on the e-KTP."), field="sex")
    if not isinstance(applicant.phone, str) or (applicant.phone and not PHONE_RE.fullmatch(applicant.phone)):
        raise InvalidInput(_("Enter a phone number of 8 to 15 digits, e.g. 081234567890."), field="phone")


def check_booking_options(*, passport_type, validity_years, kind, express, language) -> None:
    if passport_type not in PassportType.values:
        raise InvalidInput(_("Choose a passport type."), field="passport_type")
    if isinstance(validity_years, bool) or validity_years not in (5, 10):
        raise InvalidInput(_("Validity is 5 or 10 years."), field="validity_years")
    if not isinstance(kind, str):
        raise InvalidInput(_("Choose the kind of application."), field="application_kind")
    if not isinstance(express, bool):
        raise InvalidInput(_("Choose regular or same-day service."), field="express")
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Choose a language."), field="language")


def check_validity(*, validity_years: int, birth_date: dt.date, on: dt.date) -> None:
    """5 or 10 years; applicants under 17 on the day get only the 5-year passport."""
    if validity_years not in (5, 10):
        raise InvalidInput(_("Validity is 5 or 10 years."), field="validity_years")
    if validity_years == 10 and age_on(birth_date, on) < 17:
        raise InvalidInput(_("Applicants under 17 can only get a 5-year passport."), field="validity_years")


def check_applicant(*, applicant: ApplicantData, kind: str, validity_years: int, visit_date: dt.date) -> None:
    """Refuse what no slot could accept: bad data, bad NIK, a counter-only kind, 10 years under 17."""
    check_applicant_fields(applicant=applicant)
    problem = nik_problem(applicant.nik, birth_date=applicant.birth_date, sex=applicant.sex)
    if problem:
        raise InvalidInput(problem, field="nik")
    if kind not in ONLINE_KINDS:
        raise InvalidInput(
            _("Lost, damaged and data-change applications are handled at the office, not online."),
            field="application_kind",
        )
    check_validity(validity_years=validity_years, birth_date=applicant.birth_date, on=visit_date)


_OTHER_PEOPLE_SQL = (
    f"SELECT COUNT(DISTINCT nik) FROM {Application._meta.db_table}"
    f" WHERE account_id = %s AND nik <> %s AND status IN ({', '.join(['%s'] * len(ACTIVE_STATUSES))})"
)


def check_account_capacity(*, account, nik: str) -> None:
    """At most MAX_APPLICANTS_PER_ACCOUNT people with active applications per account.

    Counts as Application.objects.filter(account=account, status__in=ACTIVE_STATUSES)
    .exclude(nik=nik).values("nik").distinct().count()."""
    limit = settings.MAX_APPLICANTS_PER_ACCOUNT
    (others,), = fetch("other_people", _OTHER_PEOPLE_SQL, [account.pk, nik, *ACTIVE_STATUSES])
    if others >= limit:
        raise TooManyApplicants(limit=limit)


def book_application(
    *,
    account,
    slot_id: int,
    applicant: ApplicantData,
    passport_type: str,
    validity_years: int,
    kind: str,
    express: bool = False,
    language: str = "id",
    person_id: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """Claim a place and create the application awaiting payment, or raise and store nothing.

    `person_id`: the account's listed person (Applicant) this is for; linked only when it is
    the account's and its NIK is the one booked."""
    now = now or timezone.now()
    if not isinstance(slot_id, int) or isinstance(slot_id, bool) or not 0 < slot_id < 2**63:
        raise SlotNotFound()
    check_booking_options(
        passport_type=passport_type, validity_years=validity_years, kind=kind, express=express, language=language
    )
    slot = bookable_slot_or_refusal(slot_id=slot_id, now=now)
    check_applicant(applicant=applicant, kind=kind, validity_years=validity_years, visit_date=slot.date)
    if slot.allowed_kinds and kind not in slot.allowed_kinds:
        raise KindNotAccepted()
    if slot.opens_at > now:
        raise NotOpenYet()
    if slot.taken >= slot.capacity and not slot.has_overdue_holds:
        # Sold out, read from the row in this request (never from a cache): refuse before the
        # account, fee and claim queries. Most requests of a release burst end here. A place
        # given back after this read is found by the next attempt; the claim below still
        # decides every booking.
        raise SlotFull()
    check_account_capacity(account=account, nik=applicant.nik)
    amount = fee_amount(passport_type=passport_type, validity_years=validity_years, express=express, on=slot.date)
    if person_id is not None and not Applicant.objects.filter(pk=person_id, account=account, nik=applicant.nik).exists():
        person_id = None

    application = Application(
        booking_code=new_booking_code(),
        account=account,
        applicant_id=person_id,
        **applicant.as_fields(),
        passport_type=passport_type,
        validity_years=validity_years,
        kind=kind,
        express=express,
        slot=slot,
        status=Status.PENDING_PAYMENT,
        amount=amount,
        billing_code=new_billing_code(),
        payment_due_at=now + dt.timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES),
        language=language,
    )
    # The event records the creation (the hot path writes no history row). The outbox rows are
    # the e-mail copy of the codes this answer shows: nothing publishes them, the outbox sweep
    # sends them once BOOKING_MESSAGE_DELAY_SECONDS have passed, after a quota's opening rush.
    event = ApplicationEvent(application=application, to_status=Status.PENDING_PAYMENT, actor=account)
    outbox = outbox_rows(application=application, template="booking_made", email=getattr(account, "email", "") or "")
    try:
        with transaction.atomic():
            _claim_or_release_expired(functools.partial(_claim_and_insert, application, event, outbox, now=now),
                                      slot_id=slot.pk, now=now)
    except IntegrityError as exc:
        # The partial unique index on active NIKs; the claim is rolled back with it.
        raise DuplicateApplication() from exc
    return application


def _claim_or_release_expired(claim, *, slot_id: int, now: dt.datetime) -> None:
    """Run `claim`; when the slot is full, first give back holds whose payment is overdue, so
    places return even while no worker runs (DESIGN "The hot path"), and claim once more."""
    try:
        claim()
    except SlotFull:
        if not release_expired_holds(slot_id=slot_id, now=now):
            raise
        claim()


def _claim_and_insert(application: Application, event: ApplicationEvent, outbox: list, *, now: dt.datetime) -> None:
    """Claim a place on the application's slot, then insert the application, its event and its
    outbox rows; or raise SlotFull / NotOpenYet. Claim first, insert second (DESIGN), in one
    statement where the database allows it."""
    application.skip_history_when_saving = True  # the event records the creation
    if not insert_after("book", CLAIM_SQL, [application.slot_id, now], application, [event, *outbox]):
        raise claim_refusal(slot_id=application.slot_id, now=now)


@functools.cache
def _bookable_slot_sql() -> str:
    # The earliest deadline of the slot's unpaid holds, compared with now: a read of one entry of
    # the partial index pending_holds_by_slot, also in the prepared statement's generic plan
    # (which an EXISTS with the status as a parameter did not use).
    return (
        f"SELECT {select_columns(Slot, 's')}, {select_columns(Office, 'o')},"
        f" (SELECT min(a.payment_due_at) FROM {Application._meta.db_table} a"
        f"  WHERE a.slot_id = s.id AND a.status = '{Status.PENDING_PAYMENT}') < %s"
        f" FROM {Slot._meta.db_table} s JOIN {Office._meta.db_table} o ON o.id = s.office_id"
        " WHERE s.id = %s AND s.pool = %s"
    )


def bookable_slot_or_refusal(*, slot_id: int, now: dt.datetime) -> Slot:
    """The online slot with its office and whether it holds overdue unpaid holds
    (`has_overdue_holds`), in one query; or SlotNotFound / SlotInPast.

    Every attempt of a release burst runs this, most of them to be refused from its row, so it
    is written out (mpaspor/db.py). Same row as Slot.objects.select_related("office")
    .annotate(has_overdue_holds=Exists(<pending payment, due before now>)).filter(pk=slot_id, pool="online")."""
    row = fetch_row("bookable_slot", _bookable_slot_sql(), [now, slot_id, Pool.ONLINE], (Slot, Office))
    if row is None:
        raise SlotNotFound()
    slot, slot.office, has_overdue_holds = row
    slot.has_overdue_holds = bool(has_overdue_holds)  # NULL (no holds) or 0/1 on SQLite
    if slot.starts_at <= now:
        raise SlotInPast()
    return slot


def do_transition(
    *, application: Application, to: str, actor=None, reason: str = "", message_context: dict | None = None
) -> Application:
    """Change one application's status, give its place back if the new status releases it,
    write the event and queue the applicant's message (outbox, sent after commit). The caller
    must hold the application row locked (`select_for_update`) inside its transaction."""
    current = application.status
    if to not in ALLOWED_TRANSITIONS[current]:
        raise TransitionNotAllowed(current=Status(current).label, target=Status(to).label)
    if to in RELEASED_STATUSES and current not in RELEASED_STATUSES:
        return_place(slot_id=application.slot_id)
    application.status = to
    application.save(update_fields=["status", "updated_at"])
    ApplicationEvent.objects.create(
        application=application, from_status=current, to_status=to, actor=actor, reason=reason[:255]
    )
    if to in STATUS_MESSAGES:
        queue_message(application=application, template=STATUS_MESSAGES[to], context=message_context)
    return application


def change_status(*, application_id: int, to: str, actor=None, reason: str = "") -> Application:
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application_id)
        return do_transition(application=application, to=to, actor=actor, reason=reason)


def cancel_application(
    *, application_id: int, actor=None, reason: str = "", now: dt.datetime | None = None
) -> Application:
    """The applicant cancels before the visit: awaiting payment or booked, and the session has
    not started. The place is given back. (Staff use `change_status`.)"""
    now = now or timezone.now()
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related("slot").get(pk=application_id)
        check_cancel(application=application, now=now)
        return do_transition(application=application, to=Status.CANCELLED, actor=actor, reason=reason)


def check_cancel(*, application: Application, now: dt.datetime) -> None:
    if application.status not in (Status.PENDING_PAYMENT, Status.BOOKED):
        raise CancelNotAllowed(_("Only an application awaiting payment or booked can be cancelled."))
    if application.slot.starts_at <= now:
        raise CancelNotAllowed(_("The session has already started; it can no longer be cancelled."))


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    created: bool
    result: str  # "booked", "duplicate", "late", "amount_mismatch", "not_payable"


def record_payment(*, notice: PaymentNotice, actor=None) -> PaymentOutcome:
    """Record a gateway's payment notice, at most once per transaction id, and book the
    application if it was paid in full by its deadline while still awaiting payment.

    A late payment (after the deadline, or after the hold expired) is recorded and flagged for
    refund, never turned into a booking; the wrong amount is recorded and flagged likewise.
    Locks the application row, so a notice and the expiry job cannot both decide it."""
    try:
        with transaction.atomic():
            application = Application.objects.select_for_update().filter(billing_code=notice.billing_code).first()
            if application is None:
                raise UnknownBillingCode()
            existing = Payment.objects.filter(transaction_id=notice.transaction_id).first()
            if existing is not None:
                return PaymentOutcome(payment=existing, created=False, result="duplicate")
            late = application.status == Status.EXPIRED or (
                application.payment_due_at is not None and notice.paid_at > application.payment_due_at
            )
            mismatch = notice.amount != application.amount
            pending = application.status == Status.PENDING_PAYMENT
            payable = pending and not late and not mismatch
            payment = Payment.objects.create(
                application=application,
                transaction_id=notice.transaction_id,
                gateway=notice.gateway,
                amount=notice.amount,
                paid_at=notice.paid_at,
                late=late,
                amount_mismatch=mismatch,
                refund_due=not payable,
            )
            if payable:
                application.paid_at = notice.paid_at
                application.save(update_fields=["paid_at", "updated_at"])
                do_transition(
                    application=application, to=Status.BOOKED, actor=actor,
                    reason=f"paid via {notice.gateway}, transaction {notice.transaction_id}",
                )
                return PaymentOutcome(payment=payment, created=True, result="booked")
            if late and pending:
                # Paid too late: the hold ends now and its place goes back; the money is refunded.
                do_transition(application=application, to=Status.EXPIRED, actor=actor,
                              reason="payment arrived after the deadline", message_context={"refund": True})
            result = "late" if late else "amount_mismatch" if mismatch else "not_payable"
            logger.warning("Payment %s for %s flagged for refund: %s", notice.transaction_id, application, result)
            return PaymentOutcome(payment=payment, created=True, result=result)
    except IntegrityError:
        # The same transaction id arrived twice at once (for another billing code): the first won.
        existing = Payment.objects.filter(transaction_id=notice.transaction_id).first()
        if existing is None:
            raise
        return PaymentOutcome(payment=existing, created=False, result="duplicate")


def release_expired_holds(*, slot_id: int | None = None, now: dt.datetime | None = None) -> int:
    """Expire applications still unpaid past their deadline and give their places back.
    Idempotent: a second run finds nothing left to expire. Returns how many it released."""
    now = now or timezone.now()
    released = 0
    overdue = Application.objects.filter(status=Status.PENDING_PAYMENT, payment_due_at__lt=now)
    if slot_id is not None:
        overdue = overdue.filter(slot_id=slot_id)
    for application_id in overdue.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            # skip_locked: a payment or another releaser holding the row decides it.
            application = (
                Application.objects.select_for_update(skip_locked=True)
                .filter(pk=application_id, status=Status.PENDING_PAYMENT, payment_due_at__lt=now)
                .first()
            )
            if application:
                do_transition(application=application, to=Status.EXPIRED, reason="payment deadline passed")
                released += 1
    return released


def reschedule_application(*, application_id: int, slot_id: int, actor=None, now: dt.datetime | None = None) -> Application:
    """Move an application to another open slot once, up to the day before the visit (H-1).
    The new place is claimed and the old one given back in one transaction, or nothing changes."""
    now = now or timezone.now()
    with transaction.atomic():
        # of=self: lock only the application; locking the joined slot and office rows as well would
        # serialise unrelated moves on the office row and deadlock two crossing moves.
        application = (
            Application.objects.select_for_update(of=("self",)).select_related("slot__office").get(pk=application_id)
        )
        check_reschedule(application=application, now=now)
        new_slot = Slot.objects.filter(pk=slot_id, pool="online").select_related("office").first()
        if new_slot is None:
            raise SlotNotFound()
        if new_slot.pk == application.slot_id or new_slot.office_id != application.slot.office_id:
            raise RescheduleNotAllowed(_("Choose another session at the same office."))
        if new_slot.starts_at <= now:
            raise SlotInPast()
        if new_slot.allowed_kinds and application.kind not in new_slot.allowed_kinds:
            raise KindNotAccepted()
        claim_new = functools.partial(claim_place, slot_id=new_slot.pk, now=now)
        # Touch the two slot rows in id order, so two crossing moves cannot deadlock.
        if application.slot_id < new_slot.pk:
            return_place(slot_id=application.slot_id)
            _claim_or_release_expired(claim_new, slot_id=new_slot.pk, now=now)
        else:
            _claim_or_release_expired(claim_new, slot_id=new_slot.pk, now=now)
            return_place(slot_id=application.slot_id)
        old_slot = application.slot
        application.slot = new_slot
        application.reschedule_count += 1
        application.save(update_fields=["slot", "reschedule_count", "updated_at"])
        ApplicationEvent.objects.create(
            application=application,
            from_status=application.status,
            to_status=application.status,
            actor=actor,
            reason=f"rescheduled from {old_slot.local_start:%Y-%m-%d %H:%M} to {new_slot.local_start:%Y-%m-%d %H:%M}",
        )
        queue_message(application=application, template="rescheduled",
                      context={"previous_visit": old_slot.starts_at.isoformat()})
    return application


def check_reschedule(*, application: Application, now: dt.datetime) -> None:
    """Once, while awaiting payment or booked, and no later than the day before the visit."""
    if application.status not in (Status.PENDING_PAYMENT, Status.BOOKED):
        raise RescheduleNotAllowed(_("Only an application awaiting payment or booked can be rescheduled."))
    if application.reschedule_count >= 1:
        raise RescheduleNotAllowed(_("The date of an application can be changed only once."))
    today = now.astimezone(application.slot.office.tzinfo).date()
    if application.slot.date <= today:
        raise RescheduleNotAllowed(_("The date can be changed no later than the day before the visit."))


def add_applicant(*, account, person: ApplicantData) -> Applicant:
    """List a person the account applies for (the holder or family), at most
    MAX_APPLICANTS_PER_ACCOUNT of them, each with a NIK valid for their birth date and sex."""
    problem = nik_problem(person.nik, birth_date=person.birth_date, sex=person.sex)
    if problem:
        raise InvalidInput(problem, field="nik")
    limit = settings.MAX_APPLICANTS_PER_ACCOUNT
    with transaction.atomic():
        # Lock the account's row so two tabs cannot both add the fifth person.
        get_user_model().objects.select_for_update().filter(pk=account.pk).first()
        if Applicant.objects.filter(account=account).count() >= limit:
            raise ApplicantLimitReached(limit=limit)
        try:
            with transaction.atomic():
                return Applicant.objects.create(
                    account=account, nik=person.nik, full_name=person.full_name, birth_date=person.birth_date,
                    sex=person.sex, phone=person.phone,
                )
        except IntegrityError as exc:
            raise InvalidInput(_("This person is already on your list."), field="nik") from exc


def remove_applicant(*, account, applicant_id: int) -> None:
    """Take a person off the account's list; their applications stay (with their own data)."""
    with transaction.atomic():
        person = Applicant.objects.select_for_update().filter(account=account, pk=applicant_id).first()
        if person is None:
            raise InvalidInput(_("No such person on your list."))
        if person.applications.filter(status__in=ACTIVE_STATUSES).exists():
            raise InvalidInput(_("This person has an active application; cancel or finish it first."))
        person.delete()


# --- The office counter -----------------------------------------------------------------

COUNTER_ONLY_KINDS = (ApplicationKind.LOST, ApplicationKind.DAMAGED, ApplicationKind.DATA_CHANGE)
QUEUE_SERIES_BOOKED = "A"
QUEUE_SERIES_WALK_IN = "B"


def next_queue_number(*, office_id: int, day: dt.date, series: str) -> str:
    """The next number of an office's queue on a day ("A-007"). Call it inside the caller's
    transaction: the counter row stays locked until that commits, which is what makes two
    desks at the same instant get different numbers."""
    QueueCounter.objects.get_or_create(office_id=office_id, date=day, series=series)
    QueueCounter.objects.filter(office_id=office_id, date=day, series=series).update(
        last_number=F("last_number") + 1
    )
    number = QueueCounter.objects.values_list("last_number", flat=True).get(
        office_id=office_id, date=day, series=series
    )
    return f"{series}-{number:03d}"


def check_in_application(
    *, application_id: int, actor=None, office_id: int | None = None, now: dt.datetime | None = None
) -> Application:
    """Check a booked applicant in at the counter on the day of their session, with a queue
    number. With `office_id`, refuse an application of another office (as if it did not exist)."""
    now = now or timezone.now()
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("slot__office")
            .filter(pk=application_id)
            .first()
        )
        if application is None or (office_id is not None and application.slot.office_id != office_id):
            raise ApplicationNotFound()
        office = application.slot.office
        today = now.astimezone(office.tzinfo).date()
        if application.status == Status.CHECKED_IN:
            raise CheckInNotAllowed(
                _("Already checked in, queue number %(number)s."), number=application.queue_number or "-"
            )
        if application.status == Status.BOOKED and application.slot.date != today:
            raise CheckInNotAllowed(
                _("This booking is for %(date)s, not today."), date=formats.date_format(application.slot.date)
            )
        do_transition(application=application, to=Status.CHECKED_IN, actor=actor)
        application.queue_number = next_queue_number(office_id=office.pk, day=today, series=QUEUE_SERIES_BOOKED)
        application.checked_in_at = now
        application.save(update_fields=["queue_number", "checked_in_at", "updated_at"])
    return application


def check_walk_in(*, applicant: ApplicantData, kind: str, priority_group: str, validity_years: int, day: dt.date) -> None:
    """A walk-in is someone of a priority group (any kind), or a counter-only kind."""
    problem = nik_problem(applicant.nik, birth_date=applicant.birth_date, sex=applicant.sex)
    if problem:
        raise InvalidInput(problem, field="nik")
    if kind not in ApplicationKind.values:
        raise InvalidInput(_("Choose the kind of application."), field="kind")
    if priority_group and priority_group not in PriorityGroup.values:
        raise InvalidInput(_("Choose a priority group from the list."), field="priority_group")
    if not priority_group and kind not in COUNTER_ONLY_KINDS:
        raise InvalidInput(
            _("Without a priority group, walk-ins are only for lost, damaged or data-change applications."),
            field="priority_group",
        )
    check_validity(validity_years=validity_years, birth_date=applicant.birth_date, on=day)


def register_walk_in(
    *,
    office_id: int,
    slot_id: int,
    applicant: ApplicantData,
    kind: str,
    priority_group: str = "",
    passport_type: str,
    validity_years: int,
    express: bool = False,
    actor=None,
    now: dt.datetime | None = None,
) -> Application:
    """Register someone who came without booking, on today's session of the office, taking a
    place from that session's PRIORITY pool only, checked in with a queue number at once."""
    now = now or timezone.now()
    slot = Slot.objects.select_related("office").filter(pk=slot_id, office_id=office_id).first()
    if slot is None:
        raise SlotNotFound()
    if slot.pool != Pool.PRIORITY:
        raise InvalidInput(_("Walk-ins take places from the priority pool only."), field="slot")
    today = now.astimezone(slot.office.tzinfo).date()
    if slot.date != today or slot.ends_at <= now:
        raise InvalidInput(_("Walk-ins are registered for today's sessions that are not over."), field="slot")
    check_walk_in(
        applicant=applicant, kind=kind, priority_group=priority_group, validity_years=validity_years, day=today
    )
    amount = fee_amount(passport_type=passport_type, validity_years=validity_years, express=express, on=today)
    try:
        with transaction.atomic():
            claim_place(slot_id=slot.pk, now=now)
            application = Application(
                booking_code=new_booking_code(),
                **applicant.as_fields(),
                passport_type=passport_type,
                validity_years=validity_years,
                kind=kind,
                express=express,
                priority_group=priority_group,
                walk_in=True,
                slot=slot,
                status=Status.CHECKED_IN,
                amount=amount,
                billing_code=new_billing_code(),
                checked_in_at=now,
                queue_number=next_queue_number(office_id=office_id, day=today, series=QUEUE_SERIES_WALK_IN),
            )
            application._history_user = actor
            application.save(force_insert=True)
            ApplicationEvent.objects.create(
                application=application, to_status=Status.CHECKED_IN, actor=actor, reason="walk-in"
            )
    except IntegrityError as exc:
        raise DuplicateApplication() from exc
    return application


def mark_no_show(*, application_id: int, actor=None, now: dt.datetime | None = None) -> Application:
    """A booked applicant who did not come: only once their session has started."""
    now = now or timezone.now()
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related("slot").get(pk=application_id)
        if application.status == Status.BOOKED and application.slot.starts_at > now:
            raise TransitionNotAllowed(_("A no-show can be marked only once the session has started."))
        return do_transition(application=application, to=Status.NO_SHOW, actor=actor)


def mark_no_shows(*, now: dt.datetime | None = None) -> int:
    """Booked applications not checked in by their session's end plus the grace period become
    `no_show` (their place is given back by do_transition). Idempotent. Returns how many."""
    now = now or timezone.now()
    grace = dt.timedelta(minutes=settings.NO_SHOW_GRACE_MINUTES)
    marked = 0
    late = Application.objects.filter(status=Status.BOOKED, slot__ends_at__lt=now - grace)
    for application_id in late.values_list("pk", flat=True)[:2000]:
        with transaction.atomic():
            # skip_locked: a check-in at the counter holding the row decides it.
            application = (
                Application.objects.select_for_update(skip_locked=True)
                .filter(pk=application_id, status=Status.BOOKED)
                .first()
            )
            if application:
                do_transition(application=application, to=Status.NO_SHOW, reason="not checked in by session end")
                marked += 1
    return marked


def reconcile_slot_counts(*, since: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Compare each slot's `taken` with the applications holding a place on it (every status
    but the released ones) for slots from `since` (default: a week ago) on; correct any
    difference and record it as a SlotDrift that staff see in the admin (invariant 3).
    Idempotent: a second run finds nothing. Returns how many drifts it recorded."""
    now = now or timezone.now()
    since = since or (now - dt.timedelta(days=7)).date()
    holding = ~Q(applications__status__in=RELEASED_STATUSES) & Q(applications__isnull=False)
    # One statement, one snapshot: a claim and its application commit together.
    suspects = (
        Slot.objects.filter(date__gte=since)
        .annotate(actual=Count("applications", filter=holding))
        .exclude(taken=F("actual"))
        .order_by()  # no joins for the default ordering
        .values_list("pk", flat=True)
    )
    recorded = 0
    for slot_id in suspects:
        with transaction.atomic():
            # Locked, then counted again: a claim in flight on this slot has committed by now.
            slot = Slot.objects.select_for_update(no_key=True).get(pk=slot_id)
            actual = slot.applications.exclude(status__in=RELEASED_STATUSES).count()
            if actual == slot.taken:
                continue
            if SlotDrift.objects.filter(
                slot=slot, corrected=False, recorded_taken=slot.taken, actual_taken=actual
            ).exists():
                continue  # already reported; more places held than the slot has needs a person
            corrected = actual <= slot.capacity
            SlotDrift.objects.create(slot=slot, recorded_taken=slot.taken, actual_taken=actual, corrected=corrected)
            if corrected:
                Slot.objects.filter(pk=slot.pk).update(taken=actual)
            logger.warning("slot %s: taken %s, held by applications %s", slot.pk, slot.taken, actual)
            recorded += 1
    return recorded
