"""The root of every domain error. Each app subclasses it once (QuotaError, BookingError);
the API's exception handler and the web views map it to an answer by its `code`.

Also the database errors that answer 503 instead of 500, and the answer to input that cannot be
processed (mpaspor.api, mpaspor.middleware)."""

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _

# The database failed the request mid-way: its connection was dropped (pg_terminate_backend, a
# restart, a failover), or a lock or statement timed out. The request's transaction rolled back
# and the next request reconnects (CONN_HEALTH_CHECKS), so the client is told to try again
# (503 with Retry-After) instead of being shown a crash. Still an incident: logged at ERROR.
DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5

# The answer to input that Python or the database cannot take (mpaspor.input_guard), and to a
# value the database refused (DataError): 400, in the API's error shape or as the 400 page.
BAD_INPUT_DETAIL = _(
    "The request holds a character or a value that cannot be processed (a NUL character, a lone surrogate, a "
    "number out of range, or nesting too deep). Nothing was changed."
)
# The same, for the one field or parameter at fault (the API's `errors`).
BAD_VALUE_MESSAGE = _("This value holds a NUL character, a lone surrogate or a number out of range.")


class DomainError(Exception):
    code = "error"
    http_status = 409
    default_message = ""

    def __init__(self, message=None, *, field=None, **params):
        self.message = str(message or self.default_message) % params if params else str(message or self.default_message)
        self.field = field  # the input field at fault, for form and API errors
        super().__init__(self.message)
