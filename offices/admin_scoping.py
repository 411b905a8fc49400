"""The admin's office scoping: every staff screen shows and changes only the user's offices.

Rights come from `offices.permissions` (the roles), not from Django's per-model permission
flags, so a new counter officer needs one StaffMembership row and nothing else. An object
outside the user's offices answers 404 on every admin URL (change, delete, history), as if
it did not exist: an edited id in the address bar learns nothing.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from mpaspor.errors import DomainError

from . import permissions
from .models import Office


class OfficeScopedAdmin(admin.ModelAdmin):
    #: the path from the model to its Office ("pk" for Office itself)
    office_path = "office"
    #: which offices the user may change here: "quota", "counter" or None (read-only)
    change_scope: str | None = "quota"

    # -- scope --------------------------------------------------------------------------
    def _visible_ids(self, request) -> set[int]:
        if not hasattr(request, "_visible_office_ids"):
            request._visible_office_ids = permissions.office_ids(permissions.visible_offices(request.user))
        return request._visible_office_ids

    def _changeable_offices(self, request):
        if self.change_scope == "quota":
            return permissions.quota_offices(request.user)
        if self.change_scope == "counter":
            return permissions.counter_offices(request.user)
        return None

    def _changeable_ids(self, request) -> set[int]:
        key = f"_changeable_office_ids_{self.change_scope}"
        if not hasattr(request, key):
            offices = self._changeable_offices(request)
            setattr(request, key, permissions.office_ids(offices) if offices is not None else set())
        return getattr(request, key)

    def office_id_of(self, obj) -> int | None:
        if self.office_path == "pk":
            return obj.pk
        target = obj
        parts = self.office_path.split("__")
        for part in parts[:-1]:
            target = getattr(target, part, None)
            if target is None:
                return None
        return getattr(target, f"{parts[-1]}_id", None)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if permissions.sees_all(request.user):
            return qs
        lookup = "pk__in" if self.office_path == "pk" else f"{self.office_path}__in"
        return qs.filter(**{lookup: self._visible_ids(request)})

    # -- rights -------------------------------------------------------------------------
    def has_module_permission(self, request):
        return permissions.is_staff_member(request.user)

    def has_view_permission(self, request, obj=None):
        if not permissions.is_staff_member(request.user):
            return False
        if obj is None or permissions.sees_all(request.user):
            return True
        return self.office_id_of(obj) in self._visible_ids(request)

    def has_change_permission(self, request, obj=None):
        if not permissions.is_staff_member(request.user) or self.change_scope is None:
            return False
        ids = self._changeable_ids(request)
        if obj is None:
            return bool(ids)
        return self.office_id_of(obj) in ids

    def has_add_permission(self, request, obj=None):
        return self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    # -- forms: foreign keys offer only offices (and their rows) the user may change ------
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Office:
            offices = self._changeable_offices(request)
            kwargs["queryset"] = offices if offices is not None else Office.objects.none()
        elif hasattr(related, "office"):
            offices = self._changeable_offices(request)
            kwargs["queryset"] = related._default_manager.filter(
                office__in=offices if offices is not None else Office.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # -- an object out of scope does not exist -------------------------------------------
    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and not self.has_view_permission(request, obj):
            return None
        return obj


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's read-only audit trail ("History" button), for an admin whose
    `get_object` answers None out of the user's scope.

    History is evidence, so nobody reverts or edits through it: changes go through the forms
    and services that check them."""

    def has_view_history_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_change_history_permission(self, request, obj=None):
        return False

    def history_view(self, request, object_id, extra_context=None):
        # simple-history falls back to the last historical record when the object is not in
        # get_queryset (a deleted object); out of scope must still be 404.
        if self.get_object(request, object_id) is None:
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        if not (version_id.isascii() and version_id.isdigit()):  # the URL takes any text; the query a number
            raise Http404
        if self.get_object(request, object_id) is None:
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)


class ScopedHistoryAdmin(OfficeScopedAdmin, ReadOnlyHistoryAdmin):
    """Scoped admin with the read-only audit trail."""


class ServiceCheckedForm(forms.ModelForm):
    """A staff form that the service's own check decides, for the user who sends it (`actor`):
    `check(cleaned)` raises the service's DomainError, shown at its field where the form has it."""

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def check(self, cleaned: dict) -> None:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.check(cleaned)
        except DomainError as error:
            field = error.field if error.field in self.fields else None
            raise forms.ValidationError({field: error.message} if field else error.message) from None
        return cleaned
