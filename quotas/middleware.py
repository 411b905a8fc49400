"""Availability reads answered from the pre-rendered days before the rest of the stack.

At a release most requests are people refreshing an office's availability. The API view
(quotas/api.py) is public and reads no account, so when the cache holds the joined answer of the
range asked, fresh, this middleware answers at once: no session, CSRF or message middleware, no DRF
negotiation, no database. It sits after SecurityMiddleware (HTTPS redirect, security headers) and
keeps what the skipped layers would add to this answer: the host check, the language (the
cookie, then Accept-Language) with its Content-Language and Vary, X-Frame-Options, the API's rate
limit per address and the demand count. Anything else (a cache miss, a stale range, a range not
in the plain form, a throttled client) takes the full path, which answers as before and stores
the joined range.
"""

import re

from django.utils import translation
from django.utils.cache import patch_vary_headers

from mpaspor.api import IpRateThrottle

from .api import asked_range, availability_response
from .availability_cache import cached_availability

PATH = re.compile(r"^/api/v1/offices/(?P<code>[\w-]+)/availability/$")


class AvailabilityFromCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "GET" or not (match := PATH.match(request.path_info)):
            return self.get_response(request)
        asked = asked_range(request.GET)
        if asked is None:
            return self.get_response(request)
        request.get_host()  # a host outside ALLOWED_HOSTS is refused as on every other path
        language = translation.get_language_from_request(request)
        found = cached_availability(code=match["code"], language=language, asked=asked)
        if found is None or not IpRateThrottle().allow_request(request, None):
            return self.get_response(request)
        with translation.override(language):
            response = availability_response(request, found)
        response.headers["Content-Language"] = language
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
