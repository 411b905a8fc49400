"""NIK disputes on the pages: the owner's claim (applicant area) and the office's review (staff,
beside the counter). Thin: each staff view finds the dispute through a selector scoped to the
offices the user serves (anything else is a 404) and calls one service (docs/nik-disputes.md)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import verified_email_required
from mpaspor.errors import DomainError
from offices import permissions

from . import selectors
from .applicant_forms import NikDisputeDecisionForm, NikDisputeForm
from .exceptions import InvalidInput
from .models import ACTIVE_STATUSES, Status
from .services.disputes import decide_dispute, file_dispute, record_photo_view
from .services.documents import document_storage
from .services.lifecycle import ALLOWED_TRANSITIONS


@verified_email_required
@require_http_methods(["GET", "POST"])
def disputes(request):
    """The account's disputes and the form to contest a NIK."""
    form = NikDisputeForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                file_dispute(
                    account=request.user,
                    nik=form.cleaned_data["nik"],
                    birth_date=form.cleaned_data["birth_date"],
                    photo=form.cleaned_data["photo"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.http_status
            else:
                messages.success(
                    request,
                    _(
                        "Your dispute is sent. The office that holds the application reviews it; you will be told "
                        "the outcome by e-mail and on this page."
                    ),
                )
                return redirect("appointments:nik_disputes")
        else:
            status = 400
    context = {"form": form, "disputes": selectors.account_disputes(account=request.user)}
    return render(request, "appointments/nik_disputes.html", context, status=status)


# --- The office's review --------------------------------------------------------------------


def _dispute_or_404(request, dispute_id: int):
    dispute = selectors.office_dispute(user=request.user, dispute_id=dispute_id)
    if dispute is None:
        raise Http404(_("No such dispute."))
    return dispute


@login_required
@require_GET
def office_disputes(request):
    if not permissions.serves_at_a_counter(request.user):
        raise Http404
    return render(
        request,
        "appointments/staff/disputes.html",
        {
            "open_disputes": selectors.office_disputes(user=request.user),
            "decided": selectors.office_disputes(user=request.user, open_only=False),
        },
    )


@login_required
@require_GET
def office_dispute(request, dispute_id: int):
    dispute = _dispute_or_404(request, dispute_id)
    application = dispute.application
    return render(
        request,
        "appointments/staff/dispute.html",
        {
            "dispute": dispute,
            "application": application,
            "office": application.slot.office,
            "active": application.status in ACTIVE_STATUSES,
            "cancellable": Status.CANCELLED in ALLOWED_TRANSITIONS[application.status],
            "other_open": selectors.other_open_disputes(dispute=dispute),
        },
    )


@login_required
@require_GET
def dispute_photo(request, dispute_id: int):
    """The e-KTP photo, for the office's staff only; each opening is logged before it is sent."""
    dispute = _dispute_or_404(request, dispute_id)
    if not dispute.photo_name:  # deleted after its retention
        raise Http404(_("No such document."))
    try:
        handle = document_storage().open(dispute.photo_name, "rb")
    except FileNotFoundError as exc:
        raise Http404(_("No such document.")) from exc
    record_photo_view(dispute=dispute, viewer=request.user)
    extension = dispute.photo_name.rsplit(".", 1)[-1]
    response = FileResponse(handle, content_type=dispute.photo_type, filename=f"e-ktp-{dispute.pk}.{extension}")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def decide(request, dispute_id: int):
    dispute = _dispute_or_404(request, dispute_id)
    form = NikDisputeDecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(next(iter(form.errors.values()))[0])
        uphold = form.cleaned_data["decision"] == "uphold"
        decide_dispute(
            dispute_id=dispute.pk,
            uphold=uphold,
            actor=request.user,
            note=form.cleaned_data["note"],
            flag_account=form.cleaned_data["flag_account"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        done = (
            _("The dispute is upheld: the application is cancelled and its owner told.")
            if uphold
            else _("The dispute is rejected and its owner told why.")
        )
        messages.success(request, done)
    return redirect("staff:dispute", dispute_id=dispute.pk)
