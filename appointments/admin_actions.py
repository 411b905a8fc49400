"""The application admin's status actions: each calls a service per selected application, on
the offices the user serves; the refused ones are listed with their reason."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError
from offices import permissions

from .models import Status
from .services import counter, lifecycle


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 3}), strip=True)


class StatusActionsMixin:
    """For ApplicationAdmin: its `actions`."""

    actions = [
        "check_in",
        "start_processing",
        "approve",
        "reject",
        "mark_issued",
        "mark_collected",
        "mark_no_show",
        "cancel",
    ]

    def _run(self, request, queryset, service, done_message, **kwargs):
        serve_ids = permissions.office_ids(permissions.counter_offices(request.user))
        done, failed = 0, []
        for application in queryset.select_related("slot"):
            if application.slot.office_id not in serve_ids:
                failed.append(f"{application.booking_code}: {gettext('not your office')}")
                continue
            try:
                service(application_id=application.pk, actor=request.user, **kwargs)
                done += 1
            except DomainError as exc:
                failed.append(f"{application.booking_code}: {exc.message}")
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    def _transition(self, to):
        def service(*, application_id, actor, reason=""):
            return lifecycle.change_status(application_id=application_id, to=to, actor=actor, reason=reason)

        return service

    def _with_reason(self, request, queryset, *, action, title, service, done_message):
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                self._run(request, queryset, service, done_message, reason=form.cleaned_data["reason"])
                return None
        else:
            form = ReasonForm()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "applications": queryset,
            "action": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/appointments/application/reason_form.html", context)

    @admin.action(description=_("Check in"), permissions=["serve"])
    def check_in(self, request, queryset):
        self._run(request, queryset, counter.check_in_application, gettext("%(count)s application(s) checked in."))

    @admin.action(description=_("Start processing"), permissions=["serve"])
    def start_processing(self, request, queryset):
        self._run(
            request, queryset, self._transition(Status.IN_PROCESS), gettext("%(count)s application(s) in process.")
        )

    @admin.action(description=_("Approve"), permissions=["serve"])
    def approve(self, request, queryset):
        self._run(request, queryset, self._transition(Status.APPROVED), gettext("%(count)s application(s) approved."))

    @admin.action(description=_("Reject, with a reason"), permissions=["serve"])
    def reject(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            action="reject",
            title=gettext("Reject applications"),
            service=self._transition(Status.REJECTED),
            done_message=gettext("%(count)s application(s) rejected."),
        )

    @admin.action(description=_("Mark printed (ready to collect)"), permissions=["serve"])
    def mark_issued(self, request, queryset):
        self._run(request, queryset, self._transition(Status.ISSUED), gettext("%(count)s passport(s) marked printed."))

    @admin.action(description=_("Mark collected"), permissions=["serve"])
    def mark_collected(self, request, queryset):
        self._run(
            request, queryset, self._transition(Status.COLLECTED), gettext("%(count)s passport(s) marked collected.")
        )

    @admin.action(description=_("Mark no-show"), permissions=["serve"])
    def mark_no_show(self, request, queryset):
        self._run(request, queryset, counter.mark_no_show, gettext("%(count)s application(s) marked no-show."))

    @admin.action(description=_("Cancel, with a reason"), permissions=["serve"])
    def cancel(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            action="cancel",
            title=gettext("Cancel applications"),
            service=lifecycle.cancel_application,
            done_message=gettext("%(count)s application(s) cancelled."),
        )
