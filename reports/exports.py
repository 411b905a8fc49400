"""CSV and XLSX of exactly what the dashboard shows: the same tables, columns and rounding."""

import csv
import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from mpaspor.spreadsheets import spreadsheet_safe

from .selectors import CAPACITY_COLUMNS, DAILY_COLUMNS, SUMMARY_COLUMNS, WEEKPART_COLUMNS, Report


def rounded(value, kind: str):
    """The value as the page shows it: percentages to 0.1 %, decimals to 0.1, None empty."""
    if value is None:
        return None
    if kind == "pct":
        return round(float(value), 3)
    if kind == "dec":
        return round(float(value), 1)
    if kind == "int":
        return int(value)
    return str(value)


def sheet_names() -> list[str]:
    """The XLSX sheets' names, one per section: short enough for a sheet (31 characters at
    most) in every language, where a cut title would end mid-word."""
    return [_("Summary"), _("Capacity"), _("Weekdays, weekends"), _("Per day")]


def sections(report: Report) -> list[tuple[str, list, list[dict], dict | None]]:
    """(title, columns, rows, total row or None) of each table, in page order."""
    return [
        (_("Summary per office"), SUMMARY_COLUMNS, report.summary, report.totals),
        (_("Capacity evaluation"), CAPACITY_COLUMNS, report.capacity, None),
        (_("Weekdays against weekends"), WEEKPART_COLUMNS, report.weekparts, None),
        (_("Per day"), DAILY_COLUMNS, report.daily, None),
    ]


def _title(report: Report) -> list[list]:
    return [
        [_("Passport appointment report"), f"{report.date_from.isoformat()} – {report.date_to.isoformat()}"],
        [_("Offices"), ", ".join(office.name for office in report.offices)],
    ]


def _safe(cells: list) -> list:
    """Every cell of a line through the one export rule (office names are staff's free text)."""
    return [spreadsheet_safe(cell) for cell in cells]


def csv_response(report: Report, filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in _title(report):
        writer.writerow(_safe(line))
    for title, columns, rows, total in sections(report):
        rows = rows + ([total] if total else [])
        writer.writerow([])
        writer.writerow(_safe([title]))
        writer.writerow(_safe([str(c.label) + (" (%)" if c.kind == "pct" else "") for c in columns]))
        for row in rows:
            cells = []
            for c in columns:
                value = rounded(row.get(c.key), c.kind)
                if c.kind == "pct" and value is not None:
                    value = round(value * 100, 1)
                cells.append("" if value is None else value)
            writer.writerow(_safe(cells))
    # A byte-order mark so that spreadsheet programs read the UTF-8 (office names, dashes).
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(report: Report, filename: str) -> HttpResponse:
    workbook = Workbook()
    first = True
    for (_heading, columns, rows, total), name in zip(sections(report), sheet_names(), strict=True):
        rows = rows + ([total] if total else [])
        sheet = workbook.active if first else workbook.create_sheet()
        sheet.title = name
        if first:
            for line in _title(report):
                sheet.append(_safe(line))
            sheet.append([])
            first = False
        sheet.append(_safe([str(c.label) for c in columns]))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(_safe([rounded(row.get(c.key), c.kind) for c in columns]))
            for cell, column in zip(sheet[sheet.max_row], columns, strict=True):
                if column.kind == "pct":
                    cell.number_format = "0.0%"
                elif column.kind == "dec":
                    cell.number_format = "0.0"
        for index in range(len(columns)):
            sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = 14 if index else 28
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
