"""The bench's gunicorn application: the portal, and the floors with nothing around them.

`make bench` serves this instead of mpaspor.wsgi: every path goes to the portal exactly as in
production, except the floors under /bench/ (bench/baseline.py), which a Django handler with no
middleware at all serves (same process, same settings, same database connection handling). The
portal's paths are measured against them: the middleware is one of its layers.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mpaspor.settings")

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest  # noqa: E402
from django.test import override_settings  # noqa: E402

from mpaspor.wsgi import application as portal  # noqa: E402 - sets Django up


class BaselineRequest(WSGIRequest):
    # Django resolves a request's own urlconf instead of ROOT_URLCONF, so the baseline's route
    # stays out of the portal's URLs.
    urlconf = "bench.urls"


with override_settings(MIDDLEWARE=[]):
    bare = WSGIHandler()  # reads MIDDLEWARE once, here
bare.request_class = BaselineRequest


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/bench/"):
        return bare(environ, start_response)
    return portal(environ, start_response)
