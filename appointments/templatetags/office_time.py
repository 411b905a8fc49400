"""Times are shown in the office's own zone with its label (DESIGN invariant 5)."""

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def in_office_zone(value, office):
    """{{ slot.starts_at|in_office_zone:office }} -> "2 Desember 2026, 08:00 WIB"."""
    if not value:
        return ""
    local = value.astimezone(office.tzinfo)
    return f"{formats.date_format(local, 'j F Y, H:i')} {office.timezone_label}"


@register.filter
def rupiah(amount):
    return "Rp" + f"{int(amount):,}".replace(",", ".") if amount is not None else ""
