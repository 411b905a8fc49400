from django.contrib import admin, messages
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from mpaspor.errors import DomainError

from . import (
    admin_accounts,  # noqa: F401 - registers the staff accounts' admin
    permissions,
    services,
)
from .admin_scoping import OfficeScopedAdmin, ReadOnlyHistoryAdmin, ScopedHistoryAdmin, ServiceCheckedForm
from .models import (
    Incident,
    Office,
    OfficeResources,
    PassportStock,
    Region,
    StaffMembership,
    StockMessage,
    StockReceipt,
)
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


class IncidentForm(ServiceCheckedForm):
    """The incident's fields, checked by the service's own check (who may declare which scope)."""

    class Meta:
        model = Incident
        fields = ["kind", "scope", "region", "office", "starts_at", "ends_at", "message_id", "message_en"]

    def check(self, cleaned):
        candidate = Incident(**{name: cleaned.get(name) for name in services.INCIDENT_FIELDS})
        services.check_incident(actor=self.actor, incident=candidate)
        cleaned["region"], cleaned["office"] = candidate.region, candidate.office  # only the scope's target


@admin.register(Incident)
class IncidentAdmin(ReadOnlyHistoryAdmin):
    """Staff declare, correct, end and withdraw incidents here (docs/incidents.md): national staff
    any scope, a regional division its region, an office head their office. Each save goes
    through offices.services, which recomputes what every incident gives; the history keeps
    every version and who made it."""

    form = IncidentForm
    list_display = ["what", "where", "starts_at", "ends_at", "declared_by", "withdrawn_at"]
    list_filter = ["kind", "scope"]
    readonly_fields = ["declared_by", "declared_at", "withdrawn_at", "days_it_touches"]
    actions = ["withdraw"]

    @admin.display(description=_("days it touches"))
    def days_it_touches(self, obj):
        # The choice for a day the incident touches: move its applicants (what a closure does) or
        # serve it by walk-in (quotas' WalkInDay, on its own screen: offices does not import quotas).
        explanation = _(
            "A closure moves its applicants: they are told and choose another day, ahead of the public; "
            "one who has not moved when the session starts is cancelled and their fee refunded. Instead, "
            "the office may serve a day this incident touches by walk-in (after a portal outage, or when "
            "a closure is lifted): the applicants keep their booking, and the free online places are "
            "given at the counter in order of arrival."
        )
        if obj is None or obj.pk is None:
            return explanation
        url = reverse("admin:quotas_walkinday_add") + f"?incident={obj.pk}"
        listed = reverse("admin:quotas_walkinday_changelist") + f"?incident__id__exact={obj.pk}"
        return format_html(
            '{}<br><a href="{}" id="serve-by-walk-in">{}</a> · <a href="{}">{}</a>',
            explanation,
            url,
            _("Serve a day by walk-in"),
            listed,
            _("Days served by walk-in for this incident"),
        )

    @admin.display(description=_("incident"), ordering="kind")
    def what(self, obj):
        return obj.get_kind_display()

    @admin.display(description=_("where"))
    def where(self, obj):
        return obj.office or obj.region or _("Every office")

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("region", "office", "declared_by")
        user = request.user
        if permissions.sees_all(user):
            return qs
        offices = permissions.visible_offices(user)
        return qs.filter(
            Q(scope=Incident.Scope.ALL) | Q(region__in=offices.values("region_id")) | Q(office__in=offices)
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class ActorForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=user, **kw)
                if "region" in self.fields:
                    self.fields["region"].queryset = permissions.division_regions(user)
                if "office" in self.fields:
                    self.fields["office"].queryset = Office.objects.filter(
                        pk__in=[o.pk for o in permissions.declarable_offices(user)]
                    )

        return ActorForm

    def has_module_permission(self, request):
        return permissions.is_staff_member(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.is_staff_member(request.user)

    def has_add_permission(self, request):
        return permissions.declares_incidents(request.user)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return permissions.declares_incidents(request.user)
        return obj.withdrawn_at is None and permissions.may_declare_incident(
            request.user, scope=obj.scope, region_id=obj.region_id, office=obj.office
        )

    def has_delete_permission(self, request, obj=None):
        return False  # an incident is withdrawn, never deleted: it stays on record

    def get_object(self, request, object_id, from_field=None):
        return self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data.get(name) for name in services.INCIDENT_FIELDS}
        if change:
            saved = services.change_incident(actor=request.user, incident_id=obj.pk, **fields)
        else:
            saved = services.declare_incident(actor=request.user, **fields)
        obj.pk = saved.pk

    @admin.action(description=_("Withdraw the selected incidents (declared by mistake)"))
    def withdraw(self, request, queryset):
        done = 0
        for incident in queryset:
            try:
                services.withdraw_incident(actor=request.user, incident_id=incident.pk)
            except DomainError as error:
                self.message_user(request, f"{incident}: {error.message}", level=messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("%(n)s incidents withdrawn.") % {"n": done})
