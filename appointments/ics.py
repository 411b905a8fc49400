"""An appointment as an iCalendar file (RFC 5545), in the office's own time zone."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Application


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with a leading space."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    out.append(current)
    return "\r\n".join(out)


def appointment_ics(application: Application, *, now: dt.datetime | None = None) -> str:
    """One event for the session, with the office's zone (WIB, WITA or WIT have no daylight
    saving, so one fixed offset describes it)."""
    now = now or timezone.now()
    slot, office = application.slot, application.slot.office
    offset = slot.starts_at.astimezone(office.tzinfo).strftime("%z")
    local = "%Y%m%dT%H%M%S"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//mpaspor//passport appointments//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VTIMEZONE",
        f"TZID:{office.timezone}",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        f"TZOFFSETFROM:{offset}",
        f"TZOFFSETTO:{offset}",
        f"TZNAME:{office.timezone_label}",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"UID:{application.booking_code}@mpaspor",
        f"DTSTAMP:{now.astimezone(dt.UTC).strftime(local)}Z",
        f"DTSTART;TZID={office.timezone}:{slot.starts_at.astimezone(office.tzinfo).strftime(local)}",
        f"DTEND;TZID={office.timezone}:{slot.ends_at.astimezone(office.tzinfo).strftime(local)}",
        "SUMMARY:" + _escape(_("Passport appointment %(code)s") % {"code": application.booking_code}),
        "LOCATION:" + _escape(", ".join(part for part in (office.name, office.address, office.city) if part)),
        "DESCRIPTION:"
        + _escape(
            _(
                "Booking code %(code)s for %(name)s. Bring your e-KTP, family card and the documents "
                "listed on the booking page."
            )
            % {"code": application.booking_code, "name": application.full_name}
        ),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
