"""Validators shared by every layer that takes a person's name or phone (sign-up, booking, API)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A name as printed on an e-KTP: letters (any script), spaces and . , ' - between them. No
# digits, no markup, no control characters.
PERSON_NAME_RE = re.compile(r"[^\W\d_]+(?:[ .,'’-]+[^\W\d_]*)*")
PERSON_NAME_MESSAGE = _("The full name may contain only letters, spaces and . , ' -")


def is_person_name(value) -> bool:
    return isinstance(value, str) and bool(PERSON_NAME_RE.fullmatch(value.strip()))


def validate_person_name(value) -> None:
    if not is_person_name(value):
        raise ValidationError(PERSON_NAME_MESSAGE, code="invalid_name")


# An Indonesian mobile number, as typed with or without the country code.
PHONE_RE = re.compile(r"(\+62|62|0)8[0-9]{7,12}")
PHONE_MESSAGE = _("Enter an Indonesian mobile number, e.g. 081234567890 or +6281234567890.")


def normalize_phone(value: str) -> str:
    """Accept the spaces and dashes people type; keep digits (and a leading +)."""
    value = (value or "").strip()
    return (value[:1] if value.startswith("+") else "") + "".join(c for c in value if c.isdigit())


def is_phone(value) -> bool:
    return isinstance(value, str) and bool(PHONE_RE.fullmatch(value))


def validate_phone(value) -> None:
    if not is_phone(value):
        raise ValidationError(PHONE_MESSAGE, code="invalid_phone")
