"""Low-stock alerts: rows of offices.StockMessage, written in the caller's transaction and
delivered by notifications.outbox."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from notifications.outbox import queue

from .models import PassportStock, StockMessage


def queue_stock_alerts(*, stock: PassportStock, recipients: list[tuple[str, str]], context: dict) -> None:
    """One e-mail per (address, language): the office's heads and its regional division."""
    queue(
        [
            StockMessage(
                stock=stock,
                channel=StockMessage.Channel.EMAIL,
                recipient=email,
                template="low_stock",
                language=language or settings.LANGUAGE_CODE,
                context=context,
            )
            for email, language in recipients
        ]
    )


def render_stock_message(message: StockMessage) -> tuple[str, str]:
    with translation.override(message.language or settings.LANGUAGE_CODE):
        context = {"office": message.stock.office.name, "passport_type": message.stock.get_passport_type_display()}
        context.update(message.context)
        subject = render_to_string(f"offices/email/{message.template}_subject.txt", context).strip()
        text = render_to_string(f"offices/email/{message.template}_body.txt", context)
    return subject, text
