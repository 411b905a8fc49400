from django.utils import timezone

from .models import ApiToken, User

# Every API request runs this; written out because building the same query with the ORM costs
# more CPU than running it (bench/analysis.md). Same rows as
# ApiToken.objects.select_related("user").filter(key_hash=..., revoked_at__isnull=True, expires_at__gt=now).
_ACTIVE_TOKEN_SQL = (
    "SELECT u.*, t.id AS token_id, t.created_at AS token_created_at, t.expires_at AS token_expires_at"
    f" FROM {User._meta.db_table} u JOIN {ApiToken._meta.db_table} t ON t.user_id = u.id"
    " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s"
)


def active_api_token(*, key_hash: str) -> ApiToken | None:
    """The unexpired, unrevoked token with this hash and its user, in one indexed query; or None."""
    user = next(iter(User.objects.raw(_ACTIVE_TOKEN_SQL, [key_hash, timezone.now()])), None)
    if user is None:
        return None
    # The stored row as the ORM would have loaded it (not a new, unsaved instance).
    token = ApiToken.from_db(
        user._state.db,
        ["id", "user_id", "key_hash", "created_at", "expires_at", "revoked_at"],
        [user.token_id, user.pk, key_hash, user.token_created_at, user.token_expires_at, None],
    )
    token.user = user
    return token
