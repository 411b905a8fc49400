"""The office counter: check-in with a queue number, walk-ins, no-shows marked by staff."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from mpaspor.db import in_callers_transaction, violates
from quotas.exceptions import SlotNotFound
from quotas.models import Pool, Slot
from quotas.services import claim_places

from ..exceptions import (
    ApplicationNotFound,
    CheckInNotAllowed,
    DuplicateApplication,
    InvalidInput,
    TransitionNotAllowed,
)
from ..models import Application, ApplicationEvent, ApplicationKind, PriorityGroup, QueueCounter, Status
from .booking import check_passport_choice, check_validity, new_application
from .lifecycle import do_transition
from .people import ApplicantData, check_applicant

COUNTER_ONLY_KINDS = (ApplicationKind.LOST, ApplicationKind.DAMAGED, ApplicationKind.DATA_CHANGE)
QUEUE_SERIES_BOOKED = "A"
QUEUE_SERIES_WALK_IN = "B"


@in_callers_transaction
def next_queue_number(*, office_id: int, day: dt.date, series: str) -> str:
    """The next number of an office's queue on a day ("A-007"). The counter row stays locked
    until the caller's transaction commits, so two desks at the same instant get different numbers."""
    QueueCounter.objects.get_or_create(office_id=office_id, date=day, series=series)
    QueueCounter.objects.filter(office_id=office_id, date=day, series=series).update(last_number=F("last_number") + 1)
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
    with transaction.atomic(durable=True):
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


def check_walk_in(
    *, applicant: ApplicantData, kind: str, priority_group: str, validity_years: int, day: dt.date
) -> None:
    """A walk-in is someone of a priority group (any kind), or a counter-only kind."""
    check_applicant(applicant)
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
    check_passport_choice(passport_type=passport_type, validity_years=validity_years, express=express)
    check_walk_in(
        applicant=applicant, kind=kind, priority_group=priority_group, validity_years=validity_years, day=today
    )
    application = new_application(
        slot=slot,
        applicant=applicant,
        passport_type=passport_type,
        validity_years=validity_years,
        kind=kind,
        express=express,
        status=Status.CHECKED_IN,
        priority_group=priority_group,
        walk_in=True,
        checked_in_at=now,
    )
    application._history_user = actor
    try:
        with transaction.atomic(durable=True):
            claim_places(slot_id=slot.pk, now=now)
            application.queue_number = next_queue_number(office_id=office_id, day=today, series=QUEUE_SERIES_WALK_IN)
            application.save(force_insert=True)
            ApplicationEvent.objects.create(
                application=application, to_status=Status.CHECKED_IN, actor=actor, reason="walk-in"
            )
    except IntegrityError as exc:
        if not violates(exc, Application, "one_active_application_per_nik"):
            raise
        raise DuplicateApplication() from exc
    return application


def mark_no_show(*, application_id: int, actor=None, now: dt.datetime | None = None) -> Application:
    """A booked applicant who did not come: only once their session has started."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        application = Application.objects.select_for_update(of=("self",)).select_related("slot").get(pk=application_id)
        if application.status == Status.BOOKED and application.slot.starts_at > now:
            raise TransitionNotAllowed(_("A no-show can be marked only once the session has started."))
        return do_transition(application=application, to=Status.NO_SHOW, actor=actor)
