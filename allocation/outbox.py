"""The waiting list's messages: an offer told by e-mail to the account and by SMS/WhatsApp to the
household's first phone. Rows of allocation.OfferMessage, written with the offer and delivered by
notifications.outbox; an offer no longer open by its turn is not sent."""

import datetime as dt

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from appointments.outbox import MESSAGE_TIME_FORMAT
from appointments.templatetags.mpaspor import office_time
from notifications.outbox import queue

from .models import Offer, OfferMessage, Seeker

SUBJECT = _("A passport appointment place is offered to you until %(expires)s")


def queue_offer_messages(*, offer: Offer, people: list[Seeker]) -> list[OfferMessage]:
    """Write the offer's e-mail and phone rows in the caller's transaction."""
    email = offer.waiting.account.email or ""
    phone = next((person.phone for person in people if person.phone), "")
    recipients = [(OfferMessage.Channel.EMAIL, email)] if email else []
    if phone:
        recipients.append((settings.NOTIFICATION_PHONE_CHANNEL, phone))
    rows = [
        OfferMessage(
            offer=offer,
            channel=channel,
            recipient=recipient,
            template="offer_made",
            language=offer.waiting.language,
            context={"full_name": people[0].full_name},
        )
        for channel, recipient in recipients
    ]
    queue(rows)
    return rows


def reason_gone(message: OfferMessage, now: dt.datetime) -> str:
    """An offer is told only while it is open."""
    offer = message.offer
    return "" if offer.status == Offer.Status.OPEN and offer.expires_at > now else "offer_closed"


def render_offer_message(message: OfferMessage) -> tuple[str, str]:
    """(subject, text) in the household's language, times in the office's zone."""
    offer = message.offer
    office = offer.slot.office
    with translation.override(message.language or settings.LANGUAGE_CODE):
        expires = office_time(offer.expires_at, office, MESSAGE_TIME_FORMAT)
        context = {
            **message.context,
            "office": office.name,
            "visit": office_time(offer.slot.starts_at, office, MESSAGE_TIME_FORMAT),
            "places": offer.places,
            "expires": expires,
        }
        subject = str(SUBJECT) % {"expires": expires}
        text = render_to_string(f"allocation/notifications/{message.template}.txt", context).strip()
    return subject, text
