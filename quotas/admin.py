from django.contrib import admin

from .models import SlotDrift


@admin.register(SlotDrift)
class SlotDriftAdmin(admin.ModelAdmin):
    """Drifts found by the reconciliation job: read-only evidence for staff."""

    list_display = ("detected_at", "slot", "recorded_taken", "actual_taken", "corrected")
    list_filter = ("corrected", "slot__office")
    list_select_related = ("slot__office",)
    date_hierarchy = "detected_at"
    search_fields = ("slot__office__name", "slot__office__code")
    readonly_fields = ("slot", "recorded_taken", "actual_taken", "detected_at", "corrected")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
