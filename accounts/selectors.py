import functools

from django.utils import timezone

from mpaspor.db import fetch_row, select_columns

from .models import ApiToken, User


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
