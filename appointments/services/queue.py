"""The day's queue at an office: checked-in people wait by queue number, a desk calls the next
one, recalls, and marks them served or not answering (docs/counter-queue.md).

Being called is not a status change; being served is: the desk has taken the documents, photo
and fingerprints, so the application moves on to "in process" (with its event row)."""

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offices.models import Office

from ..exceptions import InvalidInput, QueueActionNotAllowed
from ..models import Application, QueueDisplay, QueueState, Status
from .lifecycle import do_transition


def desks_of(office: Office) -> range:
    """An office's desks are numbered 1 to its counters (at least one)."""
    return range(1, max(office.counter_count, 1) + 1)


def check_desk(*, office: Office, desk) -> None:
    if isinstance(desk, bool) or desk not in desks_of(office):
        raise InvalidInput(_("Choose your desk from the list."), field="desk")


def _today(office: Office, now: dt.datetime) -> dt.date:
    return now.astimezone(office.tzinfo).date()


def _locked_queue_entry(*, application_id: int, office: Office, now: dt.datetime) -> Application:
    """One application of today's queue at this office, locked; or ApplicationNotFound's 404."""
    application = (
        Application.objects.select_for_update(of=("self",))
        .filter(pk=application_id, slot__office=office, slot__date=_today(office, now))
        .exclude(queue_state="")
        .first()
    )
    if application is None:
        raise QueueActionNotAllowed(_("This number is not in today's queue."))
    return application


def call_next(*, office_id: int, desk: int, actor=None, now: dt.datetime | None = None) -> Application | None:
    """Call the waiting person who checked in first to `desk`; None when nobody waits.

    Two desks pressing at the same moment never get the same person: the row is taken with
    FOR UPDATE SKIP LOCKED, so a second desk passes over the row the first one holds."""
    now = now or timezone.now()
    office = Office.objects.get(pk=office_id)
    check_desk(office=office, desk=desk)
    with transaction.atomic(durable=True):
        application = (
            Application.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(
                slot__office=office,
                slot__date=_today(office, now),
                queue_state=QueueState.WAITING,
                status=Status.CHECKED_IN,
            )
            .order_by("checked_in_at", "pk")
            .first()
        )
        if application is None:
            return None
        _call(application, desk=desk, now=now, actor=actor)
    return application


def recall(
    *, application_id: int, office_id: int, desk: int, actor=None, now: dt.datetime | None = None
) -> Application:
    """Call a number again, to this desk: one who was called and has not come yet, or one who did
    not answer and is back."""
    now = now or timezone.now()
    office = Office.objects.get(pk=office_id)
    check_desk(office=office, desk=desk)
    with transaction.atomic(durable=True):
        application = _locked_queue_entry(application_id=application_id, office=office, now=now)
        if application.queue_state not in (QueueState.CALLED, QueueState.NO_ANSWER):
            raise QueueActionNotAllowed(
                _("%(number)s cannot be called again: it is “%(state)s”."),
                number=application.queue_number,
                state=QueueState(application.queue_state).label,
            )
        _call(application, desk=desk, now=now, actor=actor)
    return application


def mark_served(*, application_id: int, office_id: int, actor=None, now: dt.datetime | None = None) -> Application:
    """The called person was served at the desk: out of the queue, and the application is in process."""
    now = now or timezone.now()
    office = Office.objects.get(pk=office_id)
    with transaction.atomic(durable=True):
        application = _locked_queue_entry(application_id=application_id, office=office, now=now)
        _check_called(application)
        application.queue_state = QueueState.SERVED
        application.served_at = now
        application._history_user = actor
        application.save(update_fields=["queue_state", "served_at", "updated_at"])
        # Staff may already have moved it on in the admin; only a checked-in one moves here.
        if application.status == Status.CHECKED_IN:
            do_transition(
                application=application,
                to=Status.IN_PROCESS,
                actor=actor,
                reason=f"served at desk {application.desk}",
            )
    return application


def mark_no_answer(*, application_id: int, office_id: int, actor=None, now: dt.datetime | None = None) -> Application:
    """The called person did not come to the desk: set aside; a desk may call them again."""
    now = now or timezone.now()
    office = Office.objects.get(pk=office_id)
    with transaction.atomic(durable=True):
        application = _locked_queue_entry(application_id=application_id, office=office, now=now)
        _check_called(application)
        application.queue_state = QueueState.NO_ANSWER
        application._history_user = actor
        application.save(update_fields=["queue_state", "updated_at"])
    return application


def _check_called(application: Application) -> None:
    if application.queue_state != QueueState.CALLED:
        raise QueueActionNotAllowed(
            _("%(number)s is not called at a desk now: it is “%(state)s”."),
            number=application.queue_number,
            state=QueueState(application.queue_state).label,
        )


def _call(application: Application, *, desk: int, now: dt.datetime, actor) -> None:
    application.queue_state = QueueState.CALLED
    application.desk = desk
    application.called_at = now
    application._history_user = actor
    application.save(update_fields=["queue_state", "desk", "called_at", "updated_at"])


def display_key_of(*, office_id: int) -> str:
    """The key of the office's waiting-room screen address, made on first use."""
    with transaction.atomic(durable=True):
        display, _created = QueueDisplay.objects.get_or_create(
            office_id=office_id, defaults={"key": secrets.token_urlsafe(24)}
        )
    return display.key


def replace_display_key(*, office_id: int) -> str:
    """A new screen address for the office; the old one stops working at once."""
    key = secrets.token_urlsafe(24)
    with transaction.atomic(durable=True):
        QueueDisplay.objects.update_or_create(office_id=office_id, defaults={"key": key})
    return key
