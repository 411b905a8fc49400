"""Logging filters. `MaskNikFilter` sits on every handler (settings.LOGGING), so no log line
carries a whole NIK: a 16-digit number is shown as appointments.models.mask_nik shows it
(region part and last two digits: 3578**********12), in the message, its arguments, the
traceback and the stack."""

import logging
import re

# 16 digits not inside a longer run of digits (a 15-digit billing code or a longer id is left alone).
NIK_RE = re.compile(r"(?<!\d)(\d{4})\d{10}(\d{2})(?!\d)")


def mask_niks(text: str) -> str:
    return NIK_RE.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)


class MaskNikFilter(logging.Filter):
    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's to report
            return True
        masked = mask_niks(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_niks(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_niks(record.stack_info)
        return True
