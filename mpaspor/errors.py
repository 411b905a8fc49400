"""The root of every domain error. Each app subclasses it once (QuotaError, BookingError);
the API's exception handler and the web views map it to an answer by its `code`.

Also the database errors that answer 503 instead of 500 (mpaspor.api, mpaspor.middleware)."""

from django.db import InterfaceError, OperationalError

# The database failed the request mid-way: its connection was dropped (pg_terminate_backend, a
# restart, a failover), or a lock or statement timed out. The request's transaction rolled back
# and the next request reconnects (CONN_HEALTH_CHECKS), so the client is told to try again
# (503 with Retry-After) instead of being shown a crash. Still an incident: logged at ERROR.
DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


class DomainError(Exception):
    code = "error"
    http_status = 409
    default_message = ""

    def __init__(self, message=None, *, field=None, **params):
        self.message = str(message or self.default_message) % params if params else str(message or self.default_message)
        self.field = field  # the input field at fault, for form and API errors
        super().__init__(self.message)
