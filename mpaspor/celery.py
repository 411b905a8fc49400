import os

from celery import Celery
from celery.signals import task_prerun, worker_ready

from mpaspor.json_logs import request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mpaspor.settings")

app = Celery("mpaspor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _log_under_task_id(task_id=None, **kwargs):
    """A task's log lines carry its id where a request's carry the request's (mpaspor.json_logs)."""
    request_id.set(task_id or "")


@worker_ready.connect
def _serve_metrics(**kwargs):
    """With CELERY_METRICS_PORT, the worker's counts are served for Prometheus (mpaspor.metrics)."""
    port = os.environ.get("CELERY_METRICS_PORT")
    if port:
        from mpaspor.metrics import serve_worker_metrics

        serve_worker_metrics(int(port))
