from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        from notifications.outbox import register

        from .models import AccountMessage
        from .outbox import render_account_message

        # The verification code is in the row's context until the e-mail is sent or given up.
        register(AccountMessage, render=render_account_message, select_related=["user"], secret_context=True)
