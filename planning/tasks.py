from celery import shared_task

from . import services


@shared_task(name="planning.remind_late_offices")
def remind_late_offices_task() -> int:
    return services.remind_late_offices()
