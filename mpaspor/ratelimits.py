"""Rate limits for the HTML views, in one place (django-ratelimit on the shared cache).

    from mpaspor.ratelimits import rate_limit

    @rate_limit("login")                    # a function view
    def login_view(request): ...

    @method_decorator(rate_limit("signup"), name="dispatch")   # a class-based view
    class SignUpView(FormView): ...

A group names its rates in RATES below, so every limit of the portal is read in one table.
Counting lives in Redis (the default cache); when Redis is down the limit lets the request
through (fail open) and logs a warning: a cache outage must never stop bookings. With
RATE_LIMITS_ENABLED=0 (load benchmarks only) nothing is counted at all. The API has its own
limits (DRF throttling); this module is for the web pages.
"""

import functools
import logging

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)

# group -> [(key, rate, methods)]. Keys: "ip" (REMOTE_ADDR), "user_or_ip", "post:<field>".
# Every rule of a group counts; the first one over its rate refuses the request.
RATES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    # Password guessing: per address, and per e-mail tried from anywhere (axes locks the
    # account after AXES_FAILURE_LIMIT failures; this stops a spray across many accounts).
    "login": [("ip", "20/m", ("POST",)), ("post:username", "10/m", ("POST",))],
    "signup": [("ip", "10/h", ("POST",))],
    # Verification codes: sending costs an e-mail, checking must not allow guessing 6 digits.
    "verification_send": [("user_or_ip", "3/10m", ("POST",)), ("ip", "20/h", ("POST",))],
    "verification_check": [("user_or_ip", "10/10m", ("POST",))],
    # Password reset sends an e-mail: per address, and per e-mail asked for.
    "password_reset": [("ip", "10/h", ("POST",)), ("post:email", "3/h", ("POST",))],
    # A signed-in change asks for the old password: a borrowed session must not guess it.
    "password_change": [("user_or_ip", "10/h", ("POST",))],
    # Booking: a person books a few applicants; a broker's script books hundreds.
    "booking": [("user_or_ip", "20/m", ("POST",)), ("ip", "60/m", ("POST",))],
    # Entering a draw: once per household and release, a few more to correct a form; a script
    # entering household after household from one account or address is stopped.
    "draw_entry": [("user_or_ip", "10/m", ("POST",)), ("ip", "60/m", ("POST",))],
    # Availability pages are cached; this caps a scraper polling at quota release.
    "availability": [("user_or_ip", "60/m", ("GET", "POST"))],
}


def _fail_open_usage(request, *, group: str, key: str, rate: str, methods) -> bool:
    """Count one request; True when it is over the rate. Any cache failure lets it through."""
    try:
        return is_ratelimited(request=request, group=group, key=key, rate=rate, method=list(methods), increment=True)
    except Exception:
        logger.warning("rate limit %s not counted: the cache is unavailable", group, exc_info=True)
        return False


def rate_limit(group: str):
    """Decorate a view with the limits of `group` (a key of RATES). Over the limit the view is
    not called and the visitor gets a translated 429 page."""
    if group not in RATES:
        raise KeyError(f"No rate-limit group {group!r}; add it to mpaspor.ratelimits.RATES")

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if settings.RATE_LIMITS_ENABLED:
                for key, rate, methods in RATES[group]:
                    if _fail_open_usage(request, group=f"{group}:{key}", key=key, rate=rate, methods=methods):
                        return too_many_requests(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def too_many_requests(request):
    return render(
        request,
        "429.html",
        {"message": _("Too many attempts. Please wait a minute and try again.")},
        status=429,
    )
