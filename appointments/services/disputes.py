"""NIK disputes: the owner of a NIK that someone else's active application holds contests it
from their own account; staff of the office that holds the application uphold the dispute (the
application is cancelled through its life cycle, so its place goes to the waiting list first,
and the account that booked it may be flagged) or reject it with a reason. The owner is told
the outcome by e-mail (the accounts' outbox). docs/nik-disputes.md.

The e-KTP photo is checked and re-encoded as a supporting document is (`document_files`) and
kept in the same private storage, under a random name. A refusal at any step stores nothing."""

import datetime as dt
import secrets
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import hoarding
from accounts.hoarding import Hit
from accounts.models import User
from accounts.outbox import queue_account_message
from accounts.services import check_bookings_allowed, raise_hoarding_flags, record_refused_niks
from mpaspor.db import violates
from mpaspor.errors import DomainError
from offices import permissions

from ..document_files import check_image
from ..exceptions import (
    CancelNotAllowed,
    DisputeAlreadyOpen,
    DisputeDecided,
    DisputeNotFound,
    InvalidInput,
    NothingToDispute,
    OwnApplicationDisputed,
    PhotoNotAnImage,
)
from ..models import ACTIVE_STATUSES, Application, DocumentView, NikDispute, Status
from ..nik import PROVINCE_CODES, nik_problem
from .documents import document_storage
from .lifecycle import ALLOWED_TRANSITIONS, do_transition, lock_application
from .people import EARLIEST_BIRTH_DATE

NOTE_MAX_LENGTH = 255
PHOTO_FIELD = "photo"


def check_owner_data(*, nik: str, birth_date: dt.date) -> None:
    """The NIK is well formed and its date part (DDMMYY, 40 added to the day for women) is the
    birth date given: the owner knows their birth date; the sex is read from the NIK."""
    if not (isinstance(nik, str) and len(nik) == 16 and nik.isascii() and nik.isdigit()):
        raise InvalidInput(_("A NIK has exactly 16 digits."), field="nik")
    if not isinstance(birth_date, dt.date) or isinstance(birth_date, dt.datetime):
        raise InvalidInput(_("Enter a valid birth date."), field="birth_date")
    if not EARLIEST_BIRTH_DATE <= birth_date <= timezone.localdate():  # the NIK has two digits of the year
        raise InvalidInput(_("The birth date must be between 1900 and today."), field="birth_date")
    problem = nik_problem(nik, birth_date=birth_date, sex="F" if int(nik[6:8]) > 40 else "M")
    if problem is None:
        return
    if nik[:2] in PROVINCE_CODES and nik[12:] != "0000":  # only the date part disagrees
        raise InvalidInput(
            _("The birth date does not match the date in the NIK (its digits 7 to 12). Check both."),
            field="birth_date",
        )
    raise InvalidInput(problem, field="nik")


def holding_application(*, nik: str) -> Application | None:
    """The active application that holds this NIK, if any (at most one: the NIK's unique index)."""
    return Application.objects.filter(nik=nik, status__in=ACTIVE_STATUSES).select_related("slot__office").first()


def file_dispute(
    *,
    account: User,
    nik: str,
    birth_date: dt.date,
    photo,
    now: dt.datetime | None = None,
    in_same_transaction: Callable[[list[NikDispute]], None] | None = None,
) -> NikDispute:
    """Contest `nik` for `account`, its owner. Refused, storing nothing: a NIK whose date part is
    not `birth_date`; a NIK that no active application holds, or that the account's own holds; a
    second open dispute of the account for the NIK; a photo that is not a JPEG or PNG image (or
    is too large, damaged or a decompression bomb). An account paused for probing NIKs is paused
    here too, and the NIK counts as one it tried (accounts.RefusedNik)."""
    now = now or timezone.now()
    check_bookings_allowed(account=account, now=now)
    check_owner_data(nik=nik, birth_date=birth_date)
    # The photo before the NIK's lookup: a refused photo must not tell whether the NIK is booked.
    try:
        checked = check_image(photo, not_an_image=PhotoNotAnImage(field=PHOTO_FIELD))
    except DomainError as exc:
        exc.field = PHOTO_FIELD
        raise
    application = holding_application(nik=nik)
    if application is None:
        raise NothingToDispute(field="nik")
    if application.account_id == account.pk:
        raise OwnApplicationDisputed(field="nik")
    if NikDispute.objects.filter(account=account, nik=nik, state=NikDispute.State.OPEN).exists():
        raise DisputeAlreadyOpen(field="nik")
    stored = document_storage().save(
        f"disputes/{secrets.token_hex(16)}.{checked.extension}", ContentFile(checked.content)
    )
    try:
        with transaction.atomic(durable=True):
            # Again in the transaction: the application may have ended since.
            application = holding_application(nik=nik)
            if application is None:
                raise NothingToDispute(field="nik")
            dispute = NikDispute(
                account=account,
                nik=nik,
                birth_date=birth_date,
                application=application,
                photo_name=stored,
                photo_type=checked.content_type,
                photo_size=len(checked.content),
                created_at=now,
            )
            dispute._history_user = account
            dispute.save(force_insert=True)
            if in_same_transaction is not None:
                in_same_transaction([dispute])
    except IntegrityError as exc:
        document_storage().delete(stored)
        if violates(exc, NikDispute, "one_open_dispute_per_account_nik"):
            raise DisputeAlreadyOpen(field="nik") from exc
        raise
    except BaseException:
        document_storage().delete(stored)
        raise
    # Contesting a NIK tells whether an application holds it, as a refused booking does: the
    # same count and the same daily cap (the owner refused at booking counts the same NIK once).
    record_refused_niks(account=account, niks=[nik], now=now)
    return dispute


def record_photo_view(*, dispute: NikDispute, viewer: User) -> None:
    """Log a staff member's opening of the e-KTP photo (who, which, when), before it is sent:
    in the staff's document views, under the contested application's booking code."""
    with transaction.atomic(durable=True):
        DocumentView.objects.create(
            document=None,
            office_id=dispute.application.slot.office_id,
            booking_code=dispute.application.booking_code,
            document_name=f"NIK dispute {dispute.pk}: e-KTP",
            viewer=viewer,
        )


def decide_dispute(
    *,
    dispute_id: int,
    uphold: bool,
    actor: User,
    note: str = "",
    flag_account: bool = False,
    now: dt.datetime | None = None,
) -> NikDispute:
    """Staff of the office that holds the contested application decide an open dispute (the
    caller found it among its offices': selectors.office_dispute).

    Upheld: the application, while still active, is cancelled through its life cycle (the event
    names the dispute and the reviewer; the place goes back, to the waiting list first); with
    `flag_account`, the account that booked it is flagged under the `disputed_niks` rule.
    Rejected: `note`, the reason the owner reads, is required. Either way the owner is e-mailed
    the outcome, in the same transaction (the outbox)."""
    now = now or timezone.now()
    note = " ".join((note or "").split())
    if not uphold and not note:
        raise InvalidInput(_("Say why the dispute is rejected: its owner reads it."), field="note")
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            _("Write the note in at most %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH}, field="note"
        )
    with transaction.atomic(durable=True):
        # Only staff of the office that holds the application decide; anyone else finds nothing.
        dispute = (
            NikDispute.objects.select_for_update(of=("self",))
            .filter(pk=dispute_id, application__slot__office__in=permissions.counter_offices(actor))
            .select_related("account")
            .first()
        )
        if dispute is None:
            raise DisputeNotFound()
        if dispute.state != NikDispute.State.OPEN:
            raise DisputeDecided()
        flagged = False
        if uphold:
            application = lock_application(application_id=dispute.application_id)
            if application.status in ACTIVE_STATUSES:
                if Status.CANCELLED not in ALLOWED_TRANSITIONS[application.status]:
                    raise CancelNotAllowed(
                        _(
                            "The contested application is already being processed at the counter and cannot be "
                            "cancelled here: stop it at the counter first."
                        )
                    )
                do_transition(
                    application=application,
                    to=Status.CANCELLED,
                    actor=actor,
                    reason=f"NIK dispute {dispute.pk} upheld: the NIK is another person's",
                )
            flagged = flag_account and application.account_id is not None
        dispute.state = NikDispute.State.UPHELD if uphold else NikDispute.State.REJECTED
        dispute.decided_by, dispute.decided_at, dispute.note = actor, now, note
        dispute.squatter_flagged = flagged
        dispute._history_user = actor
        dispute.save(update_fields=["state", "decided_by", "decided_at", "note", "squatter_flagged"])
        queue_account_message(
            user=dispute.account,
            template="nik_dispute_upheld" if uphold else "nik_dispute_rejected",
            context={"nik": dispute.masked_nik, "note": note},
        )
    if flagged:
        flag_disputed_accounts(account_ids=[application.account_id], now=now)
    return dispute


def disputed_niks(*, rule: hoarding.Rule, now: dt.datetime) -> list[Hit]:
    """The hoarding signal `disputed_niks`: accounts against whose applications offices upheld
    `rule.threshold` or more disputes within the window, flagging them."""
    return _disputed(rule=rule, now=now)


def _disputed(*, rule: hoarding.Rule, now: dt.datetime, account_ids=None) -> list[Hit]:
    upheld = NikDispute.objects.filter(
        state=NikDispute.State.UPHELD, squatter_flagged=True, decided_at__gt=now - rule.window, decided_at__lte=now
    )
    if account_ids is not None:
        upheld = upheld.filter(application__account_id__in=account_ids)
    counts: dict[int, int] = {}
    for account_id in upheld.values_list("application__account_id", flat=True):
        counts[account_id] = counts.get(account_id, 0) + 1
    return [Hit(account_id=a, count=n) for a, n in counts.items() if n >= rule.threshold]


def flag_disputed_accounts(*, account_ids: list[int], now: dt.datetime) -> None:
    """Flag these accounts at once under every rule of the `disputed_niks` signal, rather than
    at the next evaluation (which would flag them too: the same count, and never twice)."""
    rules = {name: rule for name, rule in hoarding.hoarding_rules().items() if rule.signal == hoarding.DISPUTED_NIKS}
    hits = {name: _disputed(rule=rule, now=now, account_ids=account_ids) for name, rule in rules.items()}
    if any(hits.values()):
        raise_hoarding_flags(hits=hits, now=now)
