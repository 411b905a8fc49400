"""What operations rely on: the probes, the metrics, the request id in JSON logs, the queues by
urgency and the beat's run lock. Several beats and nodes for real: tests/scale/ (make test-scale)."""

import datetime as dt
import json
import logging
import sys

import pytest
import redis
from celery.schedules import crontab, schedule
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mpaspor.beat import lock_seconds, take_run_lock
from mpaspor.celery import app as celery_app
from mpaspor.json_logs import JsonFormatter, RequestIdFilter
from notifications.outbox import enqueue_delivery
from tests.api.conftest import client_for
from tests.api.test_applications import APPLICATIONS, booking_body
from tests.factories import ApplicationFactory, SlotFactory, UserFactory


def _sample(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus' text, 0 when absent."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# --- Probes -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_without_a_query_a_cookie_or_a_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production: the node is probed over plain HTTP
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")  # a node's address, not a served host
    assert response.status_code == 200 and response.json() == {"status": "alive"}
    assert queries.captured_queries == []
    assert not response.cookies


@pytest.mark.django_db
def test_readyz_checks_the_database_redis_and_the_broker(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}}
    assert not response.cookies


@pytest.mark.django_db
def test_readyz_answers_503_naming_redis_when_it_is_gone(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "unavailable", "broker": "ok"}


# --- Metrics ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_count_bookings_refusals_by_code_and_show_queue_depths(client):
    before = client.get("/metrics").content.decode()
    api = client_for(UserFactory())
    slot = SlotFactory(capacity=1)
    assert api.post(APPLICATIONS, booking_body(slot), format="json").status_code == 201
    assert api.post(APPLICATIONS, booking_body(slot), format="json").status_code == 409
    after = client.get("/metrics").content.decode()
    assert _sample(after, "mpaspor_bookings_total") == _sample(before, "mpaspor_bookings_total") + 1
    assert _sample(after, "mpaspor_refusals_total", code="slot_full") == (
        _sample(before, "mpaspor_refusals_total", code="slot_full") + 1
    )
    for queue in ("urgent", "default", "bulk"):
        assert f'mpaspor_queue_depth{{queue="{queue}"}}' in after


@pytest.mark.django_db
def test_metrics_count_availability_cache_hits_and_misses(client, settings):
    settings.AVAILABILITY_CACHE_SECONDS = 30
    slot = SlotFactory()
    url = f"/api/v1/offices/{slot.office.code}/availability/?from={slot.date}&to={slot.date}"
    before = client.get("/metrics").content.decode()
    api = client_for(UserFactory())
    assert api.get(url).status_code == 200
    assert api.get(url).status_code == 200
    after = client.get("/metrics").content.decode()
    name = "mpaspor_availability_cache_lookups_total"
    assert _sample(after, name, result="miss") == _sample(before, name, result="miss") + 1
    assert _sample(after, name, result="hit") == _sample(before, name, result="hit") + 1


# --- Request ids and JSON logs ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_keeps_the_id_it_came_with_or_gets_one(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-0001abc").headers["X-Request-ID"] == "lb-0001abc"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x" level="ERROR').headers["X-Request-ID"]
    assert forged != 'x" level="ERROR' and len(forged) == 32


@pytest.mark.django_db
def test_a_log_line_of_a_request_is_json_with_its_id(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-42")
    record = next(r for r in caplog.records if r.name == "django.request")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42"
    assert line["level"] == "WARNING" and line["logger"] == "django.request"
    assert "/no-such-page/" in line["message"] and line["time"].endswith("+00:00")


def test_a_traceback_stays_inside_its_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text and "ValueError: boom" in json.loads(text)["exception"]


# --- Queues by urgency --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("allocation.make_offers", "urgent"),  # the waiting list's offers, by their name
        ("allocation.publish_draw_results", "urgent"),
        ("notifications.deliver", "urgent"),  # every message of the outbox: a booking's, a code
        ("notifications.deliver_many", "urgent"),  # enqueued to the bulk queue by name
        ("notifications.sweep_outboxes", "urgent"),
        ("appointments.release_expired_holds", "default"),
        ("appointments.tasks.queue_reminders_task", "bulk"),
        ("reports.tasks.refresh_recent_office_days_task", "bulk"),
        ("quotas.generate_slots_for_horizon", "bulk"),
        ("accounts.purge_idempotency_keys", "bulk"),
    ],
)
def test_tasks_are_routed_by_urgency(task, queue):
    assert celery_app.amqp.router.route({}, task)["queue"].name == queue


@pytest.mark.django_db
def test_reminders_are_delivered_from_the_bulk_queue_and_booking_messages_from_the_urgent_one():
    from appointments.models import Notification

    broker = redis.Redis.from_url(celery_app.conf.broker_url)
    rows = [
        Notification.objects.create(application=ApplicationFactory(), channel="email", recipient="a@example.com")
        for _ in range(2)
    ]
    conf = celery_app.conf
    saved, conf.task_always_eager = conf.task_always_eager, False
    try:
        enqueue_delivery(Notification, [rows[0].pk], bulk=True)
        enqueue_delivery(Notification, [rows[1].pk])
    finally:
        conf.task_always_eager = saved
    for row, queue in ((rows[0], "bulk"), (rows[1], "urgent")):
        ours = [m for m in broker.lrange(queue, 0, -1) if f"('appointments.notification', {row.pk})" in m.decode()]
        assert len(ours) == 1, queue
        broker.lrem(queue, 1, ours[0])  # no worker of another test may run it


@pytest.mark.django_db
def test_many_bulk_messages_go_a_hundred_to_a_task_and_are_all_sent(mailoutbox):
    """A draw's thousands of lost entries: one publish per hundred rows, not one per row."""
    from appointments.models import Notification
    from notifications.outbox import BULK_PER_TASK, deliver_many_task

    broker = redis.Redis.from_url(celery_app.conf.broker_url)
    rows = [
        Notification.objects.create(
            application=ApplicationFactory(), channel="email", recipient=f"{n}@example.com", template="cancelled"
        )
        for n in range(BULK_PER_TASK + 1)
    ]
    ids = [row.pk for row in rows]
    conf = celery_app.conf
    saved, conf.task_always_eager = conf.task_always_eager, False
    try:
        enqueue_delivery(Notification, ids, bulk=True)
    finally:
        conf.task_always_eager = saved
    ours = [m for m in broker.lrange("bulk", 0, -1) if b"notifications.deliver_many" in m and str(ids[0]).encode() in m]
    ours += [
        m for m in broker.lrange("bulk", 0, -1) if b"notifications.deliver_many" in m and str(ids[-1]).encode() in m
    ]
    assert len(set(ours)) == 2  # two tasks: a hundred rows, then one
    for message in set(ours):
        broker.lrem("bulk", 1, message)  # no worker of another test may run them
    deliver_many_task.apply(args=("appointments.notification", ids[:BULK_PER_TASK]))
    deliver_many_task.apply(args=("appointments.notification", ids[BULK_PER_TASK:]))
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    assert len(mailoutbox) == BULK_PER_TASK + 1


# --- One beat's worth of runs -------------------------------------------------------------------


def test_a_run_lock_is_taken_once_until_it_expires():
    assert take_run_lock("tests.some_task", 5)
    assert not take_run_lock("tests.some_task", 5)  # a second beat, the same run
    assert take_run_lock("tests.other_task", 5)


def test_the_lock_lasts_nine_tenths_of_the_time_to_the_next_run():
    assert lock_seconds(schedule(60.0)) == pytest.approx(54, abs=0.5)
    assert 1 <= lock_seconds(crontab(minute=17)) <= 0.9 * 3600


def test_a_worker_serves_its_counts_on_its_own_port():
    import socket
    import urllib.request

    from mpaspor.metrics import count_offer, serve_worker_metrics

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve_worker_metrics(port)
    now = dt.datetime.now(dt.UTC)
    count_offer(given_back_at=now - dt.timedelta(seconds=12), offered_at=now)
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert _sample(text, "mpaspor_offers_total") >= 1
    assert _sample(text, "mpaspor_offer_reach_seconds_bucket", le="15.0") >= 1
