"""Quota management for office heads (and national staff), read-only for officers and the
regional division. A change that would cut below places already taken is refused with the
sessions concerned (quotas.guards)."""

import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from offices.admin_scoping import OfficeScopedAdmin, ScopedHistoryAdmin

from . import guards
from .models import DateOverride, ProgramSession, QuotaRule, ReleaseSchedule, ServiceProgram, Slot, SlotDrift


def _apply(instance, cleaned_data):
    """The object as it would be after this form: a copy, nothing saved."""
    new = copy.copy(instance)
    field_names = {f.name for f in instance._meta.concrete_fields}
    for name, value in cleaned_data.items():
        if name in field_names:
            setattr(new, name, value)
    return new


class QuotaRuleForm(forms.ModelForm):
    class Meta:
        model = QuotaRule
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not self.errors:
            old = QuotaRule.objects.select_related("office").get(pk=self.instance.pk)
            try:
                guards.raise_for(guards.rule_conflicts(old=old, new=_apply(old, cleaned)))
            except guards.CapacityBelowTaken as exc:
                raise ValidationError(exc.message, code=exc.code) from exc
        return cleaned


@admin.register(QuotaRule)
class QuotaRuleAdmin(ScopedHistoryAdmin):
    form = QuotaRuleForm
    list_display = ["office", "weekday", "start_time", "end_time", "online_capacity", "priority_capacity", "valid_from", "valid_to"]
    list_filter = ["weekday", ("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    search_fields = ["office__name"]

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        # A rule whose sessions hold applications stays: shrink it to zero is refused too.
        return obj is None or not guards.rule_conflicts(old=obj, new=None)


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
        try:
            guards.raise_for(guards.program_session_conflicts(program=program, sessions_after=sessions))
        except guards.CapacityBelowTaken as exc:
            raise ValidationError(exc.message, code=exc.code) from exc


class ProgramSessionInline(admin.TabularInline):
    model = ProgramSession
    formset = ProgramSessionFormSet
    extra = 1
    fields = ["start_time", "end_time", "online_capacity", "priority_capacity"]

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


@admin.register(ServiceProgram)
class ServiceProgramAdmin(ScopedHistoryAdmin):
    inlines = [ProgramSessionInline]
    list_display = ["name", "office", "date_from", "date_to", "weekdays", "opens_on_holidays"]
    list_filter = [("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    search_fields = ["name", "office__name"]

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or not guards.program_session_conflicts(program=obj, sessions_after=None)


class DateOverrideForm(forms.ModelForm):
    class Meta:
        model = DateOverride
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        office, day = cleaned.get("office"), cleaned.get("date")
        if office and day and not self.errors:
            new = _apply(self.instance, cleaned)
            try:
                guards.raise_for(guards.override_conflicts(office=office, day=day, new=new))
            except guards.CapacityBelowTaken as exc:
                raise ValidationError(exc.message, code=exc.code) from exc
        return cleaned


@admin.register(DateOverride)
class DateOverrideAdmin(ScopedHistoryAdmin):
    form = DateOverrideForm
    list_display = ["office", "date", "closed", "reason", "online_capacity", "priority_capacity"]
    list_filter = ["closed", ("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    date_hierarchy = "date"


@admin.register(ReleaseSchedule)
class ReleaseScheduleAdmin(OfficeScopedAdmin):
    list_display = ["office", "kind", "days_before", "weekday", "day_of_month", "release_time", "horizon_days"]
    list_select_related = ["office"]


@admin.register(Slot)
class SlotAdmin(ScopedHistoryAdmin):
    """Slots are made by the generator from the rules; staff read them (and their history)."""

    change_scope = None
    list_display = ["office", "date", "session", "pool", "capacity", "taken", "available", "opens_at"]
    list_filter = ["pool", "date", ("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    date_hierarchy = "date"

    @admin.display(description=_("session"), ordering="starts_at")
    def session(self, obj):
        return f"{obj.local_start:%H:%M}–{obj.local_end:%H:%M} {obj.office.timezone_label}"

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.available


@admin.register(SlotDrift)
class SlotDriftAdmin(OfficeScopedAdmin):
    office_path = "slot__office"
    change_scope = None
    list_display = ["slot", "recorded_taken", "actual_taken", "detected_at", "corrected"]
    list_select_related = ["slot__office"]
