"""The evaluation rounds' pages: the division opens rounds and decides; heads submit."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mpaspor.errors import DomainError
from offices import permissions

from . import selectors, services
from .exports import round_xlsx_response
from .forms import DecisionForm, OpenRoundForm, ProposalForm, ResourcesForm
from .models import EvaluationRound, OfficeEvaluation, Proposal


@login_required
def index(request):
    regions = permissions.division_regions(request.user)
    rounds = selectors.division_rounds(user=request.user)
    evaluations = selectors.head_evaluations(user=request.user)
    if not permissions.takes_part_in_evaluations(request.user):
        raise PermissionDenied(_("Capacity evaluations are for office heads and regional divisions."))
    form = OpenRoundForm(request.POST or None, regions=regions)
    if request.method == "POST":
        if not regions.exists():
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            evaluation_round = services.open_round(
                region=data["region"],
                period_from=data["period_from"],
                period_to=data["period_to"],
                due_on=data["due_on"],
                actor=request.user,
            )
            messages.success(
                request,
                _("Evaluation round opened for the offices of %(region)s.") % {"region": evaluation_round.region.name},
            )
            return redirect("planning:round", round_id=evaluation_round.pk)
    return render(
        request,
        "planning/index.html",
        {"form": form if regions.exists() else None, "rounds": rounds, "evaluations": evaluations},
        status=400 if form.errors else 200,
    )


def _round_for_division(request, round_id: int) -> EvaluationRound:
    evaluation_round = get_object_or_404(selectors.division_rounds(user=request.user), pk=round_id)
    return evaluation_round


@login_required
def round_detail(request, round_id: int):
    evaluation_round = _round_for_division(request, round_id)
    evaluations = evaluation_round.evaluations.select_related("office").prefetch_related("proposals")
    return render(request, "planning/round.html", {"round": evaluation_round, "evaluations": evaluations})


@login_required
def round_export(request, round_id: int):
    return round_xlsx_response(_round_for_division(request, round_id))


def _evaluation(request, evaluation_id: int) -> tuple[OfficeEvaluation, bool, bool]:
    evaluation = get_object_or_404(OfficeEvaluation.objects.select_related("round__region", "office"), pk=evaluation_id)
    edits = selectors.can_edit(user=request.user, evaluation=evaluation)
    decides = selectors.can_decide(user=request.user, evaluation_round=evaluation.round)
    if not (edits or decides):
        raise Http404
    return evaluation, edits, decides


@login_required
def evaluation_detail(request, evaluation_id: int, *, resources_form=None, proposal_form=None, status=200):
    evaluation, edits, decides = _evaluation(request, evaluation_id)
    initial = selectors.current_resources(evaluation=evaluation)
    return render(
        request,
        "planning/evaluation.html",
        {
            "evaluation": evaluation,
            "edits": edits,
            "decides": decides,
            "figures": selectors.measured_figures(evaluation=evaluation),
            "resources_form": resources_form or ResourcesForm(initial=initial | {"note": evaluation.note}),
            "proposal_form": proposal_form or ProposalForm(),
            "proposals": evaluation.proposals.all(),
            "stated": [
                (field.label, evaluation.stated.get(field.name)) for field in ResourcesForm() if field.name != "note"
            ],
            "decision_form": DecisionForm(),
        },
        status=status,
    )


@login_required
@require_POST
def submit(request, evaluation_id: int):
    evaluation, edits, _decides = _evaluation(request, evaluation_id)
    if not edits:
        raise PermissionDenied
    form = ResourcesForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.submit_evaluation(
                evaluation_id=evaluation.pk,
                counters=data["counters"],
                resources=data,
                note=data["note"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Staff and facilities submitted for %(office)s.") % {"office": evaluation.office}
            )
            return redirect("planning:evaluation", evaluation_id=evaluation.pk)
    return evaluation_detail(request, evaluation_id, resources_form=form, status=400)


@login_required
@require_POST
def propose(request, evaluation_id: int):
    evaluation, edits, _decides = _evaluation(request, evaluation_id)
    if not edits:
        raise PermissionDenied
    form = ProposalForm(request.POST)
    if form.is_valid():
        try:
            services.add_proposal(evaluation_id=evaluation.pk, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Proposal added."))
            return redirect("planning:evaluation", evaluation_id=evaluation.pk)
    return evaluation_detail(request, evaluation_id, proposal_form=form, status=400)


def _proposal_to_decide(request, proposal_id: int) -> Proposal:
    proposal = get_object_or_404(
        Proposal.objects.select_related("evaluation__round__region", "evaluation__office"), pk=proposal_id
    )
    if not selectors.can_decide(user=request.user, evaluation_round=proposal.evaluation.round):
        raise Http404
    return proposal


@login_required
def accept(request, proposal_id: int):
    """A quota or weekend proposal shows its slot preview first; "Confirm" applies it."""
    proposal = _proposal_to_decide(request, proposal_id)
    form = DecisionForm(request.POST or None)
    confirmed = request.method == "POST" and (not proposal.changes_quota or "confirm" in request.POST)
    if confirmed and form.is_valid():
        try:
            services.accept_proposal(proposal_id=proposal.pk, comment=form.cleaned_data["comment"], actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Proposal accepted."))
        return redirect("planning:evaluation", evaluation_id=proposal.evaluation_id)
    plan = selectors.proposal_preview(proposal=proposal) if proposal.changes_quota else None
    return render(request, "planning/accept.html", {"proposal": proposal, "plan": plan, "form": form})


@login_required
@require_POST
def reject(request, proposal_id: int):
    proposal = _proposal_to_decide(request, proposal_id)
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        services.reject_proposal(
            proposal_id=proposal.pk, comment=form.cleaned_data.get("comment", ""), actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Proposal rejected."))
    return redirect("planning:evaluation", evaluation_id=proposal.evaluation_id)
