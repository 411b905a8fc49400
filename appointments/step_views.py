"""The steps of an application at the office, timed at the counter (docs/capacity.md): a desk
scans the booking code, chooses the step, and presses Start, then Finish."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mpaspor.errors import DomainError

from . import selectors
from .exceptions import ApplicationNotFound
from .models import Step
from .services.steps import finish_step, start_step
from .staff_forms import StepForm
from .staff_views import current_office


@login_required
def steps(request):
    office = current_office(request)
    if office is None:
        return redirect("staff:choose_office")
    form = StepForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                application = selectors.find_application_for_counter(office=office, booking_code=data["code"])
                if application is None:
                    raise ApplicationNotFound(
                        _("No booking with the code %(code)s at this office."), code=data["code"].strip()
                    )
                record = (start_step if data["action"] == "start" else finish_step)(
                    application_id=application.pk, office_id=office.pk, step=data["step"], actor=request.user
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                done = (
                    _("%(step)s of %(name)s started.")
                    if record.finished_at is None
                    else _("%(step)s of %(name)s finished in %(minutes)s minutes.")
                )
                messages.success(
                    request,
                    done
                    % {
                        "step": Step(record.step).label,
                        "name": application.full_name,
                        "minutes": round(record.minutes or 0, 1),
                    },
                )
                return redirect("staff:steps")
    day = selectors.office_today(office=office)
    return render(
        request,
        "appointments/staff/steps.html",
        {
            "office": office,
            "day": day,
            "form": form,
            "in_progress": selectors.steps_in_progress(office=office, day=day),
        },
        status=400 if form.errors else 200,
    )
