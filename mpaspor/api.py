"""Cross-app glue of the REST API: the one exception handler, the error shape, the rate limits.

Every error answer has the shape `{"code": ..., "detail": ..., "errors": {field: [..]}}`, which
the mobile app relies on; `errors` only for invalid input (400 `invalid`).
"""

import copy
import logging
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from django.utils.log import log_response
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from redis.exceptions import RedisError
from rest_framework import exceptions, parsers, serializers
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from mpaspor.errors import (
    BAD_INPUT_DETAIL,
    BAD_VALUE_MESSAGE,
    DATABASE_UNAVAILABLE_ERRORS,
    RETRY_AFTER_SECONDS,
    DomainError,
)
from mpaspor.input_guard import UnprocessableJson, check_json
from mpaspor.metrics import count_refusal

logger = logging.getLogger(__name__)

INVALID_DETAIL = _("The input is invalid. See the errors per field.")
UNAVAILABLE_DETAIL = _("The service is busy; try again in a moment.")


def _has_child(field) -> bool:
    return hasattr(field, "child") or hasattr(field, "child_relation")  # lists, dicts, many related


class Serializer(serializers.Serializer):
    """The project's base for API serializers: DRF's, building its fields for less CPU.

    For every serializer it builds, DRF deep-copies each declared field, which runs the field's
    __init__ again with deep-copied arguments: about 40 µs a field, a tenth of a refused booking.
    A plain field is copied shallowly instead. The declared field is never bound itself, and
    binding sets the copy's own name, parent and source; what a copy shares with it (choices,
    validators, error messages) is only read. Nested serializers and fields with a
    bound child (lists, dicts) are deep-copied as DRF does. A field's `default` is shared: give a
    callable (`list`), never a mutable value (`[]`).
    """

    def get_fields(self):
        return {
            name: copy.deepcopy(field)
            if isinstance(field, serializers.BaseSerializer) or _has_child(field)
            else copy.copy(field)
            for name, field in self._declared_fields.items()
        }


# DRF's own codes, renamed where the contract names them.
DRF_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "invalid",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error tree as `{"applicant.nik": ["..."]}`: one flat map of field paths."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        for index, item in enumerate(detail):
            if item:
                flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        items = detail if isinstance(detail, list) else [detail]
        flat[prefix or "non_field_errors"] = [str(item) for item in items]
    return flat


def error_response(*, code: str, detail, http_status: int, errors=None, headers=None) -> Response:
    count_refusal(code)  # every error answer of the API is made here
    body = {"code": code, "detail": str(detail)}
    if errors:
        body["errors"] = errors
    return Response(body, status=http_status, headers=headers)


def exception_handler(exc, context):
    """Map domain errors and DRF's errors to the contract's error shape, and a database that
    failed mid-request to 503 `unavailable`; anything else is a bug and stays a 500."""
    # A service names a field in its own words; the view may map it to the API's path.
    field_names = getattr(context.get("view"), "error_field_names", {})
    if isinstance(exc, DomainError):
        errors = None
        if exc.http_status == 400:
            errors = {field_names.get(exc.field, exc.field or "non_field_errors"): [exc.message]}
        # The contract's codes for these two statuses; the others carry the domain's own code.
        code = {400: "invalid", 429: "throttled"}.get(exc.http_status, exc.code)
        retry_after = getattr(exc, "retry_after", None)  # a refusal that knows when it ends
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        response = error_response(
            code=code, detail=exc.message, http_status=exc.http_status, errors=errors, headers=headers
        )
        if exc.http_status == 409:
            # An expected refusal (most of a release burst is `slot_full`): logged at DEBUG here
            # instead of a WARNING line per request from django.request.
            logger.debug("Conflict %s: %s", code, context["request"].path)
            response._has_been_logged = True
        return response
    if isinstance(exc, DjangoValidationError):  # a service's validation (passwords, full_clean)
        if hasattr(exc, "error_dict"):
            errors = {
                field_names.get(k, k) if k != "__all__" else "non_field_errors": v for k, v in exc.message_dict.items()
            }
        else:
            errors = {"non_field_errors": exc.messages}
        return error_response(code="invalid", detail=INVALID_DETAIL, http_status=400, errors=errors)
    if isinstance(exc, DataError):
        # The database refused a value of the request (a number out of range, an invalid regular
        # expression): the input is at fault and nothing was stored. Logged as Django logs a 4xx.
        response = error_response(code="invalid", detail=BAD_INPUT_DETAIL, http_status=400)
        request = context["request"]
        log_response(
            "%s: %s",
            response.reason_phrase,
            ascii(request.path),
            response=response,
            request=getattr(request, "_request", request),
            exception=exc,
        )
        return response
    if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
        response = error_response(
            code="unavailable",
            detail=UNAVAILABLE_DETAIL,
            http_status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        # An incident all the same: logged as Django logs a 500, at ERROR with the traceback (once).
        request = context["request"]
        log_response(
            "%s: %s",
            response.reason_phrase,
            request.path,
            response=response,
            request=getattr(request, "_request", request),
            exception=exc,
        )
        return response

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    # APIView.handle_exception has set auth_header (or turned the answer into a 403).
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    code = next((c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), None)
    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            code="invalid", detail=INVALID_DETAIL, http_status=400, errors=flatten_errors(exc.detail), headers=headers
        )
    if code is None:
        code = exc.default_code
    detail = exc.detail
    if isinstance(detail, (list, dict)):
        detail = exc.default_detail
    return error_response(code=code, detail=detail, http_status=exc.status_code, headers=headers)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with 400 `invalid` what mpaspor.input_guard refuses: NUL and
    lone surrogates in strings, numbers that are not finite (the value at fault is named in
    `errors`), and deep nesting. DRF's own catches only ValueError, so a body of nested arrays ran
    out of stack (RecursionError) and answered 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            check_json(data)
        except RecursionError as exc:
            raise exceptions.ParseError(BAD_INPUT_DETAIL) from exc
        except UnprocessableJson as exc:
            if exc.path is None:
                raise exceptions.ParseError(BAD_INPUT_DETAIL) from exc
            raise exceptions.ValidationError({exc.path or "non_field_errors": [BAD_VALUE_MESSAGE]}) from exc
        return data


# --- The error shape in the schema --------------------------------------------------------


class ErrorSerializer(Serializer):
    code = serializers.CharField(help_text="A machine code, e.g. `slot_full`, `invalid`, `throttled`.")
    detail = serializers.CharField(help_text="A human message in the request's language (Accept-Language).")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only for `invalid`: messages per field path, e.g. `applicant.nik`.",
    )

    class Meta:
        ref_name = "Error"


ERROR_DESCRIPTIONS = {
    400: "`invalid`: the input is invalid; `errors` lists the messages per field.",
    401: "`not_authenticated` or `authentication_failed`: no token, or an unknown, expired or revoked one.",
    403: "`permission_denied`.",
    404: "`not_found`.",
    409: "A conflict with the current state.",
    413: "`file_too_large`: the file is over the size limit.",
    415: "`file_type_not_allowed` (a file whose content is not JPEG, PNG or PDF, whatever its name) or "
    "`unsupported_media_type` (a body of another content type than the operation reads).",
    422: "`idempotency_mismatch`: this `Idempotency-Key` was sent before with another body; use a new key.",
    429: "`throttled`: too many requests; `Retry-After` says how many seconds to wait.",
    503: "`unavailable`: the database failed during the request and nothing was stored; try again after "
    "`Retry-After` seconds.",
}


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Optional; 1 to 255 visible ASCII characters, a new UUID per request. A retry with the same key "
    "and body (after a dropped connection, for example) gets the first answer again, status and body, with the "
    "header `Idempotent-Replayed: true`, and creates nothing. The same key with another body answers 422 "
    "`idempotency_mismatch`; while the first request runs, 409 `request_in_progress`. Keys are per account and "
    "path and are kept 24 hours. A request that was refused stored nothing: its retry runs again.",
)


def error_responses(*statuses: int, **descriptions: str) -> dict:
    """`extend_schema(responses=...)` entries for error answers, in the error shape.

    `descriptions` override the default text, keyed `e409="..."`. Every operation may answer 503
    (a database failure mid-request, exception_handler)."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=descriptions.get(f"e{code}", ERROR_DESCRIPTIONS[code]))
        for code in (*statuses, 503)
    }


# --- Rate limits ------------------------------------------------------------------------------


class FailSafeRateThrottle(SimpleRateThrottle):
    """A fixed-window counter in the default cache (Redis): one round trip per request.

    Switched off only by RATE_LIMITS_ENABLED=0. When the cache is unreachable the request is
    let through (a Redis outage must not stop bookings) and the cache is left alone for a few
    seconds so every request does not wait for its timeout.
    """

    scope = ""
    cache = cache
    _unavailable_until = 0.0
    OUTAGE_PAUSE_SECONDS = 5

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if not settings.RATE_LIMITS_ENABLED or self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        if time.monotonic() < FailSafeRateThrottle._unavailable_until:
            return True
        window = int(time.time() // self.duration)
        key = f"{self.key}:{window}"
        try:
            count = self.cache.count(key, 1, self.duration + 1)
        except (RedisError, OSError):  # Redis unreachable or timing out: "no limit", never a 500
            logger.warning("Rate limit cache unavailable; letting requests through", exc_info=True)
            FailSafeRateThrottle._unavailable_until = time.monotonic() + self.OUTAGE_PAUSE_SECONDS
            return True
        self.window_end = (window + 1) * self.duration
        return count <= self.num_requests

    def wait(self):
        return max(self.window_end - time.time(), 1)


class IpRateThrottle(FailSafeRateThrottle):
    """Every API request, counted per client IP address."""

    scope = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AccountRateThrottle(FailSafeRateThrottle):
    """Signed-in requests, counted per account."""

    scope = "account"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class DrawEntryRateThrottle(AccountRateThrottle):
    """Entering a draw, counted per account on top of the API's own limits: a household enters
    once per release, so a few attempts a minute are plenty; a script entering one household
    after another from one account is stopped. Only POST counts (listing is not entering)."""

    scope = "draw_entry"

    def allow_request(self, request, view):
        return request.method != "POST" or super().allow_request(request, view)


class AuthRateThrottle(IpRateThrottle):
    """Sign-up, login and the e-mail code: a tighter limit per IP address against guessing
    and mass sign-ups (django-axes also locks out an account after repeated failed logins)."""

    scope = "auth"


class LocalDateTimeField(serializers.DateTimeField):
    """An output datetime kept in the zone it carries (the office's), not the server's."""

    def enforce_timezone(self, value):
        return value


# --- Strict JSON input fields --------------------------------------------------------------
# DRF coerces (the number 5 becomes "5", "true" becomes True); the schema promises types, so
# input of the wrong JSON type is refused as the schema says.


class _StrictString:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The schema's maxLength counts the string as sent; DRF would trim whitespace first and
        # so accept a longer one.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StringField(_StrictString, serializers.CharField):
    pass


class RegexStringField(_StrictString, serializers.RegexField):
    """The whole string as sent must match, as the schema's `pattern` says: no whitespace is
    trimmed, and `$` does not let a trailing newline through (as Python's `re.search` would)."""

    def __init__(self, regex, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(regex, **kwargs)
        self._whole = re.compile(regex) if isinstance(regex, str) else regex

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not self._whole.fullmatch(value):
            self.fail("invalid")
        return value


class EmailStringField(_StrictString, serializers.EmailField):
    pass


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class IntegerChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)
