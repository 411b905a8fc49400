from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appointments"

    def ready(self):
        from notifications.outbox import register

        from .models import Notification
        from .outbox import render_message

        register(Notification, render=render_message, select_related=["application__slot__office"])
