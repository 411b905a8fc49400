from django.contrib import admin
from django.utils import timezone

from offices.models import StaffMembership

from .models import Fee, Notification, Payment


def is_national_admin(user) -> bool:
    """Superusers and the directorate's staff (StaffMembership role national)."""
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or StaffMembership.objects.filter(user=user, role=StaffMembership.Role.NATIONAL).exists()


class NationalOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return is_national_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_national_admin(request.user)

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

    def has_add_permission(self, request):
        return is_national_admin(request.user)

    def _future(self, obj):
        return obj is None or obj.effective_from > timezone.localdate()

    def has_change_permission(self, request, obj=None):
        return is_national_admin(request.user) and self._future(obj)

    def has_delete_permission(self, request, obj=None):
        return is_national_admin(request.user) and self._future(obj)


@admin.register(Payment)
class PaymentAdmin(NationalOnlyAdmin):
    list_display = ["transaction_id", "application", "gateway", "amount", "paid_at", "late", "amount_mismatch",
                    "refund_due"]
    list_filter = ["refund_due", "late", "amount_mismatch", "gateway"]
    search_fields = ["transaction_id", "application__booking_code", "application__billing_code"]
    list_select_related = ["application"]


@admin.register(Notification)
class NotificationAdmin(NationalOnlyAdmin):
    list_display = ["created_at", "application", "template", "channel", "language", "state", "attempts", "sent_at"]
    list_filter = ["state", "channel", "template"]
    search_fields = ["application__booking_code", "recipient"]
    list_select_related = ["application"]
