"""The day's queue for an office's staff (call the next number to a desk, recall, served, no
answer) and the waiting-room screen, opened by its unguessable address without a login."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mpaspor.errors import DomainError

from . import selectors
from .exceptions import InvalidInput
from .services import queue as queue_services
from .staff_views import answer, current_office

DESK_KEY = "counter_desk"


def _desk(request, office) -> int:
    """The desk this browser works at (chosen with "call next"), or the office's first."""
    desk = request.session.get(DESK_KEY)
    return desk if desk in queue_services.desks_of(office) else 1


def _context(request, office):
    day = selectors.office_today(office=office)
    desk = _desk(request, office)
    queue = selectors.counter_queue(office=office, day=day)
    return {
        "office": office,
        "day": day,
        "desk": desk,
        "desks": queue_services.desks_of(office),
        "queue": queue,
        "at_desk": [a for a in queue.called if a.desk == desk],
        "at_other_desks": [a for a in queue.called if a.desk != desk],
    }


def _posted_desk(request) -> int:
    try:
        return int(request.POST.get("desk", ""))
    except ValueError:
        raise InvalidInput(_("Choose your desk from the list."), field="desk") from None


def _answer(request, office, *, ok, message, status=200, number=""):
    return answer(
        request,
        ok=ok,
        message=message,
        status=status,
        number=number,
        page="staff:queue",
        live_template="appointments/staff/_queue_live.html",
        live_context=lambda: _context(request, office),
    )


@login_required
def queue(request):
    office = current_office(request)
    if office is None:
        return redirect("staff:choose_office")
    context = _context(request, office)
    key = queue_services.display_key_of(office_id=office.pk)
    context["screen_url"] = request.build_absolute_uri(reverse("staff:screen", args=[key]))
    return render(request, "appointments/staff/queue.html", context)


@login_required
@require_POST
def call_next(request):
    office = current_office(request)
    if office is None:
        return redirect("staff:choose_office")
    try:
        desk = _posted_desk(request)
        application = queue_services.call_next(office_id=office.pk, desk=desk, actor=request.user)
    except DomainError as exc:
        return _answer(request, office, ok=False, message=exc.message, status=exc.http_status)
    request.session[DESK_KEY] = desk
    if application is None:
        return _answer(request, office, ok=True, message=_("Nobody is waiting."))
    message = _("%(number)s called to desk %(desk)s: %(name)s.") % {
        "number": application.queue_number,
        "desk": desk,
        "name": application.full_name,
    }
    return _answer(request, office, ok=True, message=message, number=application.queue_number)


# What each action on one number does, and what it says when done.
ACTIONS = {
    "recall": (queue_services.recall, gettext_lazy("%(number)s called again to desk %(desk)s: %(name)s.")),
    "served": (queue_services.mark_served, gettext_lazy("%(number)s served: %(name)s.")),
    "no_answer": (queue_services.mark_no_answer, gettext_lazy("%(number)s did not answer: set aside (%(name)s).")),
}


@login_required
@require_POST
def queue_action(request, application_id: int, action: str):
    office = current_office(request)
    if office is None:
        return redirect("staff:choose_office")
    if action not in ACTIONS:
        raise Http404
    service, done = ACTIONS[action]
    extra = {"desk": _desk(request, office)} if action == "recall" else {}
    try:
        application = service(application_id=application_id, office_id=office.pk, actor=request.user, **extra)
    except DomainError as exc:
        return _answer(request, office, ok=False, message=exc.message, status=exc.http_status)
    message = str(done) % {"number": application.queue_number, "desk": application.desk, "name": application.full_name}
    return _answer(request, office, ok=True, message=message)


@login_required
@require_POST
def replace_screen_address(request):
    office = current_office(request)
    if office is None:
        return redirect("staff:choose_office")
    queue_services.replace_display_key(office_id=office.pk)
    return _answer(request, office, ok=True, message=_("The screen has a new address; the old one no longer works."))


def screen(request, key: str):
    """The waiting-room screen: no login (it runs on a TV in a public room); the key in the
    address is the only way in, and the page shows queue numbers and desks only."""
    screen = selectors.queue_screen(key=key, now=timezone.now())
    if screen is None:
        raise Http404
    template = (
        "appointments/staff/_screen_live.html"
        if request.headers.get("HX-Request")
        else "appointments/staff/screen.html"
    )
    response = render(request, template, {"screen": screen, "key": key})
    response["X-Robots-Tag"] = "noindex"
    return response
