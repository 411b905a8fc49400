"""The root of every domain error. Each app subclasses it once (QuotaError, BookingError);
the API's exception handler and the web views map it to an answer by its `code`."""


class DomainError(Exception):
    code = "error"
    http_status = 409
    default_message = ""

    def __init__(self, message=None, *, field=None, **params):
        self.message = str(message or self.default_message) % params if params else str(message or self.default_message)
        self.field = field  # the input field at fault, for form and API errors
        super().__init__(self.message)
