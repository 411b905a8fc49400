"""The accounts' e-mails (the verification code; a sign-up tried with an address that has an
account): rows in accounts.AccountMessage, written in the caller's transaction and delivered by
notifications.outbox, with its retries and sweep."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from notifications.outbox import queue

from .models import AccountMessage, User

# The templates of each message: templates/accounts/email/<name>_subject.txt and <name>_body.txt.
# A NIK dispute's outcome is the account's own claim, so it is an account message too
# (appointments.services.disputes writes it).
TEMPLATES = ("verification", "signup_attempt", "nik_dispute_upheld", "nik_dispute_rejected")


def queue_account_message(*, user: User, template: str, context: dict) -> AccountMessage:
    """Write the e-mail's row and enqueue its delivery after the caller's commit."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown account message {template!r}")
    message = AccountMessage(
        user=user,
        channel=AccountMessage.Channel.EMAIL,
        recipient=user.email,
        template=template,
        language=user.language or settings.LANGUAGE_CODE,
        context=context,
    )
    queue([message])
    return message


def render_account_message(message: AccountMessage) -> tuple[str, str]:
    """(subject, text) in the account's language."""
    with translation.override(message.language or settings.LANGUAGE_CODE):
        context = {"name": message.user.full_name, **message.context}
        subject = render_to_string(f"accounts/email/{message.template}_subject.txt", context).strip()
        text = render_to_string(f"accounts/email/{message.template}_body.txt", context)
    return subject, text
