"""The applicant's pages of the fair release: an office's releases, entering, one's entries;
and the staff's page of a release. Thin: reads through selectors, writes through services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import verified_email_required
from appointments.exceptions import DuplicateApplication
from mpaspor.errors import DomainError
from mpaspor.ratelimits import rate_limit
from offices import permissions
from offices.selectors import active_office

from . import selectors
from .exceptions import AllocationError
from .forms import ChoicesForm
from .models import Entry
from .people import HouseholdFormSet, people_of
from .services.entries import enter_draw, withdraw_entry


def releases(request, code: str):
    office = active_office(code=code)
    if office is None:
        raise Http404(_("No such office."))
    now = timezone.now()
    rows = selectors.office_releases(office=office, now=now)
    for release in rows:
        release.is_open = release.is_open_for_entries(now)
    return render(request, "allocation/releases.html", {"office": office, "releases": rows})


def _household_size(request) -> int:
    size = request.GET.get("people", "1")
    return min(max(int(size), 1), 5) if size.isdigit() else 1


@verified_email_required
@rate_limit("draw_entry")
@require_http_methods(["GET", "POST"])
def enter(request, release_id: int):
    try:
        release = selectors.release_detail(release_id=release_id)
    except AllocationError as error:
        raise Http404(error.message) from error
    slots = selectors.release_sessions(release=release)
    size = _household_size(request)
    initial = [{"passport_type": "electronic", "validity_years": 10, "application_kind": "new"}] * size
    initial[0] = {**initial[0], "full_name": request.user.full_name, "phone": request.user.phone}
    household = HouseholdFormSet(request.POST or None, initial=initial, prefix="person")
    choices = ChoicesForm(request.POST or None, slots=slots)
    contest_nik = False
    if request.method == "POST" and household.is_valid() and choices.is_valid():
        try:
            enter_draw(
                account=request.user, release_id=release.pk, people=people_of(household), choices=choices.ranked()
            )
        except DomainError as error:
            choices.add_error(None, error.message)
            contest_nik = isinstance(error, DuplicateApplication)  # the refusal says how; here is the way
        else:
            messages.success(request, _("You are entered in the draw. We tell you the result after the draw."))
            return redirect("allocation:my_entries")
    return render(
        request,
        "allocation/enter.html",
        {
            "release": release,
            "office": release.office,
            "household": household,
            "choices": choices,
            "size": size,
            "is_open": release.is_open_for_entries(timezone.now()),
            "pay_hours": settings.DRAW_PAYMENT_HOURS,
            "contest_nik": contest_nik,
        },
    )


@login_required
def my_entries(request):
    entries = list(selectors.account_entries(account=request.user))
    now = timezone.now()
    for entry in entries:
        entry.can_withdraw = entry.status == Entry.Status.ENTERED and entry.release.is_open_for_entries(now)
    return render(request, "allocation/my_entries.html", {"entries": entries})


@login_required
@require_POST
def withdraw(request, entry_id: int):
    try:
        withdraw_entry(account=request.user, entry_id=entry_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your entry is withdrawn."))
    return redirect("allocation:my_entries")


@login_required
def staff_release(request, release_id: int):
    """A release for its office's staff (or their region's): entries per choice, the result,
    forfeits and unpaid winners."""
    try:
        release = selectors.release_detail(release_id=release_id)
    except AllocationError as error:
        raise Http404(error.message) from error
    if not permissions.visible_offices(request.user).filter(pk=release.office_id).exists():
        raise Http404
    return render(
        request,
        "allocation/staff_release.html",
        {"release": release, "office": release.office, **selectors.release_summary(release=release)},
    )
