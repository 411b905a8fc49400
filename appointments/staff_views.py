"""The day's counter: a page for an office's staff (check-in by code, walk-ins). The queue and the
waiting-room screen are in queue_views."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mpaspor.errors import DomainError
from offices import permissions
from offices.models import Office

from . import selectors
from .exceptions import ApplicationNotFound, InvalidInput
from .services.counter import check_in_application, register_walk_in
from .services.people import ApplicantData
from .staff_forms import CheckInForm, WalkInForm
from .templatetags.mpaspor import rupiah

SESSION_KEY = "counter_office_id"


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _staff_offices(request):
    offices = permissions.counter_offices(request.user).order_by("name")
    if not offices.exists():
        raise Http404
    return offices


def current_office(request) -> Office | None:
    """The office chosen for this browser session, or the only one the user serves."""
    offices = _staff_offices(request)
    office_id = request.session.get(SESSION_KEY)
    if office_id is not None:
        office = offices.filter(pk=office_id).first()
        if office:
            return office
    first_two = list(offices[:2])
    return first_two[0] if len(first_two) == 1 else None


def _context(request, office, *, walk_in_form=None):
    now = timezone.now()
    day = selectors.office_today(office=office, now=now)
    sessions = selectors.counter_sessions(office=office, day=day)
    open_sessions = [s for s in sessions if s.ends_at > now]
    return {
        "office": office,
        "day": day,
        "sessions": sessions,
        "has_walk_in_sessions": any(s.walk_in_slot_id for s in sessions),
        "check_in_form": CheckInForm(),
        "walk_in_form": walk_in_form or WalkInForm(sessions=open_sessions),
        "several_offices": permissions.counter_offices(request.user).count() > 1,
    }


def answer(
    request, *, ok: bool, message: str, status: int, page: str, live_template: str, live_context, number: str = ""
) -> HttpResponse:
    """The outcome of a counter action. With htmx: the message alone, which replaces the previous
    one in place (a refusal too: counter.js lets htmx swap these 4xx answers), and the page's live
    part refreshed beside it (`live_context()` builds its context); `number`, a queue number to
    show large. Without JavaScript: the message on the page `page`, after a redirect."""
    if not _htmx(request):
        (messages.success if ok else messages.error)(request, message)
        return redirect(page)
    context = {**live_context(), "result": {"ok": ok, "message": message, "number": number}}
    context["live_template"] = live_template
    return render(request, "appointments/staff/_answer.html", context, status=status)


@login_required
def counter(request):
    office = current_office(request)
    if office is None:
        return redirect("staff:choose_office")
    return render(request, "appointments/staff/counter.html", _context(request, office))


@login_required
def choose_office(request):
    offices = _staff_offices(request)
    if request.method == "POST":
        office = offices.filter(code=request.POST.get("office", "")).first()
        if office is None:
            raise Http404
        request.session[SESSION_KEY] = office.pk
        return redirect("staff:counter")
    return render(request, "appointments/staff/choose_office.html", {"offices": offices})


@login_required
@require_POST
def check_in(request):
    office = current_office(request)
    if office is None:
        return redirect("staff:choose_office")
    form = CheckInForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(form.errors["code"][0], field="code")
        code = form.cleaned_data["code"]
        application = selectors.find_application_for_counter(office=office, booking_code=code)
        if application is None:
            raise ApplicationNotFound(_("No booking with the code %(code)s at this office."), code=code.strip())
        application = check_in_application(application_id=application.pk, office_id=office.pk, actor=request.user)
    except DomainError as exc:
        ok, message, status, number = False, exc.message, exc.http_status, ""
    else:
        ok, status, number = True, 200, application.queue_number
        message = _("%(name)s checked in: queue number %(number)s.") % {
            "name": application.full_name,
            "number": application.queue_number,
        }
        if application.married_minor:
            message += " " + _("Declared married and under 17: check the marriage book.")
        check_in_by = selectors.missed_same_day_cut_off(application=application)
        if check_in_by:
            message += " " + _(
                "Same-day service: came after the check-in cut-off of %(time)s %(zone)s, "
                "so the passport cannot be issued today."
            ) % {"time": check_in_by.strftime("%H:%M"), "zone": office.timezone_label}
        message = format_html(
            '{} <a href="{}">{}</a>',
            message,
            reverse("staff:documents", args=[application.pk]),
            _("Check the documents"),
        )
    return answer(
        request,
        ok=ok,
        message=message,
        status=status,
        number=number,
        page="staff:counter",
        live_template="appointments/staff/_counter_live.html",
        live_context=lambda: _context(request, office),
    )


def _amount_to_pay(application) -> str:
    if application.fine:
        return _("To pay: %(amount)s (fee %(fee)s and fine %(fine)s).") % {
            "amount": rupiah(application.amount),
            "fee": rupiah(application.amount - application.fine),
            "fine": rupiah(application.fine),
        }
    if application.force_majeure:
        return _("To pay: %(amount)s (force majeure: no fine).") % {"amount": rupiah(application.amount)}
    return _("To pay: %(amount)s.") % {"amount": rupiah(application.amount)}


@login_required
def walk_in(request):
    office = current_office(request)
    if office is None:
        return redirect("staff:choose_office")
    if request.method != "POST":
        return redirect(reverse("staff:counter") + "#walk-in")
    now = timezone.now()
    day = selectors.office_today(office=office, now=now)
    open_sessions = [s for s in selectors.counter_sessions(office=office, day=day) if s.ends_at > now]
    form = WalkInForm(request.POST, sessions=open_sessions)
    if form.is_valid():
        data = form.cleaned_data
        try:
            application = register_walk_in(
                office_id=office.pk,
                slot_id=data["slot"],
                applicant=ApplicantData(
                    nik=data["nik"],
                    full_name=data["full_name"],
                    birth_date=data["birth_date"],
                    sex=data["sex"],
                    phone=data["phone"],
                    married=data["married"],
                ),
                kind=data["kind"],
                priority_group=data["priority_group"],
                passport_type=data["passport_type"],
                validity_years=data["validity_years"],
                express=data["express"],
                force_majeure=data["force_majeure"],
                actor=request.user,
                now=now,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            message = _("Walk-in registered: %(name)s, queue number %(number)s, booking code %(code)s.") % {
                "name": application.full_name,
                "number": application.queue_number,
                "code": application.booking_code,
            }
            message += " " + _amount_to_pay(application)
            if application.beyond_pool:
                message += " " + _("The priority pool was full: registered beyond it.")
            messages.success(request, message)
            return redirect("staff:counter")
    return render(request, "appointments/staff/counter.html", _context(request, office, walk_in_form=form), status=400)
