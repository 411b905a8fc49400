"""Pages of the waiting list: join (with the nearest offices that have places, when this one is
full), my waiting list with its offers, accept, decline, leave."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import verified_email_required
from appointments.exceptions import DuplicateApplication
from mpaspor.errors import DomainError
from mpaspor.ratelimits import rate_limit
from offices.selectors import active_office

from .people import HouseholdFormSet, people_of
from .selectors_waiting import account_waiting, nearby_offices, office_has_free_places
from .services.offers import accept_offer, decline_offer, leave_waiting_list
from .services.waiting import MAX_WAITING_DAYS, join_waiting_list

DEFAULT_RANGE_DAYS = 14


class WaitingRangeForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=gettext_lazy("Until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


def _household_size(request) -> int:
    try:
        return min(max(int(request.GET.get("people", "1")), 1), 5)
    except ValueError:
        return 1


@verified_email_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking")
def join(request, code: str):
    office = active_office(code=code)
    if office is None:
        raise Http404(_("No such office."))
    today = timezone.now().astimezone(office.tzinfo).date()
    initial_from = _date_param(request, "from", today=today) or today
    range_form = WaitingRangeForm(
        request.POST or None,
        initial={
            "date_from": initial_from,
            "date_to": _date_param(request, "to", today=today)
            or initial_from + dt.timedelta(days=DEFAULT_RANGE_DAYS - 1),
        },
    )
    person = {"full_name": request.user.full_name, "phone": request.user.phone, "passport_type": "electronic"}
    person |= {"validity_years": 10, "application_kind": "new"}
    household = HouseholdFormSet(request.POST or None, prefix="person", initial=[person] * _household_size(request))
    contest_nik = False
    if request.method == "POST" and range_form.is_valid() and household.is_valid():
        try:
            join_waiting_list(
                account=request.user,
                office_id=office.pk,
                date_from=range_form.cleaned_data["date_from"],
                date_to=range_form.cleaned_data["date_to"],
                people=people_of(household),
                language=get_language() or "id",
            )
        except DomainError as exc:
            range_form.add_error(exc.field if exc.field in range_form.fields else None, exc.message)
            contest_nik = isinstance(exc, DuplicateApplication)  # the refusal says how; here is the way
        else:
            messages.success(request, _("You are on the waiting list. We will tell you when a place is offered."))
            return redirect("allocation:my_waiting")
    dates = range_form.cleaned_data if range_form.is_bound and range_form.is_valid() else range_form.initial
    full = not office_has_free_places(office=office, date_from=dates["date_from"], date_to=dates["date_to"])
    nearby = nearby_offices(office=office, date_from=dates["date_from"], date_to=dates["date_to"]) if full else []
    return render(
        request,
        "allocation/join.html",
        {
            "office": office,
            "range_form": range_form,
            "household": household,
            "full": full,
            "nearby": nearby,
            "more_people": min(household.total_form_count() + 1, 5),
            "contest_nik": contest_nik,
        },
    )


def _date_param(request, name: str, *, today: dt.date) -> dt.date | None:
    """A date from the query, only within the dates one may wait for (others are ignored)."""
    try:
        value = dt.date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if today <= value <= today + dt.timedelta(days=MAX_WAITING_DAYS) else None


@login_required
def my_waiting(request):
    return render(request, "allocation/my_waiting.html", {"rows": account_waiting(account=request.user)})


@login_required
@require_POST
def withdraw(request, waiting_id: int):
    try:
        leave_waiting_list(waiting_id=waiting_id, account=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You have left the waiting list."))
    return redirect("allocation:my_waiting")


@verified_email_required
@require_POST
@rate_limit("booking")
def accept(request, offer_id: int):
    try:
        applications = accept_offer(offer_id=offer_id, account=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("allocation:my_waiting")
    messages.success(request, _("The place is yours. Pay with the billing code before the deadline."))
    return redirect("appointments:confirmation", booking_code=applications[0].booking_code)


@login_required
@require_POST
def decline(request, offer_id: int):
    try:
        decline_offer(offer_id=offer_id, account=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Offer declined. You stay on the waiting list."))
    return redirect("allocation:my_waiting")
