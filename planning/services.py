"""Every write of an evaluation round; each service owns its transaction."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offices.models import Office, Region, StaffMembership
from offices.services import RESOURCE_FIELDS, set_office_resources
from quotas.models import Weekday
from quotas.services.changes import PlacesPerSession, WeekendSessions, write_quota_change
from quotas.services.generation import generate_horizon_slots

from .exceptions import AlreadyDecided, InvalidProposal, RoundClosed
from .models import EvaluationRound, OfficeEvaluation, Proposal
from .outbox import queue_reminders

WEEKEND_PROGRAMME_DAYS = 365  # an accepted weekend proposal runs a year, then is evaluated again


def open_round(*, region: Region, period_from: dt.date, period_to: dt.date, due_on: dt.date, actor=None):
    """A round for every active office of the region, each awaiting its head's evaluation."""
    if period_from > period_to:
        raise InvalidProposal(_("The period must end on or after its first day."), field="period_to")
    with transaction.atomic(durable=True):
        evaluation_round = EvaluationRound.objects.create(
            region=region, period_from=period_from, period_to=period_to, due_on=due_on, opened_by=actor
        )
        OfficeEvaluation.objects.bulk_create(
            OfficeEvaluation(round=evaluation_round, office=office)
            for office in Office.objects.filter(region=region, is_active=True)
        )
    return evaluation_round


def submit_evaluation(
    *, evaluation_id: int, counters: int, resources: dict, note: str = "", actor=None, now: dt.datetime | None = None
) -> OfficeEvaluation:
    """The head states the office's staff, facilities and hours: they become the office's
    current figures (with their history) and the round keeps them as stated. A head may submit
    again until the division decides on a proposal of the evaluation."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        evaluation = OfficeEvaluation.objects.select_for_update().select_related("office").get(pk=evaluation_id)
        if evaluation.proposals.exclude(decision=Proposal.Decision.PENDING).exists():
            raise RoundClosed()
        set_office_resources(office=evaluation.office, counters=counters, values=resources, actor=actor)
        evaluation.stated = {"counters": counters} | {
            name: resources[name].strftime("%H:%M") if isinstance(resources[name], dt.time) else resources[name]
            for name in RESOURCE_FIELDS
        }
        evaluation.note = note
        evaluation.submitted_at = now
        evaluation.submitted_by = actor
        evaluation.save(update_fields=["stated", "note", "submitted_at", "submitted_by"])
    return evaluation


def add_proposal(
    *,
    evaluation_id: int,
    kind: str,
    reason: str,
    weekdays: list[int] | None = None,
    places: int | None = None,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    starts_on: dt.date | None = None,
    needed: str = "",
    actor=None,
) -> Proposal:
    weekdays = sorted(set(weekdays or []))
    _check_proposal(
        kind=kind,
        reason=reason,
        weekdays=weekdays,
        places=places,
        start_time=start_time,
        end_time=end_time,
        starts_on=starts_on,
        needed=needed,
    )
    with transaction.atomic(durable=True):
        evaluation = OfficeEvaluation.objects.select_for_update().get(pk=evaluation_id)
        return Proposal.objects.create(
            evaluation=evaluation,
            kind=kind,
            reason=reason.strip(),
            weekdays=weekdays,
            places=places if kind in (Proposal.Kind.PLACES, Proposal.Kind.WEEKEND) else None,
            start_time=start_time if kind == Proposal.Kind.WEEKEND else None,
            end_time=end_time if kind == Proposal.Kind.WEEKEND else None,
            starts_on=starts_on if kind in (Proposal.Kind.PLACES, Proposal.Kind.WEEKEND) else None,
            needed=needed.strip() if kind in (Proposal.Kind.STAFF, Proposal.Kind.EQUIPMENT) else "",
            created_by=actor,
        )


def _check_proposal(*, kind, reason, weekdays, places, start_time, end_time, starts_on, needed) -> None:
    """The first missing or wrong field, in the order of the form."""
    if kind not in Proposal.Kind.values:
        raise InvalidProposal(_("Choose what you propose."), field="kind")
    if kind in (Proposal.Kind.PLACES, Proposal.Kind.WEEKEND):
        allowed = (Weekday.SATURDAY, Weekday.SUNDAY) if kind == Proposal.Kind.WEEKEND else tuple(Weekday)
        if not weekdays or any(day not in allowed for day in weekdays):
            raise InvalidProposal(
                _("Choose Saturday, Sunday or both.") if kind == Proposal.Kind.WEEKEND else _("Choose the days."),
                field="weekdays",
            )
        if not places:
            raise InvalidProposal(_("Give the online places per session."), field="places")
        if kind == Proposal.Kind.WEEKEND and not (start_time and end_time and start_time < end_time):
            raise InvalidProposal(_("Give the session's start and end, the start first."), field="start_time")
        if starts_on is None:
            raise InvalidProposal(_("Give the first date of the change."), field="starts_on")
    elif not needed.strip():
        raise InvalidProposal(_("Say what is needed, and how many."), field="needed")
    if not reason.strip():
        raise InvalidProposal(_("Give the reason for this proposal."), field="reason")


def quota_change_of(proposal: Proposal) -> PlacesPerSession | WeekendSessions:
    """What an accepted quota or weekend proposal changes in the office's quota."""
    if proposal.kind == Proposal.Kind.PLACES:
        return PlacesPerSession(
            weekdays=tuple(proposal.weekdays), online=proposal.places, valid_from=proposal.starts_on
        )
    return WeekendSessions(
        name=_("Weekend service (evaluation %(period)s)")
        % {"period": f"{proposal.evaluation.round.period_from:%Y-%m}"},
        weekdays=tuple(proposal.weekdays),
        start=proposal.start_time,
        end=proposal.end_time,
        online=proposal.places,
        date_from=proposal.starts_on,
        date_to=proposal.starts_on + dt.timedelta(days=WEEKEND_PROGRAMME_DAYS),
    )


def accept_proposal(*, proposal_id: int, comment: str = "", actor=None, now: dt.datetime | None = None) -> Proposal:
    """Accept a proposal. A quota or weekend proposal becomes quota rules or a programme, and the
    office's slots are regenerated, in the same transaction: a change that would leave a slot
    fewer places than it has taken (quotas' ShrinkRefused) accepts nothing. The page shows the
    slot preview (planning.selectors.proposal_preview) before it calls this."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        proposal = _pending(proposal_id)
        if proposal.changes_quota:
            office = proposal.evaluation.office
            write_quota_change(office=office, change=quota_change_of(proposal))
            generate_horizon_slots(office_id=office.pk, now=now)
            proposal.applied_at = now
        _decide(proposal, Proposal.Decision.ACCEPTED, comment=comment, actor=actor, now=now)
    return proposal


def reject_proposal(*, proposal_id: int, comment: str, actor=None, now: dt.datetime | None = None) -> Proposal:
    if not comment.strip():
        raise InvalidProposal(_("Say why the proposal is rejected."), field="comment")
    with transaction.atomic(durable=True):
        proposal = _pending(proposal_id)
        _decide(proposal, Proposal.Decision.REJECTED, comment=comment, actor=actor, now=now or timezone.now())
    return proposal


def _pending(proposal_id: int) -> Proposal:
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("evaluation__office", "evaluation__round")
        .get(pk=proposal_id)
    )
    if proposal.decision != Proposal.Decision.PENDING:
        raise AlreadyDecided()
    return proposal


def _decide(proposal: Proposal, decision: str, *, comment: str, actor, now: dt.datetime) -> None:
    proposal.decision = decision
    proposal.comment = comment.strip()
    proposal.decided_by = actor
    proposal.decided_at = now
    proposal.save(update_fields=["decision", "comment", "decided_by", "decided_at", "applied_at"])


def remind_late_offices(*, now: dt.datetime | None = None) -> int:
    """One e-mail a day to the heads of each office whose evaluation is past its due date and
    not submitted. Returns the number of evaluations reminded."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reminded = 0
    late = OfficeEvaluation.objects.filter(submitted_at__isnull=True, round__due_on__lt=today).exclude(
        last_reminded_on=today
    )
    for evaluation_id in late.values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            evaluation = (
                late.select_for_update(of=("self",)).select_related("round__region", "office").filter(pk=evaluation_id)
            ).first()
            if evaluation is None:  # submitted or reminded meanwhile
                continue
            heads = StaffMembership.objects.filter(
                office=evaluation.office, role=StaffMembership.Role.HEAD, user__is_active=True
            ).values_list("user__email", "user__language")
            queue_reminders(evaluation=evaluation, recipients=list(heads))
            evaluation.last_reminded_on = today
            evaluation.save(update_fields=["last_reminded_on"])
            reminded += 1
    return reminded
