"""The steps of an application at the office, timed at the counter: who started and finished
each one, and when (docs/capacity.md). Recording a step changes no status: the status
machine stays in `lifecycle`; these rows measure how long the office's work takes."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offices.services import use_book

from ..exceptions import ApplicationNotFound, StepNotAllowed
from ..models import Status, Step, StepRecord
from .lifecycle import lock_application

# An application has steps once it is at the office.
AT_THE_OFFICE = (Status.CHECKED_IN, Status.IN_PROCESS, Status.APPROVED, Status.ISSUED, Status.COLLECTED)


def _locked_at_office(*, application_id: int, office_id: int):
    application = lock_application(application_id=application_id)
    if application.slot.office_id != office_id:
        raise ApplicationNotFound()
    if application.status not in AT_THE_OFFICE:
        raise StepNotAllowed(
            _("%(name)s is not at the office (status “%(status)s”): no step can be recorded."),
            name=application.full_name,
            status=application.get_status_display(),
        )
    return application


def start_step(
    *, application_id: int, office_id: int, step: str, actor=None, now: dt.datetime | None = None
) -> StepRecord:
    """Record that `step` of the application started now, by `actor`. Once per step."""
    if step not in Step.values:
        raise StepNotAllowed(_("Choose a step from the list."), field="step")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        application = _locked_at_office(application_id=application_id, office_id=office_id)
        try:
            # The application's row lock serialises two desks; the unique key is the last word.
            with transaction.atomic():
                return StepRecord.objects.create(application=application, step=step, started_at=now, started_by=actor)
        except IntegrityError:
            raise StepNotAllowed(
                _("%(step)s of %(name)s was already started."), step=Step(step).label, name=application.full_name
            ) from None


def finish_step(
    *, application_id: int, office_id: int, step: str, actor=None, now: dt.datetime | None = None
) -> StepRecord:
    """Record that the started `step` of the application finished now, by `actor`."""
    if step not in Step.values:
        raise StepNotAllowed(_("Choose a step from the list."), field="step")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        application = _locked_at_office(application_id=application_id, office_id=office_id)
        record = StepRecord.objects.filter(application=application, step=step).first()
        if record is None or record.finished_at is not None:
            raise StepNotAllowed(
                _("%(step)s of %(name)s is not in progress: start it first.")
                if record is None
                else _("%(step)s of %(name)s was already finished."),
                step=Step(step).label,
                name=application.full_name,
            )
        record.finished_at = max(now, record.started_at)
        record.finished_by = actor
        record.save(update_fields=["finished_at", "finished_by"])
        if step == Step.PRINTING:
            # One blank book of the application's type, once (the use is unique per application).
            use_book(
                office_id=office_id,
                passport_type=application.passport_type,
                application_id=application.pk,
                now=record.finished_at,
            )
    return record
