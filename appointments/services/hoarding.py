"""Hoarding signals of applications, counted against settings.HOARDING_RULES every few minutes:
the accounts that meet a rule are flagged (and restricted) by accounts' services.

Counted here, because the data is here: holds that expired unpaid and cancellations shortly
before the visit (per account), NIKs booked with one phone (per phone), NIK disputes that an
office upheld against the account's applications and chose to flag (services.disputes).
Accounts counts its own signals (accounts per sign-up address, refused NIKs). Nothing of this runs on the booking path:
the booking only reads the restriction from the account's row (check_not_restricted)."""

import datetime as dt
from collections.abc import Callable

from django.db.models import Count, F
from django.utils import timezone

from accounts import hoarding
from accounts.hoarding import Hit, Rule
from accounts.models import AccountFlag
from accounts.selectors import accounts_per_address, refused_niks
from accounts.services import raise_hoarding_flags

from ..models import Application, ApplicationEvent, Status
from .disputes import disputed_niks


def expired_holds(*, rule: Rule, now: dt.datetime) -> list[Hit]:
    """Accounts whose unpaid holds expired `rule.threshold` times or more within the window."""
    events = ApplicationEvent.objects.filter(to_status=Status.EXPIRED, at__gt=now - rule.window, at__lte=now)
    return _per_account(events, threshold=rule.threshold)


def late_cancellations(*, rule: Rule, now: dt.datetime) -> list[Hit]:
    """Accounts that cancelled their own bookings less than `rule.before_session` before the
    session `rule.threshold` times or more within the window (staff cancellations do not count)."""
    events = ApplicationEvent.objects.filter(
        to_status=Status.CANCELLED,
        at__gt=now - rule.window,
        at__lte=now,
        actor_id=F("application__account_id"),
        application__slot__starts_at__lt=F("at") + rule.before_session,
    )
    return _per_account(events, threshold=rule.threshold)


def _per_account(events, *, threshold: int) -> list[Hit]:
    rows = (
        events.values("application__account_id").annotate(events=Count("pk")).filter(events__gte=threshold).order_by()
    )
    return [Hit(account_id=row["application__account_id"], count=row["events"]) for row in rows]


def niks_per_phone(*, rule: Rule, now: dt.datetime) -> list[Hit]:
    """Every account that booked with a phone number under which `rule.threshold` or more
    different NIKs were booked within the window, whichever accounts booked them."""
    recent = Application.objects.filter(created_at__gt=now - rule.window, created_at__lte=now).exclude(phone="")
    crowded = {
        row["phone"]: row["niks"]
        for row in recent.values("phone")
        .annotate(niks=Count("nik", distinct=True))
        .filter(niks__gte=rule.threshold)
        .order_by()
    }
    if not crowded:
        return []
    pairs = recent.filter(phone__in=crowded).values_list("account_id", "phone").distinct().order_by()
    return [Hit(account_id=account_id, count=crowded[phone], subject=phone) for account_id, phone in pairs]


COUNTERS: dict[str, Callable[..., list[Hit]]] = {
    hoarding.EXPIRED_HOLDS: expired_holds,
    hoarding.LATE_CANCELLATIONS: late_cancellations,
    hoarding.NIKS_PER_PHONE: niks_per_phone,
    hoarding.ACCOUNTS_PER_ADDRESS: accounts_per_address,
    hoarding.REFUSED_NIKS: refused_niks,
    hoarding.DISPUTED_NIKS: disputed_niks,
}
assert set(COUNTERS) == set(hoarding.EXPLANATIONS)


def evaluate_hoarding(*, now: dt.datetime | None = None) -> list[AccountFlag]:
    """Count every rule's signal over its window and flag the accounts at its threshold.
    Idempotent within a window: an account is flagged once per rule and window."""
    now = now or timezone.now()
    hits = {name: COUNTERS[rule.signal](rule=rule, now=now) for name, rule in hoarding.hoarding_rules().items()}
    return raise_hoarding_flags(hits=hits, now=now)
