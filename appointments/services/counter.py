"""The office counter: check-in with a queue number, walk-ins, no-shows marked by staff."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from mpaspor.db import in_callers_transaction, violates
from quotas.exceptions import SlotNotFound
from quotas.models import Pool, Slot
from quotas.services.claims import claim_places
from quotas.services.priority import make_room_for_walk_in

from ..exceptions import (
    ApplicationNotFound,
    CheckInNotAllowed,
    DuplicateApplication,
    InvalidInput,
    TransitionNotAllowed,
)
from ..models import (
    NIK_CONSTRAINT,
    Application,
    ApplicationEvent,
    ApplicationKind,
    PriorityGroup,
    QueueCounter,
    QueueState,
    Sex,
    Status,
    age_on,
)
from ..selectors import FINE_ITEMS
from .booking import check_passport_choice, check_validity, new_application
from .lifecycle import do_transition, lock_application
from .people import ApplicantData, check_applicant

COUNTER_ONLY_KINDS = (ApplicationKind.LOST, ApplicationKind.DAMAGED, ApplicationKind.DATA_CHANGE)
QUEUE_SERIES_BOOKED = "A"
QUEUE_SERIES_WALK_IN = "B"
QUEUE_SERIES_WALK_IN_POOL = "C"  # a walk-in session's own numbers (Kediri's Saturdays, a mass service)


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
    number, into the day's queue. With `office_id`, refuse an application of another office (as
    if it did not exist). Each refusal says why, with the person's name, for the counter."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        application = lock_application(application_id=application_id)
        if office_id is not None and application.slot.office_id != office_id:
            raise ApplicationNotFound()
        office = application.slot.office
        today = now.astimezone(office.tzinfo).date()
        check_can_check_in(application=application, today=today)
        do_transition(application=application, to=Status.CHECKED_IN, actor=actor)
        application.queue_number = next_queue_number(office_id=office.pk, day=today, series=QUEUE_SERIES_BOOKED)
        application.checked_in_at = now
        application.queue_state = QueueState.WAITING
        application.save(update_fields=["queue_number", "checked_in_at", "queue_state", "updated_at"])
    return application


def check_can_check_in(*, application: Application, today: dt.date) -> None:
    """Only a paid booking for today checks in, once."""
    name = application.full_name
    if application.status == Status.CHECKED_IN:
        raise CheckInNotAllowed(
            _("%(name)s is already checked in, queue number %(number)s."),
            name=name,
            number=application.queue_number or "-",
        )
    if application.status == Status.PENDING_PAYMENT:
        raise CheckInNotAllowed(_("The booking of %(name)s is not paid yet: it cannot be checked in."), name=name)
    if application.status != Status.BOOKED:
        raise CheckInNotAllowed(
            _("The booking of %(name)s cannot be checked in: it is “%(status)s”."),
            name=name,
            status=Status(application.status).label,
        )
    if application.slot.date != today:
        raise CheckInNotAllowed(
            _("The booking of %(name)s is for %(date)s, not today."),
            name=name,
            date=formats.date_format(application.slot.date),
        )


def check_walk_in(
    *,
    applicant: ApplicantData,
    kind: str,
    priority_group: str,
    validity_years: int,
    day: dt.date,
    force_majeure: bool = False,
    open_to_all: bool = False,
) -> None:
    """A walk-in is someone of a priority group (any kind), or a counter-only kind; on a walk-in
    session's pool (`open_to_all`) anyone, of any kind. Force majeure (no fine) is for a lost or
    damaged passport only."""
    check_applicant(applicant)
    if kind not in ApplicationKind.values:
        raise InvalidInput(_("Choose the kind of application."), field="kind")
    if not isinstance(force_majeure, bool) or (force_majeure and kind not in FINE_ITEMS):
        raise InvalidInput(
            _("Force majeure applies only to a lost or damaged passport (it waives the fine)."),
            field="force_majeure",
        )
    if priority_group and priority_group not in PriorityGroup.values:
        raise InvalidInput(_("Choose a priority group from the list."), field="priority_group")
    if not priority_group and kind not in COUNTER_ONLY_KINDS and not open_to_all:
        raise InvalidInput(
            _("Without a priority group, walk-ins are only for lost, damaged or data-change applications."),
            field="priority_group",
        )
    check_priority_group(priority_group=priority_group, birth_date=applicant.birth_date, sex=applicant.sex, day=day)
    check_validity(validity_years=validity_years, birth_date=applicant.birth_date, on=day, married=applicant.married)


PREGNANCY_AGES = (12, 60)


def check_priority_group(*, priority_group: str, birth_date: dt.date, sex: str, day: dt.date) -> None:
    """The group must fit the person's birth date and sex on the day: over 60 means 60 or older,
    under 5 means younger than 5, pregnant means a woman of 12 to 60; any age may have a disability."""
    age = age_on(birth_date, day)
    if priority_group == PriorityGroup.ELDERLY and age < 60:
        raise InvalidInput(
            _("The over-60 group is for people aged 60 or more: this birth date gives %(age)s."),
            field="priority_group",
            age=age,
        )
    if priority_group == PriorityGroup.CHILD and age >= 5:
        raise InvalidInput(
            _("The under-5 group is for children younger than 5: this birth date gives %(age)s."),
            field="priority_group",
            age=age,
        )
    if priority_group == PriorityGroup.PREGNANT and sex != Sex.FEMALE:
        raise InvalidInput(_("Only a woman can be registered as pregnant."), field="priority_group")
    if priority_group == PriorityGroup.PREGNANT and not PREGNANCY_AGES[0] <= age <= PREGNANCY_AGES[1]:
        raise InvalidInput(
            _("Pregnant: this birth date gives an age of %(age)s; check it (12 to 60 years)."),
            field="priority_group",
            age=age,
        )


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
    force_majeure: bool = False,
    actor=None,
    now: dt.datetime | None = None,
) -> Application:
    """Register someone who came without booking, on today's session of the office, checked in
    with a queue number at once, taking a place from one of the session's door pools:
    - PRIORITY: for priority groups and counter-only kinds. A walk-in is never turned away for
      want of a place: when the pool is full, the slot gets one more place, recorded as overflow
      (docs/priority-places.md).
    - WALK_IN: a walk-in session's own quota, for anyone; when it is gone, SlotFull. Its queue
      numbers are a series of their own (docs/walk-in-and-same-day.md).
    A lost or damaged passport is charged its fine with the fee, unless staff find force majeure.
    Same-day service takes a same-day place of the day too."""
    now = now or timezone.now()
    slot = Slot.objects.select_related("office").filter(pk=slot_id, office_id=office_id).first()
    if slot is None:
        raise SlotNotFound()
    if slot.pool not in (Pool.PRIORITY, Pool.WALK_IN):
        raise InvalidInput(_("Walk-ins take places from the priority or walk-in pool only."), field="slot")
    walk_in_pool = slot.pool == Pool.WALK_IN
    today = now.astimezone(slot.office.tzinfo).date()
    if slot.date != today or slot.ends_at <= now:
        raise InvalidInput(_("Walk-ins are registered for today's sessions that are not over."), field="slot")
    check_passport_choice(passport_type=passport_type, validity_years=validity_years, express=express)
    check_walk_in(
        applicant=applicant,
        kind=kind,
        priority_group=priority_group,
        validity_years=validity_years,
        day=today,
        force_majeure=force_majeure,
        open_to_all=walk_in_pool,
    )
    application = new_application(
        slot=slot,
        applicant=applicant,
        passport_type=passport_type,
        validity_years=validity_years,
        kind=kind,
        express=express,
        force_majeure=force_majeure,
        status=Status.CHECKED_IN,
        priority_group=priority_group,
        walk_in=True,
        checked_in_at=now,
        queue_state=QueueState.WAITING,
    )
    application._history_user = actor
    try:
        with transaction.atomic(durable=True):
            if not walk_in_pool:
                application.beyond_pool = make_room_for_walk_in(slot_id=slot.pk)
            claim_places(slot_id=slot.pk, now=now, express=int(express))
            series = QUEUE_SERIES_WALK_IN_POOL if walk_in_pool else QUEUE_SERIES_WALK_IN
            application.queue_number = next_queue_number(office_id=office_id, day=today, series=series)
            application.save(force_insert=True)
            ApplicationEvent.objects.create(
                application=application, to_status=Status.CHECKED_IN, actor=actor, reason="walk-in"
            )
    except IntegrityError as exc:
        if violates(exc, Application, NIK_CONSTRAINT):
            raise DuplicateApplication() from exc
        raise
    return application


def mark_no_show(*, application_id: int, actor=None, now: dt.datetime | None = None) -> Application:
    """A booked applicant who did not come: only once their session has started."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        application = lock_application(application_id=application_id)
        if application.status == Status.BOOKED and application.slot.starts_at > now:
            raise TransitionNotAllowed(_("A no-show can be marked only once the session has started."))
        return do_transition(application=application, to=Status.NO_SHOW, actor=actor)
