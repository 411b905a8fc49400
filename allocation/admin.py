"""Staff screens of allocation, each scoped to the offices the staff member sees: releases
read-only (the seed never shown), each linking to its staff page; the waiting list and its offers."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from offices import permissions
from offices.admin_scoping import OfficeScopedAdmin

from .models import Offer, Release, Waiting
from .selectors_waiting import offer_figures


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


# --- The waiting list and its offers ----------------------------------------------------------


@admin.register(Waiting)
class WaitingAdmin(OfficeScopedAdmin):
    """The households waiting, read-only: they join and leave themselves."""

    change_scope = None
    list_display = ["office", "joined_at", "dates", "status", "people_count"]
    list_filter = ["status", ("office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["office"]
    date_hierarchy = "joined_at"
    readonly_fields = ["office", "account", "joined_at", "rank", "date_from", "date_to", "entry", "status", "closed_at"]
    exclude = ["slots", "language"]

    @admin.display(description=_("dates"))
    def dates(self, obj):
        return f"{obj.date_from:%Y-%m-%d} – {obj.date_to:%Y-%m-%d}"

    @admin.display(description=_("people"))
    def people_count(self, obj):
        return obj.people.count()


@admin.register(Offer)
class OfferAdmin(OfficeScopedAdmin):
    """Places held by offers, per session: why a place given back is not in the public pool.
    Above the list, per office, the list's length and how offers went."""

    office_path = "slot__office"
    change_scope = None
    list_display = ["slot", "places", "status", "offered", "expires"]
    list_filter = ["status", ("slot__office", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["slot__office"]
    date_hierarchy = "offered_at"
    readonly_fields = [
        "waiting",
        "slot",
        "places",
        "status",
        "given_back_at",
        "offered_at",
        "expires_at",
        "closed_at",
    ]
    change_list_template = "admin/allocation/offer/change_list.html"

    def _local(self, obj, value):
        zone = obj.slot.office
        return f"{value.astimezone(zone.tzinfo):%Y-%m-%d %H:%M} {zone.timezone_label}" if value else "–"

    @admin.display(description=_("offered"), ordering="offered_at")
    def offered(self, obj):
        return self._local(obj, obj.offered_at)

    @admin.display(description=_("expires"), ordering="expires_at")
    def expires(self, obj):
        return self._local(obj, obj.expires_at)

    def changelist_view(self, request, extra_context=None):
        offices = permissions.visible_offices(request.user)
        extra_context = {**(extra_context or {}), "figures": offer_figures(offices=offices.order_by("name")[:50])}
        return super().changelist_view(request, extra_context=extra_context)
