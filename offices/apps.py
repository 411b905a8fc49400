from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "offices"
    verbose_name = _("Offices and staff")

    def ready(self):
        from notifications.outbox import register

        from .models import StockMessage
        from .outbox import render_stock_message

        register(StockMessage, render=render_stock_message, select_related=["stock__office"])
