"""Staff accounts in the admin, scoped like every staff screen.

- Superusers and national staff (DJI) see every account and may create staff accounts for any
  office; only a superuser grants or sees the superuser flag.
- An office head sees the counter officers of their offices (and outlets), creates officer
  accounts for them, and disables them (`is_active`). Never a superuser, never an applicant,
  never a password: a new officer sets theirs through the password reset.
- Everyone else has no such screen.
Accounts are disabled, never deleted: their events and history keep pointing at them.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from . import permissions
from .models import Office, StaffMembership
from .services import enrol_staff_account

Role = StaffMembership.Role


class StaffAccountCreationForm(AdminUserCreationForm):
    office = forms.ModelChoiceField(
        label=_("Office"), queryset=Office.objects.none(), help_text=_("The office the new counter officer works at.")
    )

    class Meta:
        model = User
        fields = ("email", "full_name", "phone")


class StaffAccountChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class HeadAccountForm(forms.ModelForm):
    """What a head changes of an officer's account: no password, no rights but active."""

    class Meta:
        model = User
        fields = ("full_name", "phone", "is_active")


def _managed_by_head(user):
    """The accounts a head manages: counter officers of the head's offices, and nobody with
    any other role (another head, the division, the directorate) or a superuser."""
    offices = permissions.quota_offices(user)
    others = StaffMembership.objects.exclude(role=Role.OFFICER).values("user_id")
    return (
        User.objects.filter(memberships__role=Role.OFFICER, memberships__office__in=offices, is_superuser=False)
        .exclude(pk__in=others)
        .distinct()
    )


@admin.register(User)
class StaffAccountAdmin(UserAdmin):
    form = StaffAccountChangeForm
    add_form = StaffAccountCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "memberships__role"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ()

    # -- who sees whom ------------------------------------------------------------------
    def _manages_all(self, request) -> bool:
        return permissions.is_staff_member(request.user) and permissions.sees_all(request.user)

    def _is_head(self, request) -> bool:
        return permissions.is_staff_member(request.user) and permissions.quota_offices(request.user).exists()

    def get_queryset(self, request):
        if self._manages_all(request):
            qs = User.objects.all()
            return qs if request.user.is_superuser else qs.filter(is_superuser=False)
        if self._is_head(request):
            return _managed_by_head(request.user)
        return User.objects.none()

    def has_module_permission(self, request):
        return self._manages_all(request) or self._is_head(request)

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # disable instead: is_active

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        return obj if obj is not None and self.has_view_permission(request, obj) else None

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    # -- forms ----------------------------------------------------------------------------
    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    None,
                    {"fields": ("email", "full_name", "phone", "office", "usable_password", "password1", "password2")},
                )
            ]
        if not self._manages_all(request):
            return [(None, {"fields": ("email", "full_name", "phone", "is_active", "last_login")})]
        rights = ["is_active", "is_staff"] + (["is_superuser"] if request.user.is_superuser else [])
        return [
            (None, {"fields": ("email", "password")}),
            (_("Person"), {"fields": ("full_name", "phone", "email_verified", "language")}),
            (_("Rights"), {"fields": rights}),
            (_("Dates"), {"fields": ("last_login", "date_joined")}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self._manages_all(request):
            return ["email", "last_login"]
        return self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and not self._manages_all(request):
            kwargs["form"] = HeadAccountForm
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            offices = Office.objects.all() if self._manages_all(request) else permissions.quota_offices(request.user)
            form.base_fields["office"].queryset = offices.order_by("name")
        return form

    def save_model(self, request, obj, form, change):
        if obj.is_superuser and not request.user.is_superuser:
            raise PermissionDenied
        super().save_model(request, obj, form, change)
        if not change:
            enrol_staff_account(user=obj, office=form.cleaned_data["office"])

    def user_change_password(self, request, id, form_url=""):
        # Heads never handle passwords; officers set their own through the password reset.
        if not self._manages_all(request):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)
