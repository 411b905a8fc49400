from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from . import (
    admin_accounts,  # noqa: F401 - registers the staff accounts' admin
    permissions,
)
from .admin_scoping import OfficeScopedAdmin, ScopedHistoryAdmin
from .models import Office, OfficeResources, PassportStock, Region, StaffMembership, StockMessage, StockReceipt
from .services import set_type_issued


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "province_code"]
    search_fields = ["name", "code"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if permissions.sees_all(request.user):
            return qs
        return qs.filter(offices__in=permissions.visible_offices(request.user)).distinct()

    def has_module_permission(self, request):
        return permissions.is_staff_member(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.is_staff_member(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.is_staff_member(request.user) and permissions.sees_all(request.user)

    def has_add_permission(self, request):
        return self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404


@admin.register(Office)
class OfficeAdmin(OfficeScopedAdmin):
    """Heads keep their office's capacity evaluation (staff, counters) current, as the
    Kanwil asks; the rest of an office's record is the directorate's."""

    office_path = "pk"
    change_scope = "quota"
    list_display = ["name", "code", "kind", "office_class", "region", "city", "timezone", "is_active"]
    list_filter = ["kind", "office_class", "region", "timezone", "is_active"]
    search_fields = ["name", "code", "city"]
    capacity_fields = ("staff_count", "counter_count")

    def get_readonly_fields(self, request, obj=None):
        if permissions.sees_all(request.user):
            return ()
        return [f.name for f in Office._meta.fields if f.name not in self.capacity_fields and f.name != "id"]

    def has_add_permission(self, request, obj=None):
        return permissions.is_staff_member(request.user) and permissions.sees_all(request.user)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The parent and region of an office: only national staff edit them (read-only otherwise).
        return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)


@admin.register(OfficeResources)
class OfficeResourcesAdmin(ScopedHistoryAdmin):
    """Staff on duty by role and facilities: the office head keeps them, the History button
    shows every change with who made it."""

    office_path = "office"
    change_scope = "quota"
    list_display = ["office", "verifiers", "biometric_operators", "biometric_stations", "printers", "updated_at"]
    list_filter = ["office__region", "saturday_ready", "sunday_ready"]
    fieldsets = [
        (None, {"fields": ["office"]}),
        (
            _("Staff on duty"),
            {"fields": ["verifiers", "biometric_operators", "interviewers", "approvers", "printing_staff"]},
        ),
        (
            _("Facilities and hours"),
            {"fields": ["biometric_stations", "printers", "opens_at", "closes_at", "saturday_ready", "sunday_ready"]},
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["office"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(StaffMembership)
class StaffMembershipAdmin(OfficeScopedAdmin):
    """Heads see who works at their office; only national staff grant or remove access."""

    office_path = "office"
    change_scope = None
    list_display = ["user", "role", "office", "region"]
    list_filter = ["role", "region"]
    search_fields = ["user__email", "user__full_name", "office__name"]
    list_select_related = ["user", "office", "region"]

    def has_module_permission(self, request):
        return permissions.is_staff_member(request.user) and (
            permissions.sees_all(request.user) or permissions.quota_offices(request.user).exists()
        )

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return permissions.is_staff_member(request.user) and permissions.sees_all(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # Staff accounts only: an applicant never gets an office's rights by a slip of the list.
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True).order_by("email")
        return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)


class StockReceiptInline(admin.TabularInline):
    model = StockReceipt
    extra = 0
    can_delete = False
    fields = ["received_on", "books", "reference", "recorded_by", "recorded_at"]
    readonly_fields = fields
    ordering = ["-received_on", "-recorded_at"]

    def has_add_permission(self, request, obj=None):
        return False  # deliveries are recorded on the counter's page, through the service

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PassportStock)
class PassportStockAdmin(OfficeScopedAdmin):
    """Which passport types an office issues, and its blank books with their deliveries. The head
    (and national staff) switch a type on or off; the figures are the services'."""

    office_path = "office"
    change_scope = "quota"
    list_display = ["office", "passport_type", "issued", "on_hand", "booked_ahead", "closed_from"]
    list_filter = ["passport_type", "issued", "office__region"]
    search_fields = ["office__name", "office__code"]
    list_select_related = ["office"]
    fields = ["office", "passport_type", "issued", "on_hand", "booked_ahead", "closed_from", "outlook_at", "alerted_on"]
    inlines = [StockReceiptInline]

    def get_readonly_fields(self, request, obj=None):
        figures = ["on_hand", "booked_ahead", "closed_from", "outlook_at", "alerted_on"]
        return ["office", "passport_type", *figures] if obj else figures

    def has_delete_permission(self, request, obj=None):
        return False  # its deliveries and uses are the record

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        stock = set_type_issued(office=obj.office, passport_type=obj.passport_type, issued=obj.issued)
        obj.pk = stock.pk


@admin.register(StockMessage)
class StockMessageAdmin(OfficeScopedAdmin):
    """The low-stock alerts sent to offices and their divisions."""

    office_path = "stock__office"
    change_scope = None
    list_display = ["created_at", "stock", "recipient", "state"]
    list_filter = ["state"]
    list_select_related = ["stock__office"]
    readonly_fields = ["stock", "channel", "recipient", "template", "language", "context", "state", "sent_at"]
    exclude = ["skip_reason", "attempts", "last_error", "next_attempt_at", "claimed_at", "dedupe_key"]


admin.site.site_header = _("mpaspor staff")
admin.site.site_title = _("mpaspor staff")
admin.site.index_title = _("Office administration")
