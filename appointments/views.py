"""The applicant's pages: thin; reads through selectors, writes through services."""

import calendar
import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.decorators import verified_email_required
from accounts.exceptions import AccountRestricted
from accounts.services import check_not_restricted
from mpaspor.errors import DomainError
from mpaspor.ratelimits import rate_limit
from offices.models import PassportType
from offices.selectors import active_office, offices_by_region, passport_type_states, type_state_message
from quotas.selectors import DayState
from quotas.services.searches import record_availability_search

from . import selectors
from .applicant_views import allowed, confirmation_context, own_application
from .exceptions import DuplicateApplication
from .forms import ApplicationForm
from .services.booking import book_applications, payment_window
from .services.lifecycle import cancel_application, check_cancel


def home(request):
    rush = settings.RUSH_PAYMENT_MINUTES if settings.RELEASE_RUSH_MINUTES else None
    return render(request, "home.html", {"rush_payment_minutes": rush})


def _person_query(request) -> str:
    """The listed person a booking is for (?person=), kept from page to page up to the form."""
    person = request.GET.get("person", "")
    return f"person={person}" if person.isdigit() else ""


def offices(request):
    """The offices, by region; `?passport_type=` shows only those that issue that type."""
    passport_type = request.GET.get("passport_type", "")
    if passport_type not in PassportType.values:
        passport_type = ""
    return render(
        request,
        "appointments/offices.html",
        {
            "regions": offices_by_region(passport_type=passport_type or None),
            "person_query": _person_query(request),
            "passport_type": passport_type,
            "passport_types": PassportType.choices,
        },
    )


def _office_or_404(code: str):
    office = active_office(code=code)
    if office is None:
        raise Http404(_("No such office."))
    return office


@rate_limit("availability")
def office_calendar(request, code: str):
    office = _office_or_404(code)
    today = timezone.now().astimezone(office.tzinfo).date()
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        dt.date(year, month, 1)
    except ValueError:
        year, month = today.year, today.month
    month_view = selectors.month_calendar(office=office, year=year, month=month)
    if "month" not in request.GET and not month_view.has_bookable_day and month_view.next_month:
        # Late in a month nothing may be left: open on the next month instead of a grey page.
        next_view = selectors.month_calendar(
            office=office, year=month_view.next_month.year, month=month_view.next_month.month
        )
        if next_view.has_bookable_day:
            month_view = next_view
    month_end = month_view.month.replace(day=calendar.monthrange(month_view.month.year, month_view.month.month)[1])
    record_availability_search(
        office=office,
        date_from=max(month_view.month, today),
        date_to=month_end,
        found_free=month_view.has_free_day,
    )
    return render(
        request,
        "appointments/calendar.html",
        {
            "office": office,
            "cal": month_view,
            "DayState": DayState,
            "person_query": _person_query(request),
            "type_notes": [type_state_message(state) for state in passport_type_states(office=office) if state.reason],
        },
    )


@rate_limit("availability")
def office_day(request, code: str, date: str):
    office = _office_or_404(code)
    try:
        day_date = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise Http404(_("No such date.")) from exc
    day = selectors.office_day(office=office, date=day_date)
    sessions = [s for s in day.sessions if s.available] if day.state == DayState.FREE else []
    return render(
        request,
        "appointments/day.html",
        {
            "office": office,
            "day": day,
            "sessions": sessions,
            "DayState": DayState,
            "is_past": day_date < selectors.office_today(office=office),
            "is_today": day_date == selectors.office_today(office=office),
            "person_query": _person_query(request),
        },
    )


@verified_email_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking")
def book(request, slot_id: int):
    slot = selectors.bookable_slot(slot_id=slot_id)
    if slot is None:
        raise Http404(_("This session does not exist."))
    initial = {
        "full_name": request.user.full_name,
        "phone": request.user.phone,
        "passport_type": "electronic",
        "validity_years": 10,
        "application_kind": "new",
    }
    # The person picker: one of the account's people fills in the applicant's data.
    people = selectors.account_people(account=request.user)
    person_id = (request.POST if request.method == "POST" else request.GET).get("person", "")
    person = next((p for p in people if str(p.pk) == person_id), None)
    if person is not None:
        initial.update(
            nik=person.nik,
            full_name=person.full_name,
            birth_date=person.birth_date,
            sex=person.sex,
            phone=person.phone or request.user.phone,
            married=person.married,
        )
    form = ApplicationForm(request.POST or None, initial=initial, fees=selectors.fees_in_force(on=slot.date))
    try:  # a restricted account is told before it fills in the form (the booking refuses it too)
        check_not_restricted(account=request.user, now=timezone.now())
        restriction = None
    except AccountRestricted as exc:
        restriction = exc.message
    contest_nik = False
    if request.method == "POST" and form.is_valid():
        try:
            (application,) = book_applications(
                account=request.user,
                slot_id=slot.pk,
                people=[form.person_booking(person_id=person.pk if person else None)],
                language=get_language() or "id",
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            contest_nik = isinstance(exc, DuplicateApplication)  # the refusal says how; here is the way
        else:
            return redirect("appointments:confirmation", booking_code=application.booking_code)
    return render(
        request,
        "appointments/book.html",
        {
            "form": form,
            "slot": slot,
            "office": slot.office,
            "slot_state": selectors.slot_state(slot),
            "DayState": DayState,
            "people": people,
            "person": person,
            "restriction": restriction,
            "contest_nik": contest_nik,
            "rush_payment_minutes": rush_payment_minutes(slot),
        },
    )


def rush_payment_minutes(slot) -> int | None:
    """The minutes to pay a hold made now, when the release rush shortens them (else None)."""
    window = payment_window(slot=slot, now=timezone.now())
    usual = dt.timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES)
    return int(window.total_seconds() // 60) if window < usual else None


@login_required
def confirmation(request, booking_code: str):
    application = own_application(request, booking_code)
    return render(request, "appointments/confirmation.html", confirmation_context(application))


@login_required
def my_applications(request):
    applications = list(selectors.account_applications(account=request.user))
    now = timezone.now()
    for application in applications:
        application.can_cancel = allowed(check_cancel, application=application, now=now)
    return render(request, "appointments/my_applications.html", {"applications": applications})


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request, booking_code: str):
    application = own_application(request, booking_code)
    if request.method == "POST":
        if not allowed(check_cancel, application=application, now=timezone.now()):
            messages.error(request, _("This application can no longer be cancelled."))
            return redirect("appointments:my_applications")
        try:
            cancel_application(application_id=application.pk, actor=request.user, reason="cancelled by the applicant")
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Application %(code)s is cancelled and its place given back.") % {"code": application.booking_code},
            )
        return redirect("appointments:my_applications")
    return render(
        request,
        "appointments/cancel.html",
        {
            "application": application,
            "office": application.slot.office,
            "can_cancel": allowed(check_cancel, application=application, now=timezone.now()),
        },
    )
