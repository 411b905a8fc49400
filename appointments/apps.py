from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appointments"
    verbose_name = _("Applications and payments")

    def ready(self):
        from notifications.outbox import register
        from offices.signals import stock_changed

        from . import checks  # noqa: F401 - registers the system checks
        from .models import Notification
        from .outbox import reason_gone, render_message
        from .services.stock import refresh_on_stock_change

        stock_changed.connect(refresh_on_stock_change, dispatch_uid="appointments.refresh_on_stock_change")

        register(
            Notification,
            render=render_message,
            skip=reason_gone,
            select_related=["application__slot__office"],
        )
