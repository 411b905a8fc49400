"""Quota management for office heads (and national staff), read-only for officers and the
regional division. A change that would cut below places already taken is refused with the
sessions concerned (quotas.guards)."""

import copy

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError
from offices import permissions
from offices.admin_scoping import OfficeScopedAdmin, ScopedHistoryAdmin, ServiceCheckedForm
from offices.models import Incident, Office

from . import calendar, guards, preview
from .exceptions import QuotaError
from .models import (
    DateOverride,
    Pool,
    ProgramSession,
    QuotaRule,
    ReleaseMode,
    ReleaseSchedule,
    SameDayService,
    ServiceProgram,
    Slot,
    SlotDrift,
    WalkInDay,
    Weekday,
)
from .services.generation import generate_horizon_slots
from .services.incidents import check_walk_in_day, switch_day_back_online, switch_day_to_walk_in


def _apply(instance, cleaned_data):
    """The object as it would be after this form: a copy, nothing saved."""
    new = copy.copy(instance)
    field_names = {f.name for f in instance._meta.concrete_fields}
    for name, value in cleaned_data.items():
        if name in field_names:
            setattr(new, name, value)
    return new


def _refuse_conflicts(conflicts) -> None:
    """A change that would cut below places taken becomes the form's validation error."""
    try:
        guards.raise_for(conflicts)
    except guards.CapacityBelowTaken as exc:
        raise ValidationError(exc.message, code=exc.code) from exc


class SlotPreviewMixin:
    """A "Preview slots" button on the change form: the edit, not saved, run through the slot
    generator in preview mode (quotas.preview); the page lists what would be created, changed
    and removed, and refuses what would cut below places taken. Its "Save" posts the same data
    to the normal form."""

    change_form_template = "admin/quotas/change_form_with_preview.html"

    def _url_name(self, view: str) -> str:
        """The name of one of this model's admin URLs: "change", "add", "preview", ..."""
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{view}"

    def get_urls(self):
        view = self.admin_site.admin_view(self.preview_view)
        return [
            path("add/preview/", view, name=self._url_name("preview_add")),
            path("<path:object_id>/preview/", view, name=self._url_name("preview")),
        ] + super().get_urls()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["preview_url"] = (
            reverse(f"admin:{self._url_name('preview')}", args=[object_id])
            if object_id
            else reverse(f"admin:{self._url_name('preview_add')}")
        )
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.regenerate_slots(request, office_id=form.instance.office_id)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self.regenerate_slots(request, office_id=obj.office_id)

    def regenerate_slots(self, request, *, office_id: int) -> None:
        """The office's slots follow a saved change at once, not at the nightly generation."""
        try:
            plan = generate_horizon_slots(office_id=office_id)
        except QuotaError as error:  # the form's guard refuses these first; say so if one slips by
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            gettext("Slots updated: %(created)s new, %(changed)s changed, %(removed)s removed.")
            % {"created": len(plan.create), "changed": len(plan.update), "removed": len(plan.remove)},
            messages.SUCCESS,
        )

    def preview_view(self, request, object_id=None):
        obj = None
        if object_id is not None:
            obj = self.get_object(request, object_id)
            if obj is None:
                raise Http404
        back = (
            reverse(f"admin:{self._url_name('change')}", args=[object_id])
            if obj
            else reverse(f"admin:{self._url_name('add')}")
        )
        if request.method != "POST":
            return HttpResponseRedirect(back)
        if not (self.has_change_permission(request, obj) if obj else self.has_add_permission(request)):
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(request.POST, request.FILES, instance=obj)
        form_valid = form.is_valid()
        new_object = self.save_form(request, form, change=obj is not None) if form_valid else form.instance
        formsets, _inlines = self._create_formsets(request, new_object, change=obj is not None)
        errors = [str(e) for e in form.non_field_errors()]
        errors += [
            f"{form.fields[name].label}: {' '.join(errs)}" for name, errs in form.errors.items() if name != "__all__"
        ]
        for formset in formsets:
            if not formset.is_valid():
                errors += [str(e) for e in formset.non_form_errors()]
                errors += [
                    " ".join(str(e) for e in f.non_field_errors()) for f in formset.forms if f.non_field_errors()
                ]
        plan = None
        if not errors:

            def apply_change():
                new_object.save()
                form.save_m2m()
                for formset in formsets:
                    formset.instance = new_object
                    formset.save()

            plan = preview.preview_change(office=new_object.office, apply_change=apply_change)
        rows = []
        if plan is not None:
            for label, changes in (
                (gettext("refused"), plan.conflicts),
                (gettext("new"), plan.create),
                (gettext("changed"), plan.update),
                (gettext("removed"), plan.remove),
            ):
                rows += [
                    {"label": label, "change": c, "pool": Pool(c.pool).label, "refused": changes is plan.conflicts}
                    for c in changes
                ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Preview of the slots"),
            "rows": rows,
            "object": obj,
            "plan": plan,
            "errors": errors,
            "post_items": [
                (k, v)
                for k, values in request.POST.lists()
                if k not in ("csrfmiddlewaretoken", "_preview")
                for v in values
            ],
            "save_url": back,
        }
        return TemplateResponse(request, "admin/quotas/slot_preview.html", context)


class QuotaRuleForm(forms.ModelForm):
    class Meta:
        model = QuotaRule
        fields = [
            "office",
            "weekday",
            "start_time",
            "end_time",
            "online_capacity",
            "priority_capacity",
            "walk_in_capacity",
            "valid_from",
            "valid_to",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not self.errors:
            old = QuotaRule.objects.select_related("office").get(pk=self.instance.pk)
            _refuse_conflicts(guards.rule_conflicts(old=old, new=_apply(old, cleaned)))
        return cleaned


@admin.register(QuotaRule)
class QuotaRuleAdmin(SlotPreviewMixin, ScopedHistoryAdmin):
    form = QuotaRuleForm
    list_display = [
        "office",
        "weekday",
        "session",
        "online_capacity",
        "priority_capacity",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["weekday", ("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    search_fields = ["office__name"]

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        # A rule whose sessions hold applications stays: shrink it to zero is refused too.
        return obj is None or not guards.rule_conflicts(old=obj, new=None)

    @admin.display(description=_("session"), ordering="start_time")
    def session(self, obj):
        return f"{obj.start_time:%H:%M}–{obj.end_time:%H:%M} {obj.office.timezone_label}"


class ProgramSessionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        program = self.instance
        if not program.pk or any(self.errors):
            return
        sessions = [
            _apply(form.instance, form.cleaned_data)
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        _refuse_conflicts(guards.program_session_conflicts(program=program, sessions_after=sessions))


class ProgramSessionInline(admin.TabularInline):
    model = ProgramSession
    formset = ProgramSessionFormSet
    extra = 1
    fields = ["start_time", "end_time", "online_capacity", "priority_capacity", "walk_in_capacity"]

    def _parent_admin(self):
        return self.admin_site._registry[ServiceProgram]

    def has_view_permission(self, request, obj=None):
        return self._parent_admin().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_admin().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._parent_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_admin().has_change_permission(request, obj)


# The kinds of application a programme may be limited to: the ones booked online. Their values
# are the application's own (appointments, above quotas, keeps the kinds; a test holds the two
# lists equal).
ONLINE_KIND_CHOICES = [
    ("new", _("New passport")),
    ("replacement_expired", _("Replacement: expired")),
    ("replacement_full", _("Replacement: pages full")),
]


class ServiceProgramForm(forms.ModelForm):
    """Weekdays and accepted kinds as checkboxes; stored as the JSON lists the generator reads."""

    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        coerce=int,
        choices=Weekday.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every day of the programme's dates."),
    )
    allowed_kinds = forms.MultipleChoiceField(
        label=_("Application kinds accepted"),
        choices=ONLINE_KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every kind booked online."),
    )

    class Meta:
        model = ServiceProgram
        fields = ["office", "name", "date_from", "date_to", "weekdays", "allowed_kinds", "opens_on_holidays"]

    def clean_weekdays(self):
        return sorted(self.cleaned_data["weekdays"])

    def clean_allowed_kinds(self):
        return sorted(self.cleaned_data["allowed_kinds"])


@admin.register(ServiceProgram)
class ServiceProgramAdmin(SlotPreviewMixin, ScopedHistoryAdmin):
    form = ServiceProgramForm
    inlines = [ProgramSessionInline]
    list_display = ["name", "office", "date_from", "date_to", "days", "opens_on_holidays"]
    list_filter = [("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    search_fields = ["name", "office__name"]

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or not guards.program_session_conflicts(program=obj, sessions_after=None)

    @admin.display(description=_("weekdays"))
    def days(self, obj):
        if not obj.weekdays:
            return gettext("every day")
        return ", ".join(str(Weekday(day).label) for day in sorted(obj.weekdays))


class DateOverrideForm(forms.ModelForm):
    class Meta:
        model = DateOverride
        fields = [
            "office",
            "date",
            "closed",
            "reason",
            "online_capacity",
            "priority_capacity",
            "walk_in_capacity",
            "express_capacity",
        ]

    def clean(self):
        cleaned = super().clean()
        office, day = cleaned.get("office"), cleaned.get("date")
        if office and day and not self.errors:
            _refuse_conflicts(guards.override_conflicts(office=office, day=day, new=_apply(self.instance, cleaned)))
        return cleaned


@admin.register(DateOverride)
class DateOverrideAdmin(SlotPreviewMixin, ScopedHistoryAdmin):
    form = DateOverrideForm
    list_display = ["office", "date", "closed", "reason", "online_capacity", "priority_capacity"]
    list_filter = ["closed", ("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    date_hierarchy = "date"


class SameDayServiceForm(forms.ModelForm):
    class Meta:
        model = SameDayService
        fields = ["office", "places_per_day", "check_in_by"]

    def clean(self):
        cleaned = super().clean()
        office = cleaned.get("office")
        taken = SameDayService.objects.filter(office=office).exclude(pk=self.instance.pk).exists()
        if office and not self.errors and not taken:  # one per office: the unique check says so
            # Fewer places a day than express applications hold on a date is refused, as the
            # slot generator would refuse it: its own preview answers.
            edited = _apply(self.instance, cleaned)
            plan = preview.preview_change(office=office, apply_change=edited.save)
            if plan.conflicts:
                raise ValidationError(
                    gettext("Refused: this change would cut below places already taken: %(slots)s.")
                    % {"slots": plan.conflict_summary()}
                )
        return cleaned


@admin.register(SameDayService)
class SameDayServiceAdmin(SlotPreviewMixin, ScopedHistoryAdmin):
    """Same-day service (percepatan): the office's express places per day and its check-in cut-off."""

    form = SameDayServiceForm
    list_display = ["office", "places_per_day", "check_in_by"]
    list_select_related = ["office"]


@admin.register(ReleaseSchedule)
class ReleaseScheduleAdmin(OfficeScopedAdmin):
    """Each kind of schedule has its own field: the form shows only the chosen kind's (a small
    script; without it, each field's section says which kind it belongs to)."""

    list_display = ["office", "kind", "mode", "rule", "release_time", "horizon_days"]
    list_select_related = ["office"]
    kind_fields = {
        ReleaseSchedule.Kind.ROLLING: ("days_before", _("Rolling schedule")),
        ReleaseSchedule.Kind.WEEKLY: ("weekday", _("Weekly schedule")),
        ReleaseSchedule.Kind.MONTHLY: ("day_of_month", _("Monthly schedule")),
    }

    class Media:
        js = ["js/release_schedule_admin.js"]

    readonly_fields = ["coming_releases"]

    def get_fieldsets(self, request, obj=None):
        own = {name for name, _title in self.kind_fields.values()}
        common = [name for name in self.get_form(request, obj, fields=None).base_fields if name not in own]
        return (
            [(None, {"fields": common})]
            + [
                (title, {"fields": [name], "classes": ["release-kind", f"release-kind-{kind}"]})
                for kind, (name, title) in self.kind_fields.items()
            ]
            + [(_("Preview"), {"fields": ["coming_releases"]})]
        )

    @admin.display(description=_("next six releases"))
    def coming_releases(self, obj):
        """The next six openings with the dates each opens and, in draw mode, its entry window,
        in the office's time (of the saved schedule)."""
        if obj is None or obj.pk is None:
            return gettext("Save the schedule to see its coming releases.")
        tz, label = obj.office.tzinfo, obj.office.timezone_label
        draw = obj.mode == ReleaseMode.DRAW
        rows = []
        for release in calendar.coming_releases(obj, timezone.now(), tz):
            line = gettext("%(at)s %(zone)s: sessions %(first)s to %(last)s") % {
                "at": f"{release.at:%Y-%m-%d %H:%M}",
                "zone": label,
                "first": release.first_day.isoformat(),
                "last": release.last_day.isoformat(),
            }
            if draw:
                line += " · " + gettext("entries from %(open)s %(zone)s, draw at the release") % {
                    "open": f"{release.entries_open_at.astimezone(tz):%Y-%m-%d %H:%M}",
                    "zone": label,
                }
            rows.append(line)
        return format_html_join(mark_safe("<br>"), "{}", ((row,) for row in rows))

    @admin.display(description=_("when"))
    def rule(self, obj):
        if obj.kind == ReleaseSchedule.Kind.WEEKLY:
            return gettext("every %(weekday)s for the following week") % {"weekday": obj.get_weekday_display()}
        if obj.kind == ReleaseSchedule.Kind.MONTHLY:
            return gettext("on day %(day)s for the following month") % {"day": obj.day_of_month}
        if obj.kind == ReleaseSchedule.Kind.LAST_WORKING_DAY:
            return gettext("on the last working day for the following month")
        if obj.kind == ReleaseSchedule.Kind.TWICE_MONTHLY:
            return gettext("on the 15th and the last day, each for half of the following month")
        return gettext("each date %(days)s days before") % {"days": obj.days_before}


@admin.register(Slot)
class SlotAdmin(ScopedHistoryAdmin):
    """Slots are made by the generator from the rules; staff read them (and their history)."""

    change_scope = None
    list_display = ["office", "session", "pool", "capacity", "taken_and_held", "available", "opens"]
    list_filter = ["pool", "date", ("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    date_hierarchy = "date"

    @admin.display(description=_("session"), ordering="starts_at")
    def session(self, obj):
        return f"{obj.local_start:%Y-%m-%d %H:%M}–{obj.local_end:%H:%M} {obj.office.timezone_label}"

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.available

    @admin.display(description=_("taken (held)"), ordering="taken")
    def taken_and_held(self, obj):
        # Held places are not public: given back while households waited, kept for their offers.
        if obj.held:
            return gettext("%(taken)s (+%(held)s held for the waiting list)") % {"taken": obj.taken, "held": obj.held}
        return obj.taken

    @admin.display(description=_("opens"), ordering="opens_at")
    def opens(self, obj):
        # In the office's zone, with its label, as every time staff read.
        return _office_time(obj.opens_at, obj.office)


@admin.register(SlotDrift)
class SlotDriftAdmin(OfficeScopedAdmin):
    """Drifts found by the reconciliation job: read-only evidence, for the offices in scope."""

    office_path = "slot__office"
    change_scope = None
    list_display = ["detected_at", "slot", "recorded_taken", "actual_taken", "corrected"]
    list_filter = ["corrected", ("slot__office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["slot__office"]
    date_hierarchy = "detected_at"
    search_fields = ["slot__office__name", "slot__office__code"]
    readonly_fields = ["slot", "recorded_taken", "actual_taken", "detected_at", "corrected"]


class WalkInDayForm(ServiceCheckedForm):
    """The day to serve by walk-in, checked by the service's own check."""

    class Meta:
        model = WalkInDay
        fields = ["incident", "office", "date"]

    def check(self, cleaned):
        check_walk_in_day(
            actor=self.actor,
            incident=cleaned.get("incident"),
            office=cleaned.get("office"),
            date=cleaned.get("date"),
            now=timezone.now(),
        )


@admin.register(WalkInDay)
class WalkInDayAdmin(ScopedHistoryAdmin):
    """An office-day an incident touches, served by walk-in instead of moving its applicants
    (docs/incidents.md): whoever may declare an incident for the office switches it here, and
    switches it back with the action. Each goes through quotas.services.incidents; the history
    keeps who did what."""

    form = WalkInDayForm
    list_display = ["office", "date", "what", "switched", "state"]
    list_filter = [("office", admin.RelatedOnlyFieldListFilter), ("incident", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office", "incident", "switched_by"]
    date_hierarchy = "date"
    actions = ["switch_back"]

    @admin.display(description=_("incident"), ordering="incident__kind")
    def what(self, obj):
        return obj.incident.get_kind_display()

    @admin.display(description=_("switched by"), ordering="switched_at")
    def switched(self, obj):
        who = (obj.switched_by.full_name or obj.switched_by.email) if obj.switched_by else "-"
        return f"{who} · {_office_time(obj.switched_at, obj.office)}"

    @admin.display(description=_("state"), ordering="switched_back_at")
    def state(self, obj):
        if obj.switched_back_at is None and obj.incident.withdrawn_at is None:
            return gettext("Served by walk-in")
        if obj.switched_back_at is None:
            return gettext("Online again: its incident was withdrawn")
        return gettext("Online again since %(when)s") % {"when": _office_time(obj.switched_back_at, obj.office)}

    def get_fieldsets(self, request, obj=None):
        explanation = _(
            "The day's free online places become walk-in places at the counter, served in order of arrival, "
            "and the day shows as a walk-in day. Applicants already booked keep their session and are told "
            "so; nobody of that day is moved or cancelled. Switched back, the online places no walk-in used "
            "can be booked again."
        )
        fields = ["incident", "office", "date"]
        if obj is not None:
            fields += ["switched_by", "switched_at", "switched_back_at"]
        return [(None, {"fields": fields, "description": explanation})]

    def get_readonly_fields(self, request, obj=None):
        return ["incident", "office", "date", "switched_by", "switched_at", "switched_back_at"] if obj else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class ActorForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=user, **kw)

        return ActorForm

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        offices = permissions.declarable_offices(request.user)
        if db_field.related_model is Office:
            kwargs["queryset"] = Office.objects.filter(pk__in=[o.pk for o in offices])
        elif db_field.related_model is Incident:
            # The incidents that cover one of the offices this user may switch.
            covering = (
                Q(scope=Incident.Scope.ALL)
                | Q(scope=Incident.Scope.REGION, region_id__in={o.region_id for o in offices})
                | Q(scope=Incident.Scope.OFFICE, office_id__in=[o.pk for o in offices])
            )
            kwargs["queryset"] = Incident.objects.filter(covering, withdrawn_at__isnull=True).select_related(
                "office", "region"
            )
        return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)

    def has_add_permission(self, request, obj=None):
        return permissions.declares_incidents(request.user)

    def get_actions(self, request):
        # Counter officers read the days; they switch nothing back.
        return super().get_actions(request) if permissions.declares_incidents(request.user) else {}

    def has_change_permission(self, request, obj=None):
        return False  # a switch is not edited: it is switched back (the action), and stays on record

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = switch_day_to_walk_in(
            actor=request.user,
            incident_id=form.cleaned_data["incident"].pk,
            office_id=form.cleaned_data["office"].pk,
            date=form.cleaned_data["date"],
        )
        obj.pk = saved.pk

    @admin.action(description=_("Switch the selected days back to online booking"))
    def switch_back(self, request, queryset):
        done = 0
        for day in queryset.filter(switched_back_at__isnull=True):
            try:
                switch_day_back_online(actor=request.user, walk_in_day_id=day.pk)
            except DomainError as error:
                self.message_user(request, f"{day}: {error.message}", level=messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("%(n)s days switched back to online booking.") % {"n": done})


def _office_time(moment, office) -> str:
    # In the office's zone, with its label, as every time staff read.
    return f"{moment.astimezone(office.tzinfo):%Y-%m-%d %H:%M} {office.timezone_label}"
