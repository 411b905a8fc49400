"""Reads of the evaluation rounds: who may do what, the figures a head sees beside the
office's statement, and the slot preview of a quota proposal."""

from dataclasses import dataclass

from django.db.models import QuerySet

from offices import permissions
from offices.models import OfficeResources
from offices.services import RESOURCE_FIELDS
from quotas.preview import preview_change
from quotas.services.changes import write_quota_change
from quotas.services.generation import SlotPlan
from reports.capacity import OfficeCapacity
from reports.selectors import office_report

from .models import EvaluationRound, OfficeEvaluation, Proposal
from .services import quota_change_of


def division_rounds(*, user) -> QuerySet[EvaluationRound]:
    return EvaluationRound.objects.filter(region__in=permissions.division_regions(user)).select_related("region")


def head_evaluations(*, user) -> QuerySet[OfficeEvaluation]:
    """The evaluations of the offices whose head this user is (their quota offices)."""
    return (
        OfficeEvaluation.objects.filter(office__in=permissions.quota_offices(user))
        .select_related("round__region", "office")
        .order_by("-round__opened_at", "office__name")
    )


def can_edit(*, user, evaluation: OfficeEvaluation) -> bool:
    return permissions.quota_offices(user).filter(pk=evaluation.office_id).exists()


def can_decide(*, user, evaluation_round: EvaluationRound) -> bool:
    return permissions.division_regions(user).filter(pk=evaluation_round.region_id).exists()


@dataclass
class MeasuredFigures:
    """What the portal measured at the office over the round's period."""

    summary: dict
    capacity_row: dict
    capacity: OfficeCapacity


def measured_figures(*, evaluation: OfficeEvaluation) -> MeasuredFigures:
    report = office_report(
        offices=[evaluation.office], date_from=evaluation.round.period_from, date_to=evaluation.round.period_to
    )
    return MeasuredFigures(
        summary=report.summary[0],
        capacity_row=report.capacity[0],
        capacity=report.capacities[evaluation.office_id],
    )


def current_resources(*, evaluation: OfficeEvaluation) -> dict:
    """The office's staff and facilities now, to start the head's form from."""
    resources = OfficeResources.objects.filter(office_id=evaluation.office_id).first() or OfficeResources()
    return {"counters": evaluation.office.counter_count} | {name: getattr(resources, name) for name in RESOURCE_FIELDS}


def proposal_preview(*, proposal: Proposal) -> SlotPlan:
    """What accepting a quota or weekend proposal would do to the office's slots; nothing kept."""
    office = proposal.evaluation.office
    return preview_change(
        office=office, apply_change=lambda: write_quota_change(office=office, change=quota_change_of(proposal))
    )
