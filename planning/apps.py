from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "planning"
    verbose_name = _("Capacity evaluation")

    def ready(self):
        from notifications.outbox import register

        from .models import RoundMessage
        from .outbox import render_round_message

        register(RoundMessage, render=render_round_message, select_related=["evaluation__round", "evaluation__office"])
