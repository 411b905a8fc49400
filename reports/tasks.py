from celery import shared_task
from django.db import OperationalError

from .services import refresh_recent_office_days


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=3)
def refresh_recent_office_days_task(days_back: int = 7) -> int:
    """Nightly (CELERY_BEAT_SCHEDULE "reports-office-days-nightly")."""
    return refresh_recent_office_days(days_back=days_back)
