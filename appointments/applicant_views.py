"""The applicant's pages for one application's life (detail, pay, reschedule, come earlier,
cancel) and the account's people. Thin: parse, call one service or selector, render."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mpaspor.errors import DomainError

from . import gateway, selectors
from .applicant_forms import EarlierVisitForm, PersonForm, RescheduleForm
from .ics import appointment_ics
from .models import ACTIVE_STATUSES, Status
from .services import earlier, lifecycle
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


def life_context(application, *, earlier_form=None) -> dict:
    """What the application's page (views.confirmation) shows of its life: the status history
    and whether the applicant may pay (development gateway), change the date, ask to come earlier
    (`earlier_form`, with its refusal when earlier_visit gives it back) or cancel."""
    now = timezone.now()
    can_ask_earlier = allowed(earlier.check_earlier, application=application, now=now)
    if can_ask_earlier and earlier_form is None:
        earlier_form = earlier_visit_form(application, now=now)
    return {
        "events": selectors.application_events(application=application),
        "can_pay": application.status == Status.PENDING_PAYMENT and gateway.dev_gateway_enabled(),
        "can_reschedule": allowed(lifecycle.check_reschedule, application=application, now=now),
        "can_ask_earlier": can_ask_earlier,
        "earlier_form": earlier_form,
        "can_cancel": allowed(lifecycle.check_cancel, application=application, now=now),
    }


def earlier_visit_form(application, *, now, data=None) -> EarlierVisitForm:
    """The date from which the household can come: from tomorrow to the day before the visit."""
    first, last = earlier.dates_to_ask(application=application, now=now)
    return EarlierVisitForm(data, first=first, last=last)


def confirmation_context(application, *, earlier_form=None, **outcome) -> dict:
    """The application's page (views.confirmation): its ticket, documents and life; `outcome`,
    the last upload's refusal (document_views.upload, without JavaScript); `earlier_form`, the
    refused request to come earlier (earlier_visit)."""
    return {
        "application": application,
        "office": application.slot.office,
        # A cancelled or expired booking's QR code must not get anyone through the door.
        "show_qr": application.status in ACTIVE_STATUSES,
        "express_check_in_by": selectors.express_check_in_by(application=application),
        **documents_context(application, **outcome),
        **life_context(application, earlier_form=earlier_form),
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
@require_POST
def earlier_visit(request, booking_code):
    """Ask to be moved to an earlier date from a chosen day on (the household on this session
    together), or stop asking ("stop"). A date the form or the service refuses comes back beside
    the field; any other refusal as a message."""
    application = own_application(request, booking_code)
    if "stop" in request.POST:
        try:
            stopped = earlier.stop_earlier(application_id=application.pk, account=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if stopped:
                messages.success(request, _("You no longer wait for an earlier date."))
            else:
                messages.info(request, _("You were not waiting for an earlier date."))
        return redirect("appointments:confirmation", booking_code=booking_code)
    now = timezone.now()
    try:
        earlier.check_earlier(application=application, now=now)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("appointments:confirmation", booking_code=booking_code)
    form = earlier_visit_form(application, now=now, data=request.POST)
    if form.is_valid():
        date_from = form.cleaned_data["date_from"]
        try:
            household = earlier.ask_earlier(
                application_id=application.pk, account=request.user, date_from=date_from, now=now
            )
        except DomainError as error:
            if error.field not in form.fields:
                messages.error(request, error.message)
                return redirect("appointments:confirmation", booking_code=booking_code)
            form.add_error(error.field, error.message)
        else:
            messages.success(request, _asked_earlier_message(application, household, date_from))
            return redirect("appointments:confirmation", booking_code=booking_code)
    context = confirmation_context(application, earlier_form=form)
    return render(request, "appointments/confirmation.html", context, status=400)


def _asked_earlier_message(application, household, date_from: dt.date) -> str:
    """What the applicant reads after asking: the new date when a place was free at once."""
    mine = next(a for a in household if a.pk == application.pk)
    if mine.slot_id != application.slot_id:
        return _("A place was free: your appointment is now on %(visit)s.") % {
            "visit": office_time(mine.slot.starts_at, mine.slot.office)
        }
    return _(
        "Asked: as soon as a place comes free at this office from %(date)s on, you are moved there and told by message."
    ) % {"date": formats.date_format(date_from, "j F Y")}


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
