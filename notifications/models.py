"""The outbox row every app's messages share. An app keeps its own table of them (a concrete
subclass with its links, such as appointments.Notification to the application it reports on)
and registers it with notifications.outbox, which delivers every table the same way."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A message is a row first, written in the same transaction as the change it reports, and
    delivered after the commit by notifications.outbox."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        WHATSAPP = "whatsapp", _("WhatsApp")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Its reason was gone by delivery time (a "please pay" for a paid application, say).
        SKIPPED = "skipped", _("Not sent (no longer true)")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    template = models.CharField(_("message"), max_length=50)
    language = models.CharField(_("language"), max_length=8, default="id")
    context = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    # Why a skipped row was not sent: a reason its table names (choices in the concrete model).
    skip_reason = models.CharField(_("why not sent"), max_length=20, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Set when a delivery failed and will be tried again (backoff); the sweep waits for it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Claimed for sending: a row in "sending" is never picked up again (at most once).
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # For messages a job may queue more than once (the reminder): one row per key.
    dedupe_key = models.CharField(max_length=100, unique=True, null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.template} ({self.get_channel_display()})"
