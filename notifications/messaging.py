"""The outside world of notifications: e-mail through Django's backends, SMS/WhatsApp through
one gateway interface. Tests replace the gateway (never the database)."""

import logging

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message could not be delivered now; the outbox tries again later."""


class PermanentDeliveryError(DeliveryError):
    """Trying again will not help (bad number, refused by the gateway)."""


class PhoneGateway:
    """One interface for SMS and WhatsApp."""

    def send(self, *, channel: str, to: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class LoggingPhoneGateway(PhoneGateway):
    """Development: writes the message to the log instead of sending it."""

    def send(self, *, channel: str, to: str, text: str) -> None:
        logger.info("%s to %s: %s", channel.upper(), to, text)


class HttpPhoneGateway(PhoneGateway):
    """A provider's HTTP API: POST {channel, to, text} as JSON with a bearer token.

    Configured by PHONE_GATEWAY_URL and PHONE_GATEWAY_TOKEN (environment)."""

    timeout = 10

    def __init__(self, url: str | None = None, token: str | None = None):
        self.url = url or settings.PHONE_GATEWAY_URL
        self.token = token or settings.PHONE_GATEWAY_TOKEN
        if not self.url or not self.token:
            raise PermanentDeliveryError("PHONE_GATEWAY_URL and PHONE_GATEWAY_TOKEN must be set for the HTTP gateway.")

    def send(self, *, channel: str, to: str, text: str) -> None:
        try:
            answer = requests.post(
                self.url,
                json={"channel": channel, "to": to, "text": text},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"gateway unreachable: {exc}") from exc
        if answer.status_code >= 500 or answer.status_code == 429:
            raise DeliveryError(f"gateway answered {answer.status_code}")
        if answer.status_code >= 400:
            raise PermanentDeliveryError(f"gateway refused: {answer.status_code} {answer.text[:200]}")


def phone_gateway() -> PhoneGateway:
    return import_string(settings.PHONE_GATEWAY_BACKEND)()


def send_email(*, to: str, subject: str, text: str) -> None:
    try:
        EmailMessage(subject=subject, body=text, to=[to]).send(fail_silently=False)
    except (OSError, ConnectionError) as exc:  # SMTP down, refused, timed out
        raise DeliveryError(f"e-mail not sent: {exc}") from exc
