"""A round as XLSX: one sheet of offices (what each stated, its capacity), one of proposals."""

import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from mpaspor.spreadsheets import spreadsheet_safe
from offices.models import OfficeResources
from offices.services import RESOURCE_FIELDS
from quotas.models import Weekday
from reports.capacity import office_capacities

from .models import EvaluationRound, Proposal


def round_xlsx_response(evaluation_round: EvaluationRound) -> HttpResponse:
    evaluations = list(evaluation_round.evaluations.select_related("office"))
    capacities = office_capacities(
        offices=[e.office for e in evaluations],
        date_from=evaluation_round.period_from,
        date_to=evaluation_round.period_to,
    )
    workbook = Workbook()
    offices = workbook.active
    offices.title = _("Offices")
    _heading(
        offices,
        [_("Office"), _("Submitted at"), _("Service counters")]
        + [str(_field_label(name)) for name in RESOURCE_FIELDS]
        + [_("Applications the office can serve per day"), _("Bottleneck step")],
    )
    for evaluation in evaluations:
        capacity = capacities[evaluation.office_id]
        offices.append(
            _safe(
                [
                    evaluation.office.name,
                    evaluation.submitted_at.replace(tzinfo=None) if evaluation.submitted_at else None,
                ]
                + [evaluation.stated.get(name) for name in ("counters", *RESOURCE_FIELDS)]
                + [capacity.per_day, capacity.bottleneck.label if capacity.bottleneck else None]
            )
        )
    proposals = workbook.create_sheet(_("Proposals"))
    _heading(
        proposals,
        [
            _("Office"),
            _("Proposal"),
            _("Days"),
            _("Online places per session"),
            _("From"),
            _("What is needed"),
            _("Reason"),
            _("Decision"),
            _("Comment"),
        ],
    )
    for proposal in Proposal.objects.filter(evaluation__round=evaluation_round).select_related("evaluation__office"):
        proposals.append(
            _safe(
                [
                    proposal.evaluation.office.name,
                    proposal.get_kind_display(),
                    ", ".join(str(Weekday(day).label) for day in proposal.weekdays),
                    proposal.places,
                    proposal.starts_on,
                    proposal.needed,
                    proposal.reason,
                    proposal.get_decision_display(),
                    proposal.comment,
                ]
            )
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="mpaspor-evaluation-{evaluation_round.pk}.xlsx"'
    return response


def _field_label(name: str):
    return OfficeResources._meta.get_field(name).verbose_name


def _heading(sheet, labels) -> None:
    sheet.append([str(label) for label in labels])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


def _safe(cells: list) -> list:
    return [spreadsheet_safe(cell) for cell in cells]
