"""Middleware of the project: cross-app glue, no business logic."""

from csp.middleware import CSPMiddleware
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import DataError
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader
from django.utils.log import log_response

from mpaspor.errors import BAD_INPUT_DETAIL, BAD_VALUE_MESSAGE, DATABASE_UNAVAILABLE_ERRORS, RETRY_AFTER_SECONDS
from mpaspor.input_guard import has_unsafe_text
from mpaspor.json_logs import id_from_header, request_id


class DatabaseUnavailableMiddleware:
    """A page whose database failed mid-request (a dropped connection, a lock or statement
    timeout) answers a translated 503 with Retry-After instead of the 500 page.

    It sees what a view raises, or its template response while rendering (process_exception);
    the API answers its own JSON 503 (mpaspor.api.exception_handler). The page is rendered
    without a request context, as the 500 page is: the auth context processor would look the
    user up on the connection that just broke.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_UNAVAILABLE_ERRORS):
            return None
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        # An incident all the same: logged as Django logs a 500, at ERROR with the traceback (once).
        log_response(
            "%s: %s", response.reason_phrase, request.path, response=response, request=request, exception=exception
        )
        return response


class BadInputMiddleware:
    """Input that Python or the database cannot take (mpaspor.input_guard) answers 400 before
    any view runs: a NUL character or a lone surrogate in the path, the query, a cookie, a header
    or a web form's field. A value that the database refuses later (DataError: an invalid regular
    expression in an admin filter, a number out of range) answers 400 too. Both answered 500.

    The API answers in its error shape, naming the query parameter at fault; a page answers with
    the 400 page, rendered without a request context like the 500 page: the context would read
    the session and the user, from a request whose cookies may be the bad input. JSON bodies are
    the API's parser's to check (mpaspor.api.JSONParser), once, when a view reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = unsafe_part(request)
        if where is not None:
            return bad_input_response(request, field=where)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DataError):
            return bad_input_response(request, exception=exception)
        return None


def unsafe_part(request) -> str | None:
    """Where the request holds unsafe text: the name of the query parameter or form field, ""
    for the path, a cookie or a header; None when nowhere."""
    texts = [("", request.path_info)]
    # Parsed only when sent: building an empty QueryDict alone costs most of this check.
    if request.META.get("QUERY_STRING"):
        texts += [(name, value) for name, values in request.GET.lists() for value in [name, *values]]
    if request.META.get("HTTP_COOKIE"):
        texts += [("", text) for cookie in request.COOKIES.items() for text in cookie]
    texts += [
        ("", value) for name, value in request.META.items() if name.startswith("HTTP_") and isinstance(value, str)
    ]
    if request.method == "POST" and not is_json_api(request):
        texts += [(name, value) for name, values in request.POST.lists() for value in [name, *values]]
    for where, text in texts:
        if has_unsafe_text(text):
            return "" if has_unsafe_text(where) else where  # a name that is itself unsafe is not quoted back
    return None


def bad_input_response(request, *, field: str = "", exception=None) -> HttpResponse:
    if is_json_api(request):
        # Written as the API's renderer writes (compact, UTF-8), in its error shape.
        body = {"code": "invalid", "detail": str(BAD_INPUT_DETAIL)}
        if exception is None:
            body["errors"] = {field or "non_field_errors": [str(BAD_VALUE_MESSAGE)]}
        response = JsonResponse(body, status=400, json_dumps_params={"separators": (",", ":"), "ensure_ascii": False})
    else:
        response = HttpResponseBadRequest(loader.render_to_string("400.html"))
    # Logged as Django logs a 4xx; ascii(): the path may hold the very characters refused.
    log_response(
        "%s: %s", response.reason_phrase, ascii(request.path), response=response, request=request, exception=exception
    )
    return response


# --- Web pages only --------------------------------------------------------------------------
JSON_API_PREFIX = "/api/v1/"
API_DOCS_PREFIX = "/api/v1/docs/"  # an HTML page (Swagger UI): treated as a web page


def is_json_api(request) -> bool:
    return request.path_info.startswith(JSON_API_PREFIX) and not request.path_info.startswith(API_DOCS_PREFIX)


class _WebPagesOnly:
    """Middleware that only web pages need. The JSON API authenticates each request by its
    token (DRF sets request.user), keeps no session, shows no messages and sets no cookie, so its
    requests skip these: a release burst is mostly API requests."""

    def __call__(self, request):
        if is_json_api(request):
            return self.get_response(request)
        return super().__call__(request)


class WebSessionMiddleware(_WebPagesOnly, SessionMiddleware):
    pass


class WebAuthenticationMiddleware(_WebPagesOnly, AuthenticationMiddleware):
    pass


class WebMessageMiddleware(_WebPagesOnly, MessageMiddleware):
    pass


# --- Every request ---------------------------------------------------------------------------


class RequestIdMiddleware:
    """First of all: each request's log lines carry its id (mpaspor.json_logs), taken from the
    load balancer's `X-Request-ID` when plausible, and the answer names it in the same header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = id_from_header(request.META.get("HTTP_X_REQUEST_ID"))
        # Not reset on the way out: Django logs a 4xx or 5xx after the middleware returned, and
        # the next request on this thread sets its own.
        request_id.set(request.id)
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response


class WebCSPMiddleware(_WebPagesOnly, CSPMiddleware):
    """A JSON answer runs nothing in a browser; building the policy for it cost ~7% of an
    availability read served from the cache."""
