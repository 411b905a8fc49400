"""Supporting documents on the pages: the applicant's upload and files, the counter's list with
its check, and the files themselves, sent only through these views (docs/documents.md).

Thin: each view finds the document through a selector that scopes it (the account's own, or an
office the user serves: anything else is a 404) and calls one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mpaspor.errors import DomainError

from . import selectors
from .applicant_forms import DocumentReviewForm, DocumentUploadForm
from .applicant_views import confirmation_context, documents_context, own_application
from .exceptions import InvalidInput
from .services.documents import document_storage, record_document_view, review_document, upload_document


def _scripted(request) -> bool:
    """An upload sent by documents.js, which shows progress and swaps in the answer's section."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


@login_required
@require_POST
def upload(request, booking_code: str):
    application = own_application(request, booking_code)
    form = DocumentUploadForm(request.POST, request.FILES)
    code = request.POST.get("requirement", "")
    if form.is_valid():
        sent = form.cleaned_data["file"]
        try:
            upload_document(
                application=application,
                requirement_code=form.cleaned_data["requirement"],
                file=sent,
                file_name=sent.name,
            )
        except DomainError as error:
            outcome, status = {"upload_error": error.message}, error.http_status
        else:
            outcome, status = {"upload_ok": _("Sent. The counter checks it at your visit.")}, 200
    else:
        error = form.errors.get("file") or form.errors.get("requirement")
        outcome, status = {"upload_error": error[0]}, 400
    if _scripted(request):
        context = documents_context(application, outcome_code=code, **outcome)
        return render(request, "appointments/_documents.html", context, status=status)
    if status == 200:
        messages.success(request, outcome["upload_ok"])
        return redirect(reverse("appointments:confirmation", args=[application.booking_code]) + "#documents")
    # Without JavaScript the page comes back with the refusal beside the document it concerns.
    context = confirmation_context(application, outcome_code=code, **outcome)
    return render(request, "appointments/confirmation.html", context, status=status)


def file_response(document) -> FileResponse:
    """The file itself, for a document the caller has found through a scoping selector."""
    try:
        handle = document_storage().open(document.storage_name, "rb")
    except FileNotFoundError as exc:
        raise Http404(_("No such document.")) from exc
    response = FileResponse(handle, content_type=document.content_type, filename=document.original_name)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def own_file(request, booking_code: str, document_id: int):
    document = selectors.own_document(account=request.user, booking_code=booking_code, document_id=document_id)
    if document is None:
        raise Http404(_("No such document."))
    return file_response(document)


# --- The counter ------------------------------------------------------------------------------


@login_required
@require_GET
def counter_documents(request, application_id: int):
    application = selectors.counter_application(user=request.user, application_id=application_id)
    if application is None:
        raise Http404(_("No such application."))
    return render(
        request,
        "appointments/staff/documents.html",
        {
            "application": application,
            "office": application.slot.office,
            "checklist": selectors.document_checklist(application=application),
        },
    )


@login_required
@require_GET
def counter_file(request, document_id: int):
    document = selectors.counter_document(user=request.user, document_id=document_id)
    if document is None:
        raise Http404(_("No such document."))
    record_document_view(document=document, office_id=document.application.slot.office_id, viewer=request.user)
    return file_response(document)


@login_required
@require_POST
def counter_review(request, document_id: int):
    document = selectors.counter_document(user=request.user, document_id=document_id)
    if document is None:
        raise Http404(_("No such document."))
    form = DocumentReviewForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(next(iter(form.errors.values()))[0])
        accepted = form.cleaned_data["decision"] == "accept"
        review_document(
            document_id=document.pk, accepted=accepted, reason=form.cleaned_data["reason"], actor=request.user
        )
    except DomainError as error:
        messages.error(request, f"{document.original_name}: {error.message}")
    else:
        done = _("%(name)s accepted.") if accepted else _("%(name)s rejected: the applicant is asked to send it again.")
        messages.success(request, done % {"name": document.original_name})
    return redirect(reverse("staff:documents", args=[document.application_id]) + f"#document-{document.pk}")
