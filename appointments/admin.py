"""Staff screens for applications, applicants and fees, scoped to the user's offices.

Every status change here is an admin action that calls a service (which writes the event
row); the status field itself is read-only.
"""

import datetime as dt
import re

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from offices import permissions
from offices.admin_scoping import OfficeScopedAdmin, ScopedHistoryAdmin
from quotas.models import SESSION_POOLS, Slot

from . import admin_flags  # noqa: F401 - registers the review queue of hoarding flags
from .admin_actions import StatusActionsMixin
from .admin_export import CsvExportMixin
from .models import (
    Applicant,
    Application,
    ApplicationEvent,
    DeletedDocuments,
    DocumentView,
    Fee,
    Notification,
    Payment,
    RequiredDocument,
    mask_nik,
)


class SessionFilter(admin.SimpleListFilter):
    """The sessions of the day picked in the date filter (today without one)."""

    title = _("session")
    parameter_name = "session"

    def has_output(self):
        # Always applied, even when the day has no sessions to offer: a session id typed into
        # the address bar must filter (to nothing), never be dropped silently.
        return True

    def lookups(self, request, model_admin):
        visible = permissions.visible_offices(request.user)
        chosen = self.value()
        chosen_day = (
            Slot.objects.filter(pk=int(chosen), office__in=visible).values_list("date", flat=True).first()
            if chosen and chosen.isdigit()
            else None
        )
        day = _date_param(request) or chosen_day or timezone.localdate()
        slots = (
            Slot.objects.filter(date=day, office__in=visible, pool__in=SESSION_POOLS)
            .select_related("office")
            .order_by("office__name", "starts_at", "pool")[:100]
        )
        return [
            (
                str(slot.pk),
                f"{slot.office.name} {slot.local_start:%H:%M}–{slot.local_end:%H:%M} "
                f"{slot.office.timezone_label} ({slot.get_pool_display()})",
            )
            for slot in slots
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(slot_id=int(value))


def _date_param(request):
    raw = request.GET.get("slot__date__gte")
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class ApplicationEventInline(admin.TabularInline):
    model = ApplicationEvent
    fields = ["at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("status change")
    verbose_name_plural = _("status changes")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return permissions.is_staff_member(request.user)


class NikPrivacyMixin:
    """The NIK on a staff screen: a column, masked or in full for staff who serve the person's
    office; a search by the exact NIK only, which finds only what the user serves; and no
    filtering by NIK in the address bar.

    Django's admin takes any lookup on the model's own fields from the query string
    (`?nik__startswith=3571014303`): one row or none answers a question about a masked NIK, and
    a few dozen such questions recover it. So the address bar may carry only what the list
    filters put there."""

    # The lookups Django's list filters write (choices, booleans, dates, related objects).
    FILTER_LOOKUPS = ("exact", "isnull", "gte", "lt", "id__exact")

    @admin.display(description=_("NIK"))
    def nik_masked(self, obj):
        return mask_nik(obj.nik)

    @admin.display(description=_("NIK"))
    def nik_full(self, obj):
        return obj.nik

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in self._filter_lookups(request) and super().lookup_allowed(lookup, value, request)

    def _filter_lookups(self, request) -> set[str]:
        allowed = set()
        for item in self.get_list_filter(request):
            if isinstance(item, type):  # a SimpleListFilter: its own parameter
                allowed.add(item.parameter_name)
            else:
                path = item[0] if isinstance(item, (list, tuple)) else item
                allowed.update(f"{path}__{lookup}" for lookup in self.FILTER_LOOKUPS)
        return allowed

    def get_search_results(self, request, queryset, search_term):
        """`search_fields` never name the NIK; a search term that is a whole NIK also finds the
        rows with exactly that NIK at the offices the user serves (counter staff and heads)."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        nik = search_term.strip()
        if NIK_RE.fullmatch(nik):
            served = permissions.counter_offices(request.user)
            found = found | queryset.filter(nik=nik, **{f"{self.office_path}__in": served})
        return found, may_have_duplicates


NIK_RE = re.compile(r"[0-9]{16}")


@admin.register(Application)
class ApplicationAdmin(StatusActionsMixin, CsvExportMixin, NikPrivacyMixin, ScopedHistoryAdmin):
    office_path = "slot__office"
    change_scope = "counter"
    change_list_template = "admin/appointments/application/change_list.html"

    list_display = [
        "booking_code",
        "person",
        "session",
        "kind",
        "status",
        "queue_number",
        "walk_in",  # walk-ins take the priority pool, bookings the online one: the pool in one icon
    ]
    list_select_related = ["slot__office"]
    search_fields = ["=booking_code", "full_name"]  # and the exact NIK (NikPrivacyMixin)
    search_help_text = _("Booking code, name, or the whole NIK of someone your office serves.")
    list_filter = [
        ("slot__date", admin.DateFieldListFilter),
        SessionFilter,
        "status",
        "kind",
        "slot__pool",
        "walk_in",
        "priority_group",
        ("slot__office", admin.RelatedOnlyFieldListFilter),
    ]
    date_hierarchy = None
    inlines = [ApplicationEventInline]
    editable_fields = ("full_name", "phone")
    base_fields = [
        "booking_code",
        "status",
        "queue_number",
        "checked_in_at",
        "queue_state",
        "desk",
        "called_at",
        "served_at",
        "full_name",
        "NIK_PLACEHOLDER",
        "birth_date",
        "sex",
        "married",
        "phone",
        "kind",
        "priority_group",
        "walk_in",
        "beyond_pool",
        "passport_type",
        "validity_years",
        "express",
        "session",
        "amount",
        "fine",
        "force_majeure",
        "billing_code",
        "payment_due_at",
        "payment_due_base",
        "paid_at",
        "reschedule_count",
        "displaced_by",
        "earlier_from",  # the applicant asked to come earlier (services.earlier); read-only, as the rest
        "account",
        "created_at",
        "updated_at",
    ]

    # -- columns ------------------------------------------------------------------------
    @admin.display(description=_("applicant"), ordering="full_name")
    def person(self, obj):
        # (Not "applicant": that is the model's link to the account's listed person.)
        # The name above the NIK, in one column: two would not fit a 1280 px screen.
        return format_html("{}<br>{}", obj.full_name, mask_nik(obj.nik))

    @admin.display(description=_("session"), ordering="slot__starts_at")
    def session(self, obj):
        slot = obj.slot
        return (
            f"{slot.office.name} · {slot.local_start:%Y-%m-%d %H:%M}–{slot.local_end:%H:%M} "
            f"{slot.office.timezone_label}"
        )

    # -- the form: status and everything a service owns are read-only --------------------
    def get_fields(self, request, obj=None):
        sees_nik = obj is not None and permissions.can_serve(request.user, self.office_id_of(obj))
        nik_field = "nik_full" if sees_nik else "nik_masked"
        return [nik_field if f == "NIK_PLACEHOLDER" else f for f in self.base_fields]

    def get_readonly_fields(self, request, obj=None):
        fields = self.get_fields(request, obj)
        if obj is not None and self.has_change_permission(request, obj):
            return [f for f in fields if f not in self.editable_fields]
        return fields

    def has_add_permission(self, request, obj=None):
        # Applications come from the booking flow or the counter's walk-in form.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_serve_permission(self, request):
        return permissions.counter_offices(request.user).exists()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("slot__office", "account")


@admin.register(Applicant)
class ApplicantAdmin(NikPrivacyMixin, OfficeScopedAdmin):
    """The people behind accounts, for staff of an office where they have an application."""

    office_path = "applications__slot__office"
    change_scope = None
    list_display = ["full_name", "nik_masked", "birth_date", "sex", "account"]
    search_fields = ["full_name", "account__email"]  # and the exact NIK (NikPrivacyMixin)
    list_select_related = ["account"]

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    def _offices_of(self, obj) -> set[int]:
        return set(obj.applications.values_list("slot__office_id", flat=True))

    def has_view_permission(self, request, obj=None):
        if not permissions.is_staff_member(request.user):
            return False
        if obj is None or permissions.sees_all(request.user):
            return True
        return bool(self._offices_of(obj) & self._visible_ids(request))

    def get_fields(self, request, obj=None):
        serves = obj is not None and bool(
            self._offices_of(obj) & permissions.office_ids(permissions.counter_offices(request.user))
        )
        return ["full_name", "nik_full" if serves else "nik_masked", "birth_date", "sex", "married", "phone", "account"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


class NationalOnlyAdmin(admin.ModelAdmin):
    """Screens for the directorate (and superusers) only; read-only unless a subclass allows."""

    def has_module_permission(self, request):
        return permissions.can_manage_fees(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_manage_fees(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Fee)
class FeeAdmin(NationalOnlyAdmin):
    """PNBP tariffs. A new regulation is a new row with its effective date; a tariff already in
    force is never edited, so the history of what applied when stays true. Applications keep
    the amount fixed at booking either way."""

    list_display = ["item", "amount", "effective_from"]
    list_filter = ["item"]
    date_hierarchy = "effective_from"

    def has_module_permission(self, request):
        return permissions.is_staff_member(request.user)

    def has_view_permission(self, request, obj=None):
        # Office staff tell applicants the fees; only the directorate sets them.
        return permissions.is_staff_member(request.user)

    def has_add_permission(self, request):
        return permissions.can_manage_fees(request.user)

    def _future(self, obj):
        return obj is None or obj.effective_from > timezone.localdate()

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_fees(request.user) and self._future(obj)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_fees(request.user) and self._future(obj)


@admin.register(Payment)
class PaymentAdmin(NationalOnlyAdmin):
    list_display = [
        "transaction_id",
        "application",
        "gateway",
        "amount",
        "paid_at",
        "late",
        "amount_mismatch",
        "refund_due",
    ]
    list_filter = ["refund_due", "late", "amount_mismatch", "gateway"]
    search_fields = ["transaction_id", "application__booking_code", "application__billing_code"]
    list_select_related = ["application"]


@admin.register(Notification)
class NotificationAdmin(NationalOnlyAdmin):
    list_display = [
        "created_at",
        "application",
        "template",
        "channel_and_language",
        "state",
        "skip_reason",
    ]  # the attempts and the time sent are on the message's page
    list_filter = ["state", "skip_reason", "channel", "template"]
    search_fields = ["application__booking_code", "recipient"]
    list_select_related = ["application"]

    @admin.display(description=_("channel"), ordering="channel")
    def channel_and_language(self, obj):
        # One column for both: the list fits a 1280 px screen.
        return f"{obj.get_channel_display()} ({obj.language})"


@admin.register(RequiredDocument)
class RequiredDocumentAdmin(NationalOnlyAdmin):
    """What each kind of application asks for. The directorate edits it; applications show it at
    once. A document that files were sent for cannot be deleted (mark it optional instead)."""

    list_display = ["name", "kind", "code", "required", "position"]
    list_filter = ["kind", "required"]
    list_editable = ["position"]
    search_fields = ["name", "name_en", "code"]

    def has_add_permission(self, request):
        return permissions.can_manage_fees(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_fees(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_fees(request.user)


@admin.register(DocumentView)
class DocumentViewAdmin(NationalOnlyAdmin):
    """Every opening of an applicant's document by staff: who, which, when (read-only)."""

    list_display = ["at", "viewer", "office", "booking_code", "document_name"]
    list_filter = ["office"]
    search_fields = ["booking_code", "viewer__email"]
    date_hierarchy = "at"
    list_select_related = ["viewer", "office"]


@admin.register(DeletedDocuments)
class DeletedDocumentsAdmin(NationalOnlyAdmin):
    """How many documents the retention job deleted, per office, day and reason (read-only)."""

    list_display = ["date", "office", "reason", "count"]
    list_filter = ["reason", "office"]
    date_hierarchy = "date"
    list_select_related = ["office"]
