import datetime as dt
import functools

from django.db.models import Count
from django.utils import timezone

from mpaspor.db import fetch_row, select_columns

from .hoarding import Hit, Rule
from .models import ApiToken, RefusedNik, User


# Every API request runs this; written out because building the same query with the ORM costs
# more CPU than running it (mpaspor/db.py). Same rows as
# ApiToken.objects.select_related("user").filter(key_hash=..., revoked_at__isnull=True, expires_at__gt=now).
@functools.cache
def _active_token_sql() -> str:
    return (
        f"SELECT {select_columns(User, 'u')}, {select_columns(ApiToken, 't')}"
        f" FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id"
        " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s"
    )


def active_api_token(*, key_hash: str) -> ApiToken | None:
    """The unexpired, unrevoked token with this hash and its user, in one indexed query; or None."""
    row = fetch_row("active_api_token", _active_token_sql(), [key_hash, timezone.now()], (User, ApiToken))
    if row is None:
        return None
    user, token = row
    token.user = user
    return token


# --- Hoarding signals of accounts' own data (accounts.hoarding) ----------------------------


def accounts_per_address(*, rule: Rule, now: dt.datetime) -> list[Hit]:
    """Every account signed up from an address that `rule.threshold` or more accounts signed up
    from within the window."""
    since = now - rule.window
    joined = User.objects.filter(date_joined__gt=since, date_joined__lte=now, signup_address__isnull=False)
    crowded = {
        row["signup_address"]: row["accounts"]
        for row in joined.values("signup_address")
        .annotate(accounts=Count("pk"))
        .filter(accounts__gte=rule.threshold)
        .order_by()
    }
    if not crowded:
        return []
    return [
        Hit(account_id=pk, count=crowded[address], subject=address)
        for pk, address in joined.filter(signup_address__in=crowded).values_list("pk", "signup_address")
    ]


def refused_niks(*, rule: Rule, now: dt.datetime) -> list[Hit]:
    """Accounts refused `rule.threshold` or more different NIKs of other people's applications
    within the window (counted by day: RefusedNik keeps days, in TIME_ZONE)."""
    first_day = timezone.localdate(now - rule.window)
    rows = (
        RefusedNik.objects.filter(day__gt=first_day, day__lte=timezone.localdate(now))
        .values("account_id")
        .annotate(niks=Count("nik_digest", distinct=True))
        .filter(niks__gte=rule.threshold)
        .order_by()
    )
    return [Hit(account_id=row["account_id"], count=row["niks"]) for row in rows]
