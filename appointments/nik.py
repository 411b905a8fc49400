"""NIK (Nomor Induk Kependudukan): 16 digits, PP DD WW DDMMYY SSSS.

Digits 1-2 province, 3-4 regency/city, 5-6 district, 7-12 birth date DDMMYY with 40 added to
the day for women, 13-16 a serial from 0001.
"""

import datetime as dt

from django.utils.translation import gettext_lazy as _

PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "16", "17", "18", "19", "21"}
    | {"31", "32", "33", "34", "35", "36", "51", "52", "53"}
    | {"61", "62", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
    | {"81", "82", "91", "92", "93", "94", "95", "96"}
)


def nik_problem(nik: str, *, birth_date: dt.date, sex: str):
    """The reason a NIK is invalid for this person, or None when it is valid."""
    if not isinstance(nik, str) or len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        return _("A NIK has exactly 16 digits.")
    if nik[:2] not in PROVINCE_CODES:
        return _("The NIK's first two digits are not a province code.")
    if nik[12:] == "0000":
        return _("The NIK's last four digits (serial) cannot be 0000.")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if sex == "F":
        day -= 40
    if (day, month, year) != (birth_date.day, birth_date.month, birth_date.year % 100):
        return _("The NIK does not match the birth date and sex given.")
    return None


def build_nik(*, birth_date: dt.date, sex: str, region: str = "357101", serial: int = 1) -> str:
    """A NIK that is valid for this person (demo data and tests)."""
    day = birth_date.day + (40 if sex == "F" else 0)
    return f"{region}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
