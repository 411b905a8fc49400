from django.contrib import admin

from .models import OfficeDay


@admin.register(OfficeDay)
class OfficeDayAdmin(admin.ModelAdmin):
    """Read-only: the rows are rebuilt by the nightly job (reports.services)."""

    list_display = ("office", "date", "online_offered", "online_taken", "booked", "no_show", "sellout_minutes")
    list_filter = ("office__region", "is_weekend")
    date_hierarchy = "date"
    list_select_related = ("office",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
