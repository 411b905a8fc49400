"""Reminders of an evaluation round: rows of planning.RoundMessage, written in the caller's
transaction and delivered by notifications.outbox."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from notifications.outbox import queue

from .models import OfficeEvaluation, RoundMessage


def queue_reminders(*, evaluation: OfficeEvaluation, recipients: list[tuple[str, str]]) -> None:
    """One e-mail per (address, language) of the office's heads."""
    queue(
        [
            RoundMessage(
                evaluation=evaluation,
                channel=RoundMessage.Channel.EMAIL,
                recipient=email,
                template="reminder",
                language=language or settings.LANGUAGE_CODE,
                context={"due_on": evaluation.round.due_on.isoformat()},
            )
            for email, language in recipients
        ]
    )


def render_round_message(message: RoundMessage) -> tuple[str, str]:
    with translation.override(message.language or settings.LANGUAGE_CODE):
        context = {"office": message.evaluation.office.name, "region": message.evaluation.round.region.name}
        context.update(message.context)
        subject = render_to_string(f"planning/email/{message.template}_subject.txt", context).strip()
        text = render_to_string(f"planning/email/{message.template}_body.txt", context)
    return subject, text
