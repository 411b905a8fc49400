"""The applicant's pages for one application's life (detail, pay, reschedule, cancel) and the
account's people. Thin: parse, call one service or selector, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mpaspor.errors import DomainError

from . import gateway, selectors
from .applicant_forms import PersonForm, RescheduleForm
from .ics import appointment_ics
from .models import ACTIVE_STATUSES, Status
from .services import lifecycle
from .services.documents import documents_open
from .services.payments import record_payment
from .services.people import ApplicantData, add_applicant, remove_applicant
from .templatetags.mpaspor import office_time


def own_application(request, booking_code: str):
    """The signed-in account's application with this code; anyone else's is a 404."""
    application = selectors.account_application(account=request.user, booking_code=booking_code)
    if application is None:
        raise Http404(_("No such application."))
    return application


def allowed(check, **kwargs) -> bool:
    """Whether a service's check (check_cancel, check_reschedule) lets the applicant go on."""
    try:
        check(**kwargs)
    except DomainError:
        return False
    return True


def life_context(application) -> dict:
    """What the application's page (views.confirmation) shows of its life: the status history
    and whether the applicant may pay (development gateway), change the date or cancel."""
    now = timezone.now()
    return {
        "events": selectors.application_events(application=application),
        "can_pay": application.status == Status.PENDING_PAYMENT and gateway.dev_gateway_enabled(),
        "can_reschedule": allowed(lifecycle.check_reschedule, application=application, now=now),
        "can_cancel": allowed(lifecycle.check_cancel, application=application, now=now),
    }


def confirmation_context(application, **outcome) -> dict:
    """The application's page (views.confirmation): its ticket, documents and life; `outcome`,
    the last upload's refusal (document_views.upload, without JavaScript)."""
    return {
        "application": application,
        "office": application.slot.office,
        # A cancelled or expired booking's QR code must not get anyone through the door.
        "show_qr": application.status in ACTIVE_STATUSES,
        "express_check_in_by": selectors.express_check_in_by(application=application),
        **documents_context(application, **outcome),
        **life_context(application),
    }


def documents_context(application, **outcome) -> dict:
    """What the application's page shows of its documents; `outcome` is the last upload's
    (`upload_error` or `upload_ok`, for the document `outcome_code`)."""
    return {
        "application": application,
        "checklist": selectors.document_checklist(application=application),
        "documents_open": documents_open(application),
        "max_mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024),
        **outcome,
    }


@login_required
@require_http_methods(["GET", "POST"])
def pay_application(request, booking_code):
    """The development gateway: the applicant "pays" the billing code (DEBUG or PAYMENT_DEV_GATEWAY)."""
    if not gateway.dev_gateway_enabled():
        raise Http404
    application = own_application(request, booking_code)
    if request.method == "POST":
        try:
            notice = gateway.dev_notice(billing_code=application.billing_code, amount=application.amount)
            outcome = record_payment(notice=notice, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if outcome.result == "booked":
                messages.success(request, _("Payment received. Your appointment is booked."))
            else:
                messages.error(
                    request, _("The payment was recorded but could not book the appointment; it will be refunded.")
                )
        return redirect("appointments:confirmation", booking_code=booking_code)
    return render(request, "appointments/pay.html", {"application": application, "office": application.slot.office})


@login_required
@require_http_methods(["GET", "POST"])
def reschedule_application(request, booking_code):
    application = own_application(request, booking_code)
    office = application.slot.office
    now = timezone.now()
    try:
        lifecycle.check_reschedule(application=application, now=now)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("appointments:confirmation", booking_code=booking_code)
    options = selectors.reschedule_options(application=application, now=now)
    choices = [
        (
            slot.pk,
            f"{office_time(slot.starts_at, office, 'l, j F Y, H:i')} · "
            + _("%(n)s places left") % {"n": slot.available},
        )
        for slot in options
    ]
    form = RescheduleForm(request.POST or None, options=choices)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.reschedule_application(
                application_id=application.pk, slot_id=form.cleaned_data["slot"], actor=request.user
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("appointments:reschedule_application", booking_code=booking_code)
        messages.success(request, _("Your appointment has been moved."))
        return redirect("appointments:confirmation", booking_code=booking_code)
    return render(request, "appointments/reschedule.html", {"application": application, "office": office, "form": form})


@login_required
def calendar_file(request, booking_code):
    """The appointment as an .ics file for the applicant's calendar."""
    application = own_application(request, booking_code)
    response = HttpResponse(appointment_ics(application), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mpaspor-{application.booking_code}.ics"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def people(request):
    # "Myself": the form starts with the account holder's name and phone.
    initial = {"full_name": request.user.full_name, "phone": request.user.phone} if "myself" in request.GET else None
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            add_applicant(account=request.user, person=ApplicantData(**form.cleaned_data))
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Person added."))
            return redirect("appointments:people")
    people_list = selectors.account_people(account=request.user)
    return render(
        request,
        "appointments/people.html",
        {
            "people": people_list,
            "booked_people": selectors.booked_people_not_listed(account=request.user),
            "form": form,
            "myself": "myself" in request.GET,
            "limit": settings.MAX_APPLICANTS_PER_ACCOUNT,
            "full": len(people_list) >= settings.MAX_APPLICANTS_PER_ACCOUNT,
            "booking_url": reverse("appointments:offices"),
        },
    )


@login_required
@require_POST
def remove_person(request, person_id):
    try:
        remove_applicant(account=request.user, applicant_id=person_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Person removed."))
    return redirect("appointments:people")
