"""The release job end to end on a real Celery worker with Redis as broker and result store."""

import datetime as dt
import os
import uuid

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections
from django.utils import timezone

from appointments.models import Status
from mpaspor.celery import app as celery_app
from quotas.models import Slot
from tests.factories import ApplicationFactory, SlotFactory


def _close_worker_connections(**kwargs):
    # The worker runs in a thread with its own connections: close them so nothing outlives the test.
    connections.close_all()


@pytest.fixture
def worker_app():
    """A separate app on the test Redis database, with its own queue so that parallel
    (pytest-xdist) runs never take each other's messages."""
    import appointments.tasks  # noqa: F401 - registers the shared tasks on every app
    import quotas.tasks  # noqa: F401

    app = Celery("mpaspor-integration", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    queue = f"integration-{uuid.uuid4().hex}"
    app.conf.update(
        broker_url=os.environ["REDIS_URL"],
        result_backend=os.environ["REDIS_URL"],
        task_always_eager=False,
        task_default_queue=queue,
        broker_connection_timeout=5,
        broker_connection_max_retries=3,
        result_expires=300,
    )
    app.loader.import_task_module("celery.contrib.testing.tasks")  # the worker's ping check
    task_postrun.connect(_close_worker_connections)
    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=20):
        yield app
    task_postrun.disconnect(_close_worker_connections)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)
    app.close()
    # start_worker made this app the current and default one; shared tasks in later tests of
    # this process must publish through the project's app again.
    celery_app.set_current()
    celery_app.set_default()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_release_job_on_a_real_worker_expires_the_hold_once(worker_app):
    slot = SlotFactory(capacity=1)
    hold = ApplicationFactory(
        slot=slot,
        account=None,
        status=Status.PENDING_PAYMENT,
        payment_due_at=timezone.now() - dt.timedelta(minutes=5),
    )
    assert Slot.objects.get(pk=slot.pk).taken == 1

    first = worker_app.send_task("appointments.release_expired_holds")
    assert first.get(timeout=30) == 1
    second = worker_app.send_task("appointments.release_expired_holds")
    assert second.get(timeout=30) == 0

    hold.refresh_from_db()
    assert hold.status == Status.EXPIRED
    assert Slot.objects.get(pk=slot.pk).taken == 0
    assert hold.events.filter(to_status=Status.EXPIRED).count() == 1
