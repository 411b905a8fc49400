"""`Authorization: Token <key>` for the REST API: revocable, expiring, stored hashed."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .selectors import active_api_token
from .services import hash_token_key


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: use “Token <key>”."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token header: use “Token <key>”.")) from None
        token = active_api_token(key_hash=hash_token_key(key))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token is unknown, expired or revoked. Log in again."))
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`, the key from `auth/login/`. "
            "Keys expire (API_TOKEN_TTL_DAYS) and are revoked by `auth/logout/`.",
        }
