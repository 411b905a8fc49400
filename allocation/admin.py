"""Staff screens of the fair release: releases read-only (the seed never shown), each linking to
its staff page."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from offices.admin_scoping import OfficeScopedAdmin

from .models import Release


@admin.register(Release)
class ReleaseAdmin(OfficeScopedAdmin):
    change_scope = None
    list_display = ["office", "entries_close_at", "sessions_from", "page"]
    list_filter = [("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    date_hierarchy = "entries_close_at"
    # `seed` is not editable, so no form shows it; the commitment is public.
    fields = [
        "office",
        "entries_open_at",
        "entries_close_at",
        "sessions_from",
        "sessions_to",
        "opens_at",
        "seed_sha256",
        "entries_sha256",
        "drawn_at",
        "applied_at",
        "page",
    ]
    readonly_fields = fields

    @admin.display(description=_("draw page"))
    def page(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("allocation:staff_release", args=[obj.pk]), _("open"))
