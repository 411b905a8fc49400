"""The application admin's CSV export of its filtered list, streamed, NIKs masked where the
reader does not serve the office."""

import csv

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext

from mpaspor.spreadsheets import spreadsheet_safe
from offices import permissions

from .models import mask_nik


class CsvExportMixin:
    """For ApplicationAdmin: an "export" link on the change list, for what the filters show."""

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_csv_view), name=self._export_url_name()),
        ] + super().get_urls()

    def _export_url_name(self) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_export"

    def export_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters as exc:  # a filter the change list does not know
            raise BadRequest from exc
        queryset = changelist.get_queryset(request).select_related("slot__office").order_by("slot__starts_at", "pk")
        serve_ids = permissions.office_ids(permissions.counter_offices(request.user))
        header = [
            gettext("booking code"),
            gettext("office"),
            gettext("date"),
            gettext("session"),
            gettext("pool"),
            gettext("status"),
            gettext("application kind"),
            gettext("NIK"),
            gettext("full name"),
            gettext("queue number"),
            gettext("walk-in"),
            gettext("priority group"),
        ]

        def rows():
            yield header
            for a in queryset.iterator(chunk_size=500):
                slot = a.slot
                yield [
                    a.booking_code,
                    slot.office.name,
                    slot.date.isoformat(),
                    f"{slot.local_start:%H:%M}-{slot.local_end:%H:%M} {slot.office.timezone_label}",
                    slot.get_pool_display(),
                    a.get_status_display(),
                    a.get_kind_display(),
                    a.nik if slot.office_id in serve_ids else mask_nik(a.nik),
                    a.full_name,
                    a.queue_number,
                    gettext("yes") if a.walk_in else gettext("no"),
                    a.get_priority_group_display(),
                ]

        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (writer.writerow([spreadsheet_safe(v) for v in row]) for row in rows()),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="applications-{stamp}.csv"'
        return response

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        query = request.GET.copy()
        query.pop("p", None)
        extra_context["export_url"] = reverse(f"admin:{self._export_url_name()}") + (
            f"?{query.urlencode()}" if query else ""
        )
        return super().changelist_view(request, extra_context)


class _Echo:
    def write(self, value):
        return value
