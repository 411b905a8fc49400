"""Hoarding rules: which signal, counted over which window, at which threshold, leads to which
consequence (settings.HOARDING_RULES), and the explanation an applicant reads.

A signal is counted per account (expired holds, late cancellations, refused NIKs, NIK disputes
upheld against it), per phone
(NIKs booked with it) or per client address (accounts signed up from it). The counting lives
with the data: accounts counts its own signals (selectors), appointments counts those of
applications and hands every rule's hits to `services.raise_hoarding_flags`."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

EXPIRED_HOLDS = "expired_holds"
LATE_CANCELLATIONS = "late_cancellations"
NIKS_PER_PHONE = "niks_per_phone"
ACCOUNTS_PER_ADDRESS = "accounts_per_address"
REFUSED_NIKS = "refused_niks"
# NIK disputes an office upheld against the account's applications, when the office chose to flag
# it (appointments.services.disputes).
DISPUTED_NIKS = "disputed_niks"

# Why the account is restricted, as the applicant reads it: %(threshold)s, %(window)s and, for
# late cancellations, %(before)s come from the rule.
EXPLANATIONS = {
    EXPIRED_HOLDS: _("%(threshold)s or more of its bookings were left unpaid until they expired, within %(window)s."),
    LATE_CANCELLATIONS: _(
        "%(threshold)s or more of its bookings were cancelled less than %(before)s before the visit, within %(window)s."
    ),
    NIKS_PER_PHONE: _("%(threshold)s or more different NIKs were booked with one phone number, within %(window)s."),
    ACCOUNTS_PER_ADDRESS: _("%(threshold)s or more accounts were created from one network address, within %(window)s."),
    REFUSED_NIKS: _(
        "It tried %(threshold)s or more NIKs that already had someone else's active application, within %(window)s."
    ),
    DISPUTED_NIKS: _(
        "An immigration office found that %(threshold)s or more of its bookings used someone else's NIK without "
        "their consent, within %(window)s."
    ),
}
# Mobile carriers put many people behind one address: this signal is only ever for review.
FLAG_ONLY_SIGNALS = {ACCOUNTS_PER_ADDRESS}

# `User.restricted_by` for an account that staff blocked after a review: no end.
BLOCKED = "blocked"


@dataclass(frozen=True)
class Rule:
    name: str
    signal: str
    threshold: int
    window: dt.timedelta
    restrict_for: dt.timedelta | None = None  # None: a flag for review, no restriction
    before_session: dt.timedelta = dt.timedelta(hours=24)  # late cancellations only

    def explanation(self) -> str:
        return str(EXPLANATIONS[self.signal]) % {
            "threshold": self.threshold,
            "window": duration_text(self.window),
            "before": duration_text(self.before_session),
        }


@dataclass(frozen=True)
class Hit:
    """One account that met a rule: how many were counted, and on which phone or address."""

    account_id: int
    count: int
    subject: str = ""


def duration_text(value: dt.timedelta) -> str:
    if value % dt.timedelta(days=1):
        hours = int(value.total_seconds() // 3600)
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d day", "%(n)d days", value.days) % {"n": value.days}


def hoarding_rules() -> dict[str, Rule]:
    """settings.HOARDING_RULES by name, checked: a known signal, a threshold of at least 1, and
    no restriction from a flag-only signal."""
    rules = {}
    for name, values in settings.HOARDING_RULES.items():
        rule = Rule(name=name, **values)
        if rule.signal not in EXPLANATIONS:
            raise ImproperlyConfigured(f"HOARDING_RULES[{name!r}]: unknown signal {rule.signal!r}")
        if rule.threshold < 1 or rule.window <= dt.timedelta(0):
            raise ImproperlyConfigured(f"HOARDING_RULES[{name!r}]: threshold and window must be positive")
        if rule.restrict_for is not None and rule.signal in FLAG_ONLY_SIGNALS:
            raise ImproperlyConfigured(f"HOARDING_RULES[{name!r}]: {rule.signal} never restricts on its own")
        rules[name] = rule
    return rules
