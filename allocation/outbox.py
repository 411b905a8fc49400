"""allocation's messages, delivered by notifications.outbox like every other outbox:
- a draw's outcome for an entry that did not win a place (`EntryMessage`, written in the
  transaction that decides the entry; a winner hears it from the booking's own message);
- an offer of the waiting list, by e-mail to the account and by SMS/WhatsApp to the household's
  first phone (`OfferMessage`, written with the offer; one no longer open by its turn is not sent)."""

import datetime as dt

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from appointments.outbox import MESSAGE_TIME_FORMAT
from appointments.templatetags.mpaspor import office_time
from notifications.outbox import queue

from .models import Entry, EntryMessage, Offer, OfferMessage, Seeker

SUBJECTS = {
    Entry.Status.LOST: _("Draw result: no place this time"),
    Entry.Status.FORFEITED: _("Draw result: your entry was forfeited"),
}


def tell_outcome(*, entries, outcome: str, bulk: bool = False) -> None:
    """Queue the outcome message of each entry of the queryset `entries` (inside the caller's
    transaction); `bulk` for a draw's lost entries, thousands at once (delivered from the bulk
    queue, many to a task). Reads only each entry's account's address and language."""
    queue(
        [
            EntryMessage(
                entry_id=entry_id,
                channel=EntryMessage.Channel.EMAIL,
                recipient=email,
                template=outcome,
                language=language or settings.LANGUAGE_CODE,
            )
            for entry_id, email, language in entries.values_list("pk", "account__email", "account__language")
            if email
        ],
        bulk=bulk,
    )


def render_message(message: EntryMessage) -> tuple[str, str]:
    entry = message.entry
    office = entry.release.office
    with translation.override(message.language or settings.LANGUAGE_CODE):
        context = {
            "office": office.name,
            "draw_at": office_time(entry.release.entries_close_at, office, MESSAGE_TIME_FORMAT),
            "opens_at": office_time(entry.release.opens_at, office, MESSAGE_TIME_FORMAT),
            "entry_id": entry.pk,
        }
        subject = str(SUBJECTS[message.template])
        text = render_to_string(f"allocation/notifications/{message.template}.txt", context).strip()
    return subject, text


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
