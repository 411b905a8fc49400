import os

from celery import Celery
from celery.signals import task_prerun

from mpaspor.json_logs import request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mpaspor.settings")

app = Celery("mpaspor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _log_under_task_id(task_id=None, **kwargs):
    """A task's log lines carry its id where a request's carry the request's (mpaspor.json_logs)."""
    request_id.set(task_id or "")
