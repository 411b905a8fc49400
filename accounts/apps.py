from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from notifications.outbox import register

        from .models import AccountMessage
        from .outbox import render_account_message

        # The verification code is in the row's context until the e-mail is sent or given up.
        register(AccountMessage, render=render_account_message, select_related=["user"], secret_context=True)
