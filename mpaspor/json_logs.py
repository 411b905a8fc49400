"""Log lines as JSON objects, each with the id of the request (or task) it belongs to.

`RequestIdMiddleware` (mpaspor.middleware) sets the id of each request: the caller's
`X-Request-ID` when it is a plausible id (the load balancer makes one), else a new one; it is
echoed in the response's header, and gunicorn's access log line carries it too. A Celery task
runs under its task id. `RequestIdFilter` puts the id on every record, whatever the format, and
`JsonFormatter` writes one object per line (LOG_FORMAT=json, the default outside debug).
"""

import contextvars
import datetime as dt
import json
import logging
import re
import uuid

request_id = contextvars.ContextVar("request_id", default="")

# What an id from outside may look like: short, no spaces or quotes, so it cannot forge a line.
_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def id_from_header(value: str | None) -> str:
    """The caller's id when it is plausible, else a new one."""
    if value and _PLAUSIBLE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, process, and the
    traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id.get(),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)
