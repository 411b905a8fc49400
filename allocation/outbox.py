"""The entries' messages: a draw's outcome for an entry that did not win a place (a winner hears
it from the booking's own message, with the codes and the payment deadline). Rows of
allocation.EntryMessage, written in the transaction that decides the entry and delivered by
notifications.outbox like every other outbox."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from appointments.templatetags.mpaspor import office_time
from notifications.outbox import queue

from .models import Entry, EntryMessage

SUBJECTS = {
    Entry.Status.LOST: _("Draw result: no place this time"),
    Entry.Status.FORFEITED: _("Draw result: your entry was forfeited"),
}


def tell_outcome(*, entries, outcome: str) -> None:
    """Queue the outcome message of each entry (inside the caller's transaction)."""
    queue(
        [
            EntryMessage(
                entry=entry,
                channel=EntryMessage.Channel.EMAIL,
                recipient=entry.account.email,
                template=outcome,
                language=entry.account.language or settings.LANGUAGE_CODE,
            )
            for entry in entries
            if entry.account.email
        ]
    )


def render_message(message: EntryMessage) -> tuple[str, str]:
    entry = message.entry
    office = entry.release.office
    with translation.override(message.language or settings.LANGUAGE_CODE):
        context = {
            "office": office.name,
            "draw_at": office_time(entry.release.entries_close_at, office, "j F Y, H:i"),
            "opens_at": office_time(entry.release.opens_at, office, "j F Y, H:i"),
            "entry_id": entry.pk,
        }
        subject = str(SUBJECTS[message.template])
        text = render_to_string(f"allocation/messages/{message.template}.txt", context).strip()
    return subject, text
