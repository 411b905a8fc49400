"""No log line carries a whole NIK, through the handlers configured in settings.LOGGING."""

import io
import logging
import logging.config

import pytest
from django.conf import settings

from appointments.models import mask_nik
from mpaspor.log_filters import MaskNikFilter, mask_niks

NIK = "3571015705900001"


@pytest.fixture
def captured():
    """The project's LOGGING with the console handler writing to a buffer."""
    stream = io.StringIO()
    config = {
        **settings.LOGGING,
        "handlers": {name: {**handler, "stream": stream} for name, handler in settings.LOGGING["handlers"].items()},
    }
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


def test_mask_matches_mask_nik():
    assert mask_niks(f"nik={NIK}.") == f"nik={mask_nik(NIK)}."


def test_other_numbers_are_left_alone():
    text = "billing 123456789012345, id 12345678901234567, phone 081234567890"
    assert mask_niks(text) == text


def test_message_and_arguments_masked(captured):
    logging.getLogger("appointments.services").warning("booking refused for %s (%d)", NIK, 3)
    logging.getLogger("some.library").info(f"raw {NIK}")
    out = captured.getvalue()
    assert NIK not in out
    assert f"booking refused for {mask_nik(NIK)} (3)" in out
    assert f"raw {mask_nik(NIK)}" in out


def test_traceback_masked(captured):
    try:
        raise ValueError(f"duplicate key value violates unique constraint: Key (nik)=({NIK}) already exists")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: /api/v1/applications/")
    out = captured.getvalue()
    assert NIK not in out
    assert f"Key (nik)=({mask_nik(NIK)})" in out and "Traceback" in out


def test_filter_is_on_every_configured_handler():
    assert settings.LOGGING["filters"]["mask_nik"]["()"] == "mpaspor.log_filters.MaskNikFilter"
    for handler in settings.LOGGING["handlers"].values():
        assert "mask_nik" in handler["filters"]


def test_filter_never_drops_a_record():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "bad format %d", ("not a number",), None)
    assert MaskNikFilter().filter(record) is True
