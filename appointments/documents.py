"""The documents an applicant brings to the office, per kind of application.

A static list until documents become data of their own: the originals are checked at the
counter against the data given at booking."""

from django.utils.translation import gettext_lazy as _

from .models import ApplicationKind

E_KTP = _("e-KTP (electronic identity card)")
FAMILY_CARD = _("Kartu Keluarga (family card)")
ONE_OF_BIRTH_DIPLOMA_MARRIAGE = _(
    "One of: birth certificate, school diploma (ijazah), or marriage book (buku nikah); the name, "
    "place and date of birth on it must match the e-KTP"
)
OLD_PASSPORT = _("Your current passport")
BOOKING = _("This booking's QR code (on your phone or printed)")

DOCUMENTS_TO_BRING = {
    ApplicationKind.NEW: [E_KTP, FAMILY_CARD, ONE_OF_BIRTH_DIPLOMA_MARRIAGE, BOOKING],
    ApplicationKind.REPLACEMENT_EXPIRED: [E_KTP, FAMILY_CARD, OLD_PASSPORT, BOOKING],
    ApplicationKind.REPLACEMENT_FULL: [E_KTP, FAMILY_CARD, OLD_PASSPORT, BOOKING],
    ApplicationKind.LOST: [E_KTP, FAMILY_CARD, _("The police report of the loss")],
    ApplicationKind.DAMAGED: [E_KTP, FAMILY_CARD, _("The damaged passport")],
    ApplicationKind.DATA_CHANGE: [
        E_KTP,
        FAMILY_CARD,
        OLD_PASSPORT,
        _("The official document of the change (for example a court decision on a change of name)"),
    ],
}


def documents_to_bring(kind: str) -> list:
    """The originals to bring for this kind of application."""
    return DOCUMENTS_TO_BRING.get(kind, [E_KTP, FAMILY_CARD])
