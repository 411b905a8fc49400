import datetime as dt

from celery import shared_task
from django.db import OperationalError

from .services import refresh_office_days, refresh_recent_office_days


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=3)
def refresh_recent_office_days_task(days_back: int = 7) -> int:
    """Nightly (CELERY_BEAT_SCHEDULE "reports-office-days-nightly")."""
    return refresh_recent_office_days(days_back=days_back)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=3)
def refresh_office_days_task(date_from: str, date_to: str, office_ids: list[int] | None = None) -> int:
    """A backfill of any range, e.g. after a data correction."""
    return refresh_office_days(
        date_from=dt.date.fromisoformat(date_from), date_to=dt.date.fromisoformat(date_to), office_ids=office_ids
    )
