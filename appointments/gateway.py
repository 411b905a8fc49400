"""Payment gateways: what a paid billing code looks like when it reaches us.

Two ways in, one service (`services.payments.record_payment`) behind them:
- the HMAC gateway: a real gateway POSTs a JSON notice to /api/v1/payments/notify/, signed
  with HMAC-SHA256 over the raw body with a shared secret (PAYMENT_GATEWAY_SECRET);
- the development gateway: a page where the logged-in applicant "pays" (DEBUG or
  PAYMENT_DEV_GATEWAY only).

Notice body (JSON): {"transaction_id", "billing_code", "amount", "paid_at" (ISO 8601 with
offset), "timestamp" (Unix seconds, when the gateway sent it)}. Header:
`X-Signature: <hex HMAC-SHA256 of the raw body>`.
"""

import datetime as dt
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mpaspor.input_guard import load_json

from .exceptions import BookingError, InvalidInput

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature"


class BadSignature(BookingError):
    code = "bad_signature"
    http_status = 403
    default_message = _("The payment notice's signature is not valid.")


class StaleNotice(BookingError):
    code = "stale_notice"
    http_status = 403
    default_message = _("The payment notice is too old or from the future.")


class DevGatewayDisabled(BookingError):
    code = "not_found"
    http_status = 404
    default_message = _("The development payment gateway is switched off.")


@dataclass(frozen=True)
class PaymentNotice:
    transaction_id: str
    billing_code: str
    amount: int
    paid_at: dt.datetime
    gateway: str
    timestamp: int | None = None


def sign(body: bytes, secret: str | None = None) -> str:
    """What a gateway puts in X-Signature (used by tests and by gateway simulators)."""
    secret = secret if secret is not None else settings.PAYMENT_GATEWAY_SECRET
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(*, body: bytes, signature: str) -> None:
    secret = settings.PAYMENT_GATEWAY_SECRET
    if not secret:
        # A deployment error that `check --deploy` reports (appointments.E001). Meanwhile no
        # notice can be verified: each is refused as unsigned, and the operators are told.
        logger.error("PAYMENT_GATEWAY_SECRET is not set: a payment notice was refused")
        raise BadSignature()
    if not signature or not hmac.compare_digest(sign(body, secret), signature.strip().lower()):
        raise BadSignature()


# The largest amount a payment row holds (a positive integer column), and a timestamp far beyond
# any real one: larger numbers are refused as malformed instead of failing in the database.
MAX_AMOUNT = 2**31 - 1
MAX_TIMESTAMP = 10**11


def parse_notice(body: bytes) -> PaymentNotice:
    """The notice in a signed body, or InvalidInput. Signed does not mean well formed: a NUL or
    a lone surrogate in a text (load_json) and numbers out of range are refused here."""
    try:
        data = load_json(body)
        paid_at = dt.datetime.fromisoformat(str(data["paid_at"]))
        if timezone.is_naive(paid_at):
            raise ValueError("paid_at needs an offset")
        notice = PaymentNotice(
            transaction_id=str(data["transaction_id"])[:64],
            billing_code=str(data["billing_code"]),
            amount=_whole_number(data["amount"], maximum=MAX_AMOUNT),
            paid_at=paid_at,
            gateway=str(data.get("gateway") or "gateway")[:20],
            timestamp=_whole_number(data["timestamp"], maximum=MAX_TIMESTAMP),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(_("The payment notice is not well formed.")) from exc
    if not notice.transaction_id:
        raise InvalidInput(_("The payment notice is not well formed."))
    return notice


def _whole_number(value, *, maximum: int) -> int:
    """A number from 0 to `maximum`, sent as a JSON integer or a string of digits."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("not a whole number")
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("not a string of digits")  # int() would also take " 12", "1_2" and other scripts' digits
    number = int(value)
    if not 0 <= number <= maximum:
        raise ValueError("out of range")
    return number


def check_fresh(notice: PaymentNotice, *, now: dt.datetime | None = None) -> None:
    """A signed notice is accepted only within PAYMENT_NOTICE_MAX_AGE_SECONDS of its timestamp,
    so a captured notice cannot be replayed days later for a new transaction."""
    now = now or timezone.now()
    if abs(now.timestamp() - notice.timestamp) > settings.PAYMENT_NOTICE_MAX_AGE_SECONDS:
        raise StaleNotice()


def dev_gateway_enabled() -> bool:
    return bool(settings.DEBUG or settings.PAYMENT_DEV_GATEWAY)


def dev_notice(*, billing_code: str, amount: int) -> PaymentNotice:
    """The development gateway's notice: paid now, the exact amount."""
    if not dev_gateway_enabled():
        raise DevGatewayDisabled()
    return PaymentNotice(
        transaction_id=f"dev-{uuid.uuid4().hex}",
        billing_code=billing_code,
        amount=amount,
        paid_at=timezone.now(),
        gateway="dev",
    )
