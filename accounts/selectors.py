from django.utils import timezone

from .models import ApiToken


def active_api_token(*, key_hash: str):
    """The unexpired, unrevoked token with this hash and its user, in one indexed query; or None."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
