"""Validators shared by every layer that takes a person's name (sign-up, booking, API)."""

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
