"""Fault tolerance that fits in the suite (the burst-time faults are bench scenarios,
see bench/REPORT.md): PostgreSQL connections dropped under a running server, a Celery worker
killed mid-task, and a Celery worker whose Redis goes away and comes back."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def log_in(base_url, email):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(f"{base_url}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": email, "password": "Rahasia-Kuat-123"})
    request = urllib.request.Request(
        f"{base_url}/accounts/login/", data=data.encode(), headers={"Referer": f"{base_url}/accounts/login/"}
    )
    try:
        return opener.open(request).status
    except urllib.error.HTTPError as answer:
        return answer.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def terminate_other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def gunicorn_server():
    """A real gunicorn (1 sync worker, persistent connections) on the test database: the live
    server of pytest-django opens a connection per request thread, so it cannot show this."""
    db = connection.settings_dict
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_DEBUG="1",  # pages render without collectstatic; the database settings are production's
        DJANGO_SECRET_KEY="test-only-secret-key-not-for-production-0123456789",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        DB_CONN_MAX_AGE="600",
        RATE_LIMITS_ENABLED="0",
    )
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "mpaspor.wsgi:application",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # a pipe nobody reads could fill
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/accounts/login/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_server_recovers_from_dropped_database_connections_without_restart(gunicorn_server):
    user = UserFactory()
    # The server runs production's hashers, not the tests' fast one (few rounds: speed only).
    user.password = PBKDF2PasswordHasher().encode("Rahasia-Kuat-123", "bench-salt", iterations=1000)
    user.save(update_fields=["password"])
    assert log_in(gunicorn_server, user.email) == 302  # the worker now holds a persistent connection

    assert terminate_other_connections() >= 1

    # The next request finds its connection dead (CONN_HEALTH_CHECKS), reconnects, is served.
    assert log_in(gunicorn_server, user.email) == 302
    assert log_in(gunicorn_server, user.email) == 302


# --- A Celery worker killed in the middle of a task ------------------------------------------


def _start_worker(queue, env, log=None):
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    try:
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "mpaspor",
                "worker",
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "-Q",
                queue,
                "-I",
                "tests.hardening.celery_fault_tasks",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )
    finally:
        if log:
            output.close()


def _wait(check, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    return None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("victim", ["child", "whole worker"])
def test_task_of_a_killed_worker_runs_again_and_delivers_once(tmp_path, victim):
    import signal
    import uuid

    from appointments.models import Notification
    from mpaspor.celery import app

    db = connection.settings_dict
    queue = f"fault-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k != "CELERY_TASK_ALWAYS_EAGER"}
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=os.environ["REDIS_URL"],
        # Redis gives an unacknowledged message back after this long; short here for the test.
        CELERY_VISIBILITY_TIMEOUT="4",
        CELERY_UNACKED_RESTORE_INTERVAL="1",
    )
    gateway = tmp_path / "gateway.txt"
    gateway.touch()
    notification = Notification.objects.create(channel="email", recipient="a@example.com", template="booked")

    worker = _start_worker(queue, env)
    try:
        app.send_task(
            "tests.hardening.celery_fault_tasks.deliver_slowly",
            args=[notification.pk, str(gateway), 2.0],
            queue=queue,
        )
        started = _wait(lambda: [line for line in gateway.read_text().splitlines() if line.startswith("started")], 60)
        assert started, "the task never started"
        child = int(started[0].split()[2])
        if victim == "child":
            os.kill(child, signal.SIGKILL)  # the pool process dies mid-task (OOM killer, crash)
        else:
            worker.send_signal(signal.SIGKILL)  # the whole worker dies (machine, container)
            os.kill(child, signal.SIGKILL)
            worker.wait(10)
            worker = _start_worker(queue, env)

        notification_sent = _wait(
            lambda: Notification.objects.filter(pk=notification.pk, state=Notification.State.SENT).exists(), 60
        )
        assert notification_sent, gateway.read_text()
        lines = gateway.read_text().splitlines()
        assert sum(1 for line in lines if line.startswith("sent")) == 1, lines  # delivered once
        assert sum(1 for line in lines if line.startswith("started")) == 2, lines  # and it ran again
    finally:
        worker.kill()
        worker.wait(10)


# --- Redis (the broker) stopped under a running worker, then started again -------------------


def _start_redis(port, folder):
    """A private, empty Redis that this test may stop and start (never the machine's shared one)."""
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not _wait(lambda: _accepts_connections(port), 10):
        server.kill()
        raise RuntimeError(f"redis-server did not start on port {port}")
    return server


def _accepts_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_survives_a_redis_outage_and_consumes_what_is_enqueued_afterwards(tmp_path):
    import uuid

    from appointments.models import Notification
    from mpaspor.celery import app

    db = connection.settings_dict
    port = _free_port()
    broker_url = f"redis://127.0.0.1:{port}/0"
    queue = f"outage-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k != "CELERY_TASK_ALWAYS_EAGER"}
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=broker_url,
    )
    gateway = tmp_path / "gateway.txt"
    gateway.touch()
    log = tmp_path / "worker.log"
    before, after = (
        Notification.objects.create(channel="email", recipient=f"{name}@example.com", template="booked")
        for name in ("before", "after")
    )

    def deliver(notification):
        with app.connection_for_write(broker_url) as conn:
            app.send_task(
                "tests.hardening.celery_fault_tasks.deliver_slowly",
                args=[notification.pk, str(gateway), 0],
                queue=queue,
                connection=conn,
            )

    def sent(notification):
        return lambda: Notification.objects.filter(pk=notification.pk, state=Notification.State.SENT).exists()

    redis = _start_redis(port, tmp_path)
    worker = _start_worker(queue, env, log=log)
    try:
        deliver(before)
        assert _wait(sent(before), 60), log.read_text()  # the worker is connected and consuming

        redis.kill()  # the broker dies (crash, OOM, restart): the worker's connection breaks
        redis.wait(10)
        time.sleep(4)
        assert worker.poll() is None, f"the worker exited while Redis was down:\n{log.read_text()}"
        redis = _start_redis(port, tmp_path)  # back, empty (no persistence), as in the bench

        deliver(after)
        assert _wait(sent(after), 20), f"nothing consumed after Redis came back:\n{log.read_text()}"
        assert worker.poll() is None, log.read_text()
        assert "Connection to broker lost" in log.read_text()  # the outage was seen, not slept through
    finally:
        worker.kill()
        worker.wait(10)
        redis.kill()
        redis.wait(10)


# --- The database connection cut in the middle of a request ----------------------------------
# The request waits on a row lock that the test holds; the test then terminates the request's own
# PostgreSQL backend (as a restart, a failover or an operator's pg_terminate_backend would), so
# the request's next step fails on a real dropped connection.


def _cut_the_request_waiting_on_a_lock(timeout=20):
    def waiting():
        with connection.cursor() as cursor:
            # Inside the lock's transaction, pg_stat_activity is read once and then kept.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            return [pid for (pid,) in cursor.fetchall()]

    pids = _wait(waiting, timeout)
    assert pids, "the request never waited on the lock"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s) AS pid", [pids])


def _in_a_thread(request):
    """The request on a connection of its own (a thread's), so the test's connection can cut it."""
    from concurrent.futures import ThreadPoolExecutor

    def run():
        try:
            return request()
        finally:
            connection.close()

    pool = ThreadPoolExecutor(1)
    answer = pool.submit(run)
    pool.shutdown(wait=False)  # the request waits on the test's lock: do not wait for it here
    return answer


def _logged_as_an_incident(caplog):
    from django.db import OperationalError

    records = [r for r in caplog.records if r.name == "django.request" and getattr(r, "status_code", None) == 503]
    assert len(records) == 1, records  # once, not again by Django's own 5xx line
    assert records[0].levelname == "ERROR"
    assert records[0].exc_info and isinstance(records[0].exc_info[1], OperationalError)  # with the traceback


@pytest.mark.django_db(transaction=True)
def test_an_api_request_whose_database_connection_is_cut_answers_503_and_stores_nothing(caplog):
    from django.db import transaction

    from appointments.models import Application
    from quotas.models import Slot
    from tests.api.conftest import client_for
    from tests.api.test_applications import booking_body
    from tests.factories import SlotFactory

    slot = SlotFactory(capacity=10)
    api = client_for(UserFactory())
    body = booking_body(slot)
    with transaction.atomic():
        Slot.objects.select_for_update().get(pk=slot.pk)  # the booking's claim waits for this row
        answer = _in_a_thread(lambda: api.post("/api/v1/applications/", body, format="json"))
        _cut_the_request_waiting_on_a_lock()
    response = answer.result(timeout=30)

    assert response.status_code == 503, response.content
    # The contract's error shape, in the request's language (Indonesian by default).
    assert response.json() == {"code": "unavailable", "detail": "Layanan sedang sibuk; coba lagi sebentar lagi."}
    assert response["Retry-After"] == "5"
    slot.refresh_from_db()
    assert slot.taken == 0 and not Application.objects.filter(slot=slot).exists()  # rolled back
    _logged_as_an_incident(caplog)


@pytest.mark.django_db(transaction=True)
def test_a_page_whose_database_connection_is_cut_answers_a_translated_503(caplog):
    from django.db import transaction
    from django.test import Client

    from accounts.models import User

    user = UserFactory()
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # signing in writes last_login on this row
        answer = _in_a_thread(
            lambda: Client().post("/accounts/login/", {"username": user.email, "password": "Rahasia-Kuat-123"})
        )
        _cut_the_request_waiting_on_a_lock()
    response = answer.result(timeout=30)

    assert response.status_code == 503, response.content
    page = response.content.decode()
    assert "Layanan sedang sibuk" in page and "Silakan coba lagi sebentar lagi." in page
    assert response["Retry-After"] == "5"
    assert "sessionid" not in response.cookies  # not signed in: the session was not saved
    user.refresh_from_db()
    assert user.last_login is None
    _logged_as_an_incident(caplog)


@pytest.mark.django_db(transaction=True)
def test_server_answers_503_to_the_request_cut_mid_way_and_serves_its_retry(gunicorn_server):
    """On the production stack (gunicorn, persistent connections): the request in flight when
    its connection is terminated answers 503, and the client's retry is served by the same
    worker, which reconnects without a restart; nothing was stored twice."""
    import json

    from django.db import transaction

    from accounts.services import create_api_token
    from appointments.models import Application
    from quotas.models import Slot
    from tests.api.test_applications import booking_body
    from tests.factories import SlotFactory

    slot = SlotFactory(capacity=10)
    token = create_api_token(user=UserFactory())
    body = json.dumps(booking_body(slot)).encode()

    def book():
        request = urllib.request.Request(
            f"{gunicorn_server}/api/v1/applications/",
            data=body,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.headers, answer.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers, answer.read().decode()

    with transaction.atomic():
        Slot.objects.select_for_update().get(pk=slot.pk)
        answer = _in_a_thread(book)
        _cut_the_request_waiting_on_a_lock()
    status, headers, content = answer.result(timeout=30)
    assert status == 503, content[:2000]
    assert json.loads(content)["code"] == "unavailable" and headers["Retry-After"] == "5"
    assert not Application.objects.filter(slot=slot).exists()

    status, _, content = book()  # the client retries as told
    assert status == 201, content[:2000]
    slot.refresh_from_db()
    assert slot.taken == 1 == Application.objects.filter(slot=slot).count()
