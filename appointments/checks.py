"""System checks of the appointments app, run by `manage.py check --deploy` before a start."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

# An HMAC key shorter than this can be guessed offline from one signed notice.
MIN_PAYMENT_SECRET_LENGTH = 32


@register(Tags.security, deploy=True)
def check_payment_gateway_secret(app_configs, **kwargs):
    """Without the gateway's shared secret no payment notice can be verified: the deployment
    must not start, rather than refuse every notice while applications expire unpaid."""
    if settings.DEBUG:
        return []  # debug has a development secret of its own
    secret = settings.PAYMENT_GATEWAY_SECRET
    if not secret:
        return [
            Error(
                "PAYMENT_GATEWAY_SECRET is not set: no payment notice could be verified.",
                hint="Set PAYMENT_GATEWAY_SECRET to the secret shared with the payment gateway.",
                id="appointments.E001",
            )
        ]
    if len(secret) < MIN_PAYMENT_SECRET_LENGTH:
        return [
            Warning(
                f"PAYMENT_GATEWAY_SECRET has fewer than {MIN_PAYMENT_SECRET_LENGTH} characters.",
                hint="Ask the payment gateway for a longer random secret.",
                id="appointments.W001",
            )
        ]
    return []
