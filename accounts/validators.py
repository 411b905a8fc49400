"""The one rule for a person's name and phone, wherever they come in: sign-up (web and API), the
booking form and API, the people form and the counter's walk-ins. Each rule is a `*_problem`
function (the message, or None) for services, and a `validate_*` Django validator for form and
serializer fields."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A name as printed on an e-KTP: letters (any script), spaces and . , ' - between them. No
# digits, no markup, no control characters.
PERSON_NAME_RE = re.compile(r"[^\W\d_]+(?:[ .,'’-]+[^\W\d_]*)*")
PERSON_NAME_MAX_LENGTH = 150  # the model fields' max_length
PERSON_NAME_MESSAGE = _("The full name may contain only letters, spaces and . , ' -")


def person_name_problem(value) -> str | None:
    """What is wrong with a full name, or None."""
    if not isinstance(value, str) or not value.strip():
        return str(_("Enter the full name as written on the e-KTP."))
    if len(value) > PERSON_NAME_MAX_LENGTH:
        return str(_("The full name may have at most %(max)s characters.") % {"max": PERSON_NAME_MAX_LENGTH})
    if not PERSON_NAME_RE.fullmatch(value.strip()):
        return str(PERSON_NAME_MESSAGE)
    return None


def validate_person_name(value) -> None:
    problem = person_name_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_name")


# An Indonesian mobile number, as typed with or without the country code.
PHONE_PATTERN = r"(\+62|62|0)8[0-9]{7,12}"
PHONE_RE = re.compile(PHONE_PATTERN)
PHONE_MAX_LENGTH = 16
PHONE_MESSAGE = _("Enter an Indonesian mobile number, e.g. 081234567890 or +6281234567890.")


PHONE_SEPARATORS_RE = re.compile(r"[\s().-]")


def normalize_phone(value: str) -> str:
    """Drop the spaces, dashes, dots and brackets people type into a form; anything else stays,
    for the rule to refuse (never a silent guess at what was meant)."""
    return PHONE_SEPARATORS_RE.sub("", value or "")


def phone_problem(value) -> str | None:
    """What is wrong with a phone number as stored (normalised), or None."""
    if not isinstance(value, str) or not PHONE_RE.fullmatch(value):
        return str(PHONE_MESSAGE)
    return None


def validate_phone(value) -> None:
    problem = phone_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_phone")
