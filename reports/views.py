from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from allocation.selectors import draw_demand
from offices.models import TIMEZONE_LABELS

from .exports import csv_response, rounded, sections, xlsx_response
from .forms import ReportFilterForm
from .selectors import month_range, office_report, report_offices, stock_overview
from .services import refresh_recent_office_days


def _cell(value, kind: str) -> str:
    value = rounded(value, kind)
    if value is None:
        return "–"
    if kind == "pct":
        return f"{number_format(value * 100, decimal_pos=1, force_grouping=True)} %"
    if kind == "dec":
        return number_format(value, decimal_pos=1, force_grouping=True)
    if kind == "int":
        return number_format(value, force_grouping=True)
    return str(value)


def _scoped_offices(request):
    offices = report_offices(user=request.user)
    if offices is None:
        raise PermissionDenied(_("Reports are for office heads, regional divisions and the directorate."))
    return offices


@login_required
def dashboard(request):
    offices = _scoped_offices(request)
    form = ReportFilterForm(request.GET or None, offices=offices)
    if form.is_bound and not form.is_valid():
        return render(request, "reports/dashboard.html", {"form": form, "report": None}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    month = data.get("month") or timezone.localdate().replace(day=1)
    chosen = [o for o in offices if o.code == data.get("office")] or offices
    date_from, date_to = month_range(month)
    report = office_report(offices=chosen, date_from=date_from, date_to=date_to)

    filename = f"mpaspor-report-{month:%Y-%m}" + (f"-{chosen[0].code}" if len(chosen) == 1 else "")
    export = request.GET.get("format")
    if export == "csv":
        return csv_response(report, filename)
    if export == "xlsx":
        return xlsx_response(report, filename)

    query = {"month": f"{month:%Y-%m}"}
    if data.get("office"):
        query["office"] = data["office"]
    tables = [
        {
            "title": title,
            "slug": f"table-{index}",
            "columns": columns,
            "rows": [[_cell(row.get(c.key), c.kind) for c in columns] for row in rows],
            "total": [_cell(total.get(c.key), c.kind) for c in columns] if total else None,
        }
        for index, (title, columns, rows, total) in enumerate(sections(report))
    ]
    tz = chosen[0].tzinfo if chosen else timezone.get_current_timezone()
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form if form.is_bound else ReportFilterForm(initial={"month": month}, offices=offices),
            "report": report,
            "tables": tables,
            "chart_data": report.chart_data(),
            "month": month,
            "query": urlencode(query),
            "csv_query": urlencode({**query, "format": "csv"}),
            "xlsx_query": urlencode({**query, "format": "xlsx"}),
            "computed_at": report.computed_at.astimezone(tz) if report.computed_at else None,
            "is_current_month": month == timezone.localdate().replace(day=1),
            "tz_label": TIMEZONE_LABELS.get(str(tz), ""),
            "regions": sorted({o.region.name for o in chosen}),
            "draw_demand": draw_demand(offices=chosen, date_from=date_from, date_to=date_to),
            "stock": stock_overview(offices=chosen),
            "stock_alert_days": settings.STOCK_ALERT_WORKING_DAYS,
        },
    )


@login_required
def capacity(request):
    """The capacity model per office and step, with a chart per office."""
    offices = _scoped_offices(request)
    form = ReportFilterForm(request.GET or None, offices=offices)
    if form.is_bound and not form.is_valid():
        return render(request, "reports/capacity.html", {"form": form, "offices": None}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    month = data.get("month") or timezone.localdate().replace(day=1)
    chosen = [o for o in offices if o.code == data.get("office")] or offices
    date_from, date_to = month_range(month)
    report = office_report(offices=chosen, date_from=date_from, date_to=date_to)
    rows = [
        {"capacity": report.capacities[office.pk], "figures": figures, "slug": office.code}
        for office, figures in zip(chosen, report.capacity, strict=True)
    ]
    chart_data = {
        row["slug"]: {
            "labels": [step.label for step in row["capacity"].steps],
            "per_day": [step.per_day for step in row["capacity"].steps],
            "offered": row["figures"]["offered_per_open_day"],
        }
        for row in rows
    }
    chart_data["text"] = {"per_day": _("Applications per day"), "offered": _("Places offered per day")}
    return render(
        request,
        "reports/capacity.html",
        {
            "form": form if form.is_bound else ReportFilterForm(initial={"month": month}, offices=offices),
            "offices": rows,
            "month": month,
            "chart_data": chart_data,
        },
    )


@require_POST
@login_required
def refresh_today(request):
    """Recompute today's figures, then show the month they belong to, so that the message and
    the page speak of the same figures."""
    offices = _scoped_offices(request)
    rows = refresh_recent_office_days(days_back=0, office_ids=[o.pk for o in offices])
    if rows:
        messages.success(
            request,
            ngettext(
                "Today's figures were recomputed for %(count)d office.",
                "Today's figures were recomputed for %(count)d offices.",
                rows,
            )
            % {"count": rows},
        )
    else:
        messages.info(
            request, _("Nothing to recompute today: these offices have no sessions, bookings or searches today.")
        )
    return redirect(reverse("reports:dashboard") + "?" + urlencode({"month": f"{timezone.localdate():%Y-%m}"}))
