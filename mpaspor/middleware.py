"""Middleware of the project: cross-app glue, no business logic."""

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.template import loader
from django.utils.log import log_response

from mpaspor.errors import DATABASE_UNAVAILABLE_ERRORS, RETRY_AFTER_SECONDS


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
