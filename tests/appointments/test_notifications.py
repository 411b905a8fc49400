import datetime as dt
import os
import subprocess
import sys
import threading
import time
import uuid
from unittest import mock

import pytest
import redis
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from appointments import outbox
from appointments.models import Application, Notification, Status
from appointments.outbox import queue_reminders, render_message
from appointments.services.lifecycle import change_status
from mpaspor.celery import app as celery_app
from notifications.messaging import DeliveryError, PermanentDeliveryError
from notifications.outbox import deliver, deliver_task, sweep_outboxes
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data, book_one


def book(account, slot, **overrides):
    values = dict(
        account=account,
        slot_id=slot.pk,
        applicant=applicant_data(),
        passport_type="electronic",
        validity_years=10,
        kind="new",
    )
    values.update(overrides)
    return book_one(**values)


@pytest.fixture
def phone_gateway():
    """The SMS/WhatsApp gateway is the outside world: the only thing mocked."""
    gateway = mock.Mock()
    with mock.patch("notifications.outbox.phone_gateway", return_value=gateway):
        yield gateway


@pytest.mark.django_db
class TestOutbox:
    def test_a_booking_writes_one_row_that_the_sweep_sends_once_after_the_delay(
        self, applicant_user, slot, settings, django_capture_on_commit_callbacks
    ):
        """The answer shows the codes; their e-mail copy is not published, it waits for the
        outbox sweep, once BOOKING_MESSAGE_DELAY_SECONDS old: after a quota's opening rush."""
        settings.BOOKING_MESSAGE_DELAY_SECONDS = 60
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            application = book(applicant_user, slot)
        assert callbacks == []  # nothing for the broker
        row = Notification.objects.get(application=application)
        assert (row.channel, row.recipient, row.template, row.state) == (
            "email",
            applicant_user.email,
            "booking_made",
            "pending",
        )
        assert sweep_outboxes(now=row.created_at + dt.timedelta(seconds=59)) == 0 and mail.outbox == []
        assert sweep_outboxes(now=row.created_at + dt.timedelta(seconds=61)) == 1
        assert sweep_outboxes(now=row.created_at + dt.timedelta(seconds=76)) == 0  # the next sweep
        row.refresh_from_db()
        assert row.state == Notification.State.SENT and row.attempts == 1
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == [applicant_user.email]
        assert application.booking_code in message.subject
        assert application.billing_code in message.body
        assert "Rp950.000" in message.body
        assert "WIB" in message.body

    def test_booking_hot_path_adds_one_outbox_insert_and_nothing_else(self, applicant_user, slot):
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            book(applicant_user, slot)
        statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
        # slot, fee, then in the transaction: the account's lock, its capacity, and one statement,
        # the claim and the inserts of the application, its event and its one outbox row (a
        # prepared statement on PostgreSQL)
        assert len(statements) == 5 and statements[-1].startswith("EXECUTE claim_")
        with connection.cursor() as cursor:
            name = statements[-1].split()[1]
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
            booking = cursor.fetchone()[0]
        assert booking.startswith(f"PREPARE {name} AS WITH decided AS (UPDATE quotas_slot")
        assert booking.count("INSERT INTO appointments_notification") == 1

    def test_delivery_task_run_twice_sends_once(self, applicant_user, slot):
        application = book(applicant_user, slot)
        row = Notification.objects.get(application=application)
        deliver_task.apply(args=("appointments.notification", row.pk))
        deliver_task.apply(args=("appointments.notification", row.pk))
        assert len(mail.outbox) == 1
        row.refresh_from_db()
        assert row.state == Notification.State.SENT and row.attempts == 1

    def test_temporary_failure_retries_with_backoff_then_sends(self, phone_gateway):
        application = ApplicationFactory(account=None, phone="0811111111", status=Status.ISSUED)
        (row,) = outbox.queue_message(application=application, template="ready")
        assert row.channel == "sms"
        phone_gateway.send.side_effect = DeliveryError("gateway 503")
        now = timezone.now()

        assert deliver(model=Notification, message_id=row.pk, now=now) == 60
        row.refresh_from_db()
        assert (row.state, row.attempts, row.last_error) == ("pending", 1, "gateway 503")
        assert row.next_attempt_at > now + dt.timedelta(seconds=55)
        # not due yet: neither the retry nor the sweep touch it
        assert deliver(model=Notification, message_id=row.pk, now=now) is None
        assert sweep_outboxes(now=now + dt.timedelta(minutes=5)) == 1  # due now; fails again
        row.refresh_from_db()
        assert row.attempts == 2 and row.next_attempt_at > now + dt.timedelta(seconds=115)

        phone_gateway.send.side_effect = None
        deliver(model=Notification, message_id=row.pk, now=row.next_attempt_at)
        row.refresh_from_db()
        assert (row.state, row.attempts, row.last_error) == ("sent", 3, "")
        phone_gateway.send.assert_called_with(channel="sms", to="0811111111", text=mock.ANY)
        assert application.booking_code in phone_gateway.send.call_args.kwargs["text"]

    def test_permanent_failure_is_not_retried(self, phone_gateway):
        application = ApplicationFactory(account=None, phone="0811111111", status=Status.ISSUED)
        (row,) = outbox.queue_message(application=application, template="ready")
        phone_gateway.send.side_effect = PermanentDeliveryError("bad number")
        assert deliver(model=Notification, message_id=row.pk) is None
        row.refresh_from_db()
        assert (row.state, row.attempts) == ("failed", 1)
        assert sweep_outboxes(now=timezone.now() + dt.timedelta(hours=2)) == 0

    def test_gives_up_after_max_attempts(self, phone_gateway, settings):
        settings.NOTIFICATION_MAX_ATTEMPTS = 2
        application = ApplicationFactory(account=None, phone="0811111111", status=Status.ISSUED)
        (row,) = outbox.queue_message(application=application, template="ready")
        phone_gateway.send.side_effect = DeliveryError("down")
        deliver(model=Notification, message_id=row.pk)
        deliver(model=Notification, message_id=row.pk, now=timezone.now() + dt.timedelta(hours=1))
        row.refresh_from_db()
        assert (row.state, row.attempts) == ("failed", 2)

    def test_row_stuck_in_sending_is_never_resent(self):
        application = ApplicationFactory(status=Status.ISSUED)
        (row,) = outbox.queue_message(application=application, template="ready")
        Notification.objects.filter(pk=row.pk).update(
            state="sending", claimed_at=timezone.now() - dt.timedelta(hours=1)
        )
        sweep_outboxes()
        row.refresh_from_db()
        assert row.state == "failed" and mail.outbox == []

    @pytest.mark.parametrize(
        "start, path, template",
        [
            (Status.PENDING_PAYMENT, [Status.BOOKED], "payment_received"),
            (Status.PENDING_PAYMENT, [Status.EXPIRED], "expired"),
            (Status.BOOKED, [Status.CANCELLED], "cancelled"),
            (Status.BOOKED, [Status.NO_SHOW], "no_show"),
            (Status.APPROVED, [Status.ISSUED], "ready"),
        ],
    )
    def test_status_changes_queue_their_message(self, start, path, template):
        application = ApplicationFactory(status=start)
        for status in path:
            change_status(application_id=application.pk, to=status)
        row = Notification.objects.get(application=application)
        assert row.template == template
        subject, text = render_message(row)
        assert application.booking_code in subject + text

    def test_message_in_applicants_language_with_office_zone_label(self):
        office = OfficeFactory(timezone="Asia/Jayapura")
        slot = SlotFactory(office=office)
        english = ApplicationFactory(slot=slot, status=Status.PENDING_PAYMENT, language="en")
        indonesian = ApplicationFactory(slot=slot, status=Status.PENDING_PAYMENT, language="id")
        texts = {}
        for application in (english, indonesian):
            (row,) = outbox.queue_message(application=application, template="booking_made")
            texts[application.language] = render_message(row)
        assert "WIT" in texts["en"][1] and "WIT" in texts["id"][1]
        local_due = english.payment_due_at.astimezone(office.tzinfo)
        assert f"{local_due:%H:%M} WIT" in texts["en"][1]
        assert "Pay " in texts["en"][1] and "please pay" in texts["en"][0]
        assert "Bayar" in texts["id"][1] and "bayar" in texts["id"][0]


@pytest.mark.django_db
class TestReminders:
    def _booked_tomorrow(self, tz="Asia/Jakarta", hour_now=9):
        office = OfficeFactory(timezone=tz)
        now_local = timezone.now().astimezone(office.tzinfo)
        tomorrow = now_local.date() + dt.timedelta(days=1)
        start = dt.datetime.combine(tomorrow, dt.time(8), tzinfo=office.tzinfo)
        slot = SlotFactory(office=office, starts_at=start, date=tomorrow)
        application = ApplicationFactory(slot=slot, status=Status.BOOKED, phone="0812")
        at = dt.datetime.combine(now_local.date(), dt.time(hour_now, 0), tzinfo=office.tzinfo)
        return application, at

    def test_reminder_at_the_set_hour_of_the_offices_zone_once(self):
        application, nine = self._booked_tomorrow(tz="Asia/Makassar")
        ApplicationFactory(slot=application.slot, status=Status.CANCELLED)  # not reminded

        assert queue_reminders(now=nine - dt.timedelta(minutes=1)) == 0
        assert queue_reminders(now=nine) == 1
        assert queue_reminders(now=nine + dt.timedelta(hours=1)) == 0
        rows = Notification.objects.filter(template="reminder")
        assert sorted(rows.values_list("channel", flat=True)) == ["email", "sms"]
        assert {r.application_id for r in rows} == {application.pk}


@pytest.mark.django_db
class TestStaleMessages:
    """A message whose reason is gone by its delivery is not sent, and says why."""

    def _sent_and_skipped(self, application):
        rows = Notification.objects.filter(application=application).order_by("pk")
        return [(r.template, r.state, r.skip_reason) for r in rows]

    def test_please_pay_is_not_sent_after_the_payment(self, applicant_user, slot):
        application = book(applicant_user, slot)
        change_status(application_id=application.pk, to=Status.BOOKED)  # paid within the minute

        assert sweep_outboxes(now=timezone.now() + dt.timedelta(seconds=61)) == 2

        assert self._sent_and_skipped(application) == [
            ("booking_made", "skipped", "status_changed"),
            ("payment_received", "sent", ""),
        ]
        assert len(mail.outbox) == 1

    @pytest.mark.parametrize(
        "change, reason",
        [
            (Status.CANCELLED, "status_changed"),
            (Status.EXPIRED, "status_changed"),
            (None, "deadline_passed"),  # the expiry job has not run yet
        ],
    )
    def test_please_pay_is_not_sent_once_cancelled_expired_or_overdue(self, applicant_user, slot, change, reason):
        application = book(applicant_user, slot)
        if change:
            change_status(application_id=application.pk, to=change)
        sweep_outboxes(now=application.payment_due_at + dt.timedelta(seconds=1 if change is None else -1))
        assert self._sent_and_skipped(application)[0] == ("booking_made", "skipped", reason)
        assert len(mail.outbox) == Notification.objects.filter(state="sent").count()

    def test_please_pay_still_awaiting_payment_is_sent(self, applicant_user, slot):
        application = book(applicant_user, slot)
        sweep_outboxes(now=application.payment_due_at - dt.timedelta(seconds=1))
        assert self._sent_and_skipped(application) == [("booking_made", "sent", "")]

    @pytest.mark.parametrize(
        "template, status, sent",
        [
            ("payment_received", Status.BOOKED, True),
            ("payment_received", Status.CHECKED_IN, True),
            ("payment_received", Status.CANCELLED, False),
            ("payment_received", Status.EXPIRED, False),
            ("rescheduled", Status.BOOKED, True),
            ("rescheduled", Status.CANCELLED, False),
            ("ready", Status.ISSUED, True),
            ("ready", Status.COLLECTED, False),
            ("cancelled", Status.CANCELLED, True),
            ("expired", Status.EXPIRED, True),
            ("no_show", Status.NO_SHOW, True),
        ],
    )
    def test_each_message_holds_while_its_status_does(self, template, status, sent):
        application = ApplicationFactory(status=status)
        (row,) = outbox.queue_message(application=application, template=template)
        deliver(model=Notification, message_id=row.pk)
        row.refresh_from_db()
        assert (row.state, row.skip_reason) == (("sent", "") if sent else ("skipped", "status_changed"))
        assert len(mail.outbox) == (1 if sent else 0)

    def test_reminder_only_while_booked_for_tomorrow(self):
        office = OfficeFactory(timezone="Asia/Jayapura")
        nine = timezone.now().astimezone(office.tzinfo).replace(hour=9, minute=0, second=0, microsecond=0)
        tomorrow = nine.date() + dt.timedelta(days=1)
        slot = SlotFactory(office=office, starts_at=dt.datetime.combine(tomorrow, dt.time(8), tzinfo=office.tzinfo))
        later = SlotFactory(office=office, starts_at=slot.starts_at + dt.timedelta(days=3))
        on_time, moved, cancelled, late = (ApplicationFactory(slot=slot, account=None, phone="0812") for _ in range(4))
        assert queue_reminders(now=nine) == 4
        Application.objects.filter(pk=moved.pk).update(slot=later)
        Application.objects.filter(pk=cancelled.pk).update(status=Status.CANCELLED)

        with mock.patch("notifications.outbox.phone_gateway") as gateway:
            for application in (on_time, moved, cancelled):
                deliver(model=Notification, message_id=application.notifications.get().pk, now=nine)
            # Delivered after midnight, "tomorrow" would be wrong.
            deliver(model=Notification, message_id=late.notifications.get().pk, now=nine + dt.timedelta(hours=15))

        states = [
            (row.state, row.skip_reason) for row in (a.notifications.get() for a in (on_time, moved, cancelled, late))
        ]
        assert states == [
            ("sent", ""),
            ("skipped", "visit_not_tomorrow"),
            ("skipped", "status_changed"),
            ("skipped", "visit_not_tomorrow"),
        ]
        assert gateway.return_value.send.call_count == 1

    def test_national_staff_see_why_a_message_was_not_sent(self, client, world):
        application = ApplicationFactory(slot=world.kediri_slot, status=Status.CANCELLED)
        (row,) = outbox.queue_message(application=application, template="payment_received")
        deliver(model=Notification, message_id=row.pk)

        client.force_login(world.national)
        page = client.get("/admin/appointments/notification/?state=skipped").content.decode()
        assert '<td class="field-state">Tidak dikirim (tidak berlaku lagi)</td>' in page
        assert '<td class="field-skip_reason">Status permohonan berubah sebelum pengiriman</td>' in page
        client.force_login(world.kediri_officer)
        assert client.get("/admin/appointments/notification/").status_code == 403


def _drop_broker_connections():
    """Forget pooled broker connections so the next publish connects to conf.broker_url."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_a_message_with_the_broker_down_is_sent_by_the_sweep_later(office, caplog):
    """A real refused connection: nothing listens on port 1. A booking does not need the broker
    at all; a status message tries it after commit, fails fast and waits for the sweep."""
    slot = SlotFactory(office=office)
    account = UserFactory()
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager)
    conf.broker_url, conf.task_always_eager = "redis://127.0.0.1:1/0", False
    _drop_broker_connections()
    try:
        started = time.monotonic()
        application = book(account, slot)
        cancelled = change_status(application_id=application.pk, to=Status.CANCELLED, actor=account)
        elapsed = time.monotonic() - started
    finally:
        conf.broker_url, conf.task_always_eager = saved
        _drop_broker_connections()
    print(f"booking and cancelling with the broker refused took {elapsed * 1000:.0f} ms")
    assert elapsed < 1, f"took {elapsed:.1f}s with the broker down"
    refused = [r for r in caplog.records if "Could not enqueue appointments.Notification" in r.getMessage()]
    assert len(refused) == 1  # the cancellation's message, not the booking's
    assert "Connection refused" in repr(refused[0].exc_info[1]) + str(refused[0].exc_info[1])
    rows = Notification.objects.filter(application=application).order_by("pk")
    assert [(r.template, r.state, r.attempts) for r in rows] == [
        ("booking_made", "pending", 0),
        ("cancelled", "pending", 0),
    ]
    assert mail.outbox == [] and cancelled.status == Status.CANCELLED

    # Broker back: the periodic sweep sends what is still pending and still true, once; the
    # "please pay" of a booking cancelled meanwhile is not sent.
    assert sweep_outboxes(now=timezone.now() + dt.timedelta(minutes=2)) == 2
    assert sweep_outboxes(now=timezone.now() + dt.timedelta(minutes=3)) == 0
    assert [(r.template, r.state) for r in rows.all()] == [("booking_made", "skipped"), ("cancelled", "sent")]
    assert len(mail.outbox) == 1 and application.booking_code in mail.outbox[0].subject


@pytest.mark.django_db(transaction=True)
def test_enqueue_reaches_the_real_broker(settings):
    """With the broker up (real Redis, not eager) the delivery is queued as a message."""
    application = ApplicationFactory()
    queue = redis.Redis.from_url(celery_app.conf.broker_url)
    conf = celery_app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = False
    try:
        (row,) = outbox.queue_message(application=application, template="ready")
    finally:
        conf.task_always_eager = saved
    # The message carries the table and the row's id in its arguments; take it out again so no
    # worker runs it.
    ours = [m for m in queue.lrange("urgent", 0, -1) if f"('appointments.notification', {row.pk})" in m.decode()]
    assert len(ours) == 1, queue.lrange("urgent", 0, -1)[:3]
    queue.lrem("urgent", 1, ours[0])


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_row_send_once():
    application = ApplicationFactory(status=Status.ISSUED)
    row = Notification.objects.create(
        application=application, channel="email", recipient="a@example.com", template="ready"
    )
    start = threading.Barrier(2)
    sent = []

    def slow_send(**kwargs):
        time.sleep(0.3)
        sent.append(kwargs)

    def worker():
        try:
            start.wait()
            deliver(model=Notification, message_id=row.pk)
        finally:
            connection.close()

    with mock.patch("notifications.outbox.send_email", side_effect=slow_send):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(sent) == 1
    row.refresh_from_db()
    assert row.state == "sent" and row.attempts == 1


class _Recorder:
    """A stand-in for the SMS provider: a real HTTP server on a free local port."""

    def __init__(self, status=200):
        import http.server
        import json as _json

        recorder = self
        self.requests = []
        self.status = status

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.requests.append((self.headers["Authorization"], _json.loads(body)))
                self.send_response(recorder.status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.mark.parametrize("status, outcome", [(200, None), (503, DeliveryError), (400, PermanentDeliveryError)])
def test_http_phone_gateway_posts_json_with_token(status, outcome):
    from notifications.messaging import HttpPhoneGateway

    server = _Recorder(status=status)
    try:
        gateway = HttpPhoneGateway(url=server.url, token="tok-123")
        if outcome is None:
            gateway.send(channel="whatsapp", to="0812", text="Halo")
        else:
            with pytest.raises(outcome):
                gateway.send(channel="whatsapp", to="0812", text="Halo")
    finally:
        server.close()
    assert server.requests == [("Bearer tok-123", {"channel": "whatsapp", "to": "0812", "text": "Halo"})]


def test_http_phone_gateway_unreachable_is_temporary():
    from notifications.messaging import HttpPhoneGateway

    with pytest.raises(DeliveryError) as error:
        HttpPhoneGateway(url="http://127.0.0.1:1/send", token="t").send(channel="sms", to="1", text="x")
    assert not isinstance(error.value, PermanentDeliveryError)


def _start_worker(queue: str, *, email_backend: str, loglevel: str = "WARNING") -> subprocess.Popen:
    """A real Celery worker process on this test's database and Redis, consuming only `queue` (no
    other test's worker takes it), started as `make run` starts it: quiet, stdout and stderr apart."""
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_EMAIL_BACKEND": email_backend,
    }
    env.pop("DJANGO_DEBUG", None)
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "--quiet", "-A", "mpaspor", "worker", "--pool=solo", "-Q", queue),
            *(f"--loglevel={loglevel}", "--without-heartbeat", "--without-mingle", "--without-gossip"),
        ],
        env=env,
        cwd=django_settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_until_not_pending(row: Notification, worker: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and worker.poll() is None:
        row.refresh_from_db()
        if row.state != "pending":
            return
        time.sleep(0.5)


def _publish(task, *args, queue: str) -> None:
    """Send a task to the broker for the worker (the suite runs tasks eagerly otherwise)."""
    conf = celery_app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = False
    try:
        task.apply_async(args, queue=queue)
    finally:
        conf.task_always_eager = saved


def _stop(worker: subprocess.Popen) -> tuple[str, str]:
    worker.terminate()
    stdout, stderr = worker.communicate(timeout=30)
    return stdout.decode(errors="replace"), stderr.decode(errors="replace")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_what_the_refused_broker_never_got(office):
    """The whole way: booking while the broker refuses; broker back; a real Celery worker runs the
    periodic sweep from Redis and the message goes out once."""
    from notifications.tasks import sweep_outboxes_task

    slot = SlotFactory(office=office)
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager)
    conf.broker_url, conf.task_always_eager = "redis://127.0.0.1:1/0", False
    _drop_broker_connections()
    try:
        application = book(UserFactory(), slot)
    finally:
        conf.broker_url, conf.task_always_eager = saved
        _drop_broker_connections()
    row = Notification.objects.get(application=application)
    assert row.state == "pending"
    Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))

    queue = f"life-it-{uuid.uuid4().hex[:8]}"
    worker = _start_worker(queue, email_backend="django.core.mail.backends.locmem.EmailBackend")
    try:
        _publish(sweep_outboxes_task, queue=queue)
        _publish(sweep_outboxes_task, queue=queue)  # a second sweep finds nothing left to send
        _wait_until_not_pending(row, worker)
        time.sleep(1)  # let the second sweep run too
    finally:
        output = "\n".join(_stop(worker))
    row.refresh_from_db()
    assert row.state == Notification.State.SENT and row.attempts == 1, output[-2000:]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_worker_prints_its_emails_on_stdout_and_logs_on_stderr():
    """`make run` sends the worker's stderr (its log) to .celery/worker.log and leaves its stdout
    on the console: so the e-mails the console backend prints there are seen where the README
    and the demo banner say, beside the web server's."""
    application = ApplicationFactory(status=Status.CANCELLED)
    (row,) = Notification.objects.bulk_create(outbox.outbox_rows(application=application, template="cancelled"))
    queue = f"mail-it-{uuid.uuid4().hex[:8]}"
    worker = _start_worker(queue, email_backend="django.core.mail.backends.console.EmailBackend", loglevel="INFO")
    try:
        _publish(deliver_task, "appointments.notification", row.pk, queue=queue)
        _wait_until_not_pending(row, worker)
    finally:
        stdout, stderr = _stop(worker)
    row.refresh_from_db()
    assert row.state == Notification.State.SENT, stderr[-2000:]
    subject = f"Subject: {render_message(row)[0]}"
    assert subject in stdout and f"To: {row.recipient}" in stdout
    assert subject not in stderr and "notifications.deliver" in stderr  # the task's log lines
