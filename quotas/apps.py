from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuotasConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "quotas"
    verbose_name = _("Quotas")
