"""Web-page middleware of the project: cross-app glue, no business logic."""

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
        log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request,
                     exception=exception)
        return response
