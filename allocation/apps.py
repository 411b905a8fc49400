from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "allocation"
    verbose_name = _("Fair allocation")

    def ready(self):
        from notifications.outbox import register

        from .models import EntryMessage
        from .outbox import render_message

        register(EntryMessage, render=render_message, select_related=["entry__release__office"])
