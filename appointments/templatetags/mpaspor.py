"""Formatting shared by the applicant's pages: money, times in an office's zone, QR codes."""

import datetime as dt

import segno
from django import template
from django.utils import formats
from django.utils.translation import get_language

register = template.Library()


@register.filter
def rupiah(amount) -> str:
    """Rp1.950.000 in Indonesian, Rp1,950,000 in English."""
    if amount in (None, ""):
        return ""
    text = f"{int(amount):,}"
    if (get_language() or "id").startswith("id"):
        text = text.replace(",", ".")
    return f"Rp{text}"


@register.filter
def in_zone(value: dt.datetime, office) -> dt.datetime:
    """The moment as the office's wall-clock time, naive on purpose: Django's `date` filter
    would otherwise convert an aware value to the site's zone (WIB) before formatting."""
    return value.astimezone(office.tzinfo).replace(tzinfo=None) if value else value


@register.simple_tag
def office_time(value: dt.datetime, office, fmt: str = "l, j F Y, H:i") -> str:
    """'Jumat, 4 Desember 2026, 14:00 WIB': the office's zone, always with its label."""
    if not value:
        return ""
    return f"{formats.date_format(value.astimezone(office.tzinfo), fmt)} {office.timezone_label}"


@register.filter
def group_digits(value: str, size: int = 5) -> str:
    """A long code in groups that are easy to read out: 12345 67890 12345."""
    value = str(value or "")
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


@register.simple_tag
def qr_data_uri(text: str) -> str:
    """A QR code as an SVG data URI (the CSP allows img data:, no inline markup needed)."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=8, border=2)


@register.filter
def day_state(value: str) -> str:
    from quotas.selectors import DayState

    try:
        return DayState(value).label
    except ValueError:
        return value
