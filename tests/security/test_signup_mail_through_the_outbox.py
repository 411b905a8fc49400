"""Issue 14, item 12: the verification e-mail goes through the outbox like every other message.

Before, it was sent over SMTP inside the sign-up request: a slow or unreachable relay held the
sign-up for the relay's timeout, and "could not send" was only logged, never retried. Now the
request writes an outbox row (accounts.AccountMessage) and publishes its delivery; the delivery
retries with the same backoff as every outbox, and the sweep sends what the broker never got."""

import datetime as dt
import socket
import threading
import time

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AccountMessage, User
from accounts.services import register_user
from mpaspor.celery import app as celery_app
from notifications.outbox import deliver, sweep_outboxes


@pytest.fixture
def hanging_relay():
    """An SMTP relay that accepts connections and never answers (a real socket)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def sign_up() -> User:
    register_user(
        email="baru@example.com",
        password="Paspor-Baru-2025",
        full_name="Sari Dewi",
        phone="081234567890",
        reset_url="http://testserver/accounts/password/reset/",
    )
    return User.objects.get(email="baru@example.com")


@pytest.mark.django_db(transaction=True)
def test_sign_up_does_not_wait_for_a_hanging_mail_relay(settings, hanging_relay):
    import redis

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", hanging_relay, 2
    conf = celery_app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = False  # published to the real broker, as in production
    try:
        started = time.monotonic()
        user = sign_up()
        elapsed = time.monotonic() - started
    finally:
        conf.task_always_eager = saved
    assert elapsed < 1, f"the sign-up waited {elapsed:.1f} s for the mail relay"
    queue = redis.Redis.from_url(conf.broker_url)
    message = AccountMessage.objects.get(user=user)
    ours = [m for m in queue.lrange("urgent", 0, -1) if f"('accounts.accountmessage', {message.pk})" in m.decode()]
    assert len(ours) == 1
    queue.lrem("urgent", 1, ours[0])  # no worker of another test may run it
    assert (message.template, message.recipient, message.state) == ("verification", "baru@example.com", "pending")

    # The relay still hangs: the delivery fails, is kept, and is tried again with backoff.
    assert deliver(model=AccountMessage, message_id=message.pk) == settings.NOTIFICATION_RETRY_BASE_SECONDS
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 1) and message.next_attempt_at > timezone.now()
    assert "code" in message.context  # kept for the next try

    # The relay is back: the sweep sends it, once, and the code does not stay in the table.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = timezone.now() + dt.timedelta(minutes=5)
    assert sweep_outboxes(now=later) == 1 and sweep_outboxes(now=later) == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["baru@example.com"]
    message.refresh_from_db()
    assert message.state == "sent" and message.context == {}


@pytest.mark.django_db
def test_the_code_in_the_mail_verifies_the_account(django_capture_on_commit_callbacks):
    from accounts.services import verify_email

    with django_capture_on_commit_callbacks(execute=True):
        user = sign_up()  # eager, as tests run tasks: delivered after the commit
    (sent,) = mail.outbox
    code = next(word for word in sent.body.split() if word.isdigit() and len(word) == 6)
    assert code in sent.subject
    verify_email(user=user, code=code)
    assert User.objects.get(pk=user.pk).email_verified
    assert AccountMessage.objects.get(user=user).context == {}
