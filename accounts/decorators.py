from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse


def verified_email_required(view):
    """Logged in, and (when REQUIRE_VERIFIED_EMAIL is on) with a verified e-mail address."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if settings.REQUIRE_VERIFIED_EMAIL and not request.user.email_verified:
            return redirect(f"{reverse('accounts:verify_email')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper
