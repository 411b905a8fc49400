import datetime as dt
import json

import pytest
from django.utils import timezone

from appointments.gateway import PaymentNotice, sign
from appointments.models import Application, ApplicationEvent, Notification, Payment, Status
from appointments.services.payments import record_payment
from quotas.models import Slot
from tests.factories import ApplicationFactory

URL = "/api/v1/payments/notify/"


def notice_body(application, *, transaction_id="TX-1", amount=None, paid_at=None, timestamp=None) -> bytes:
    now = timezone.now()
    return json.dumps(
        {
            "transaction_id": transaction_id,
            "billing_code": application.billing_code,
            "amount": application.amount if amount is None else amount,
            "paid_at": (paid_at or now).isoformat(),
            "timestamp": int((timestamp or now).timestamp()),
            "gateway": "simponi",
        }
    ).encode()


def post(client, body: bytes, signature=None):
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"X-Signature": sign(body) if signature is None else signature},
    )


@pytest.fixture
def pending(db):
    return ApplicationFactory(status=Status.PENDING_PAYMENT, amount=650_000)


def snapshot(application):
    application.refresh_from_db()
    slot = Slot.objects.get(pk=application.slot_id)
    return (
        application.status,
        application.paid_at,
        slot.taken,
        Payment.objects.count(),
        ApplicationEvent.objects.filter(application=application).count(),
    )


@pytest.mark.django_db
class TestNotifyEndpoint:
    def test_valid_notice_books_and_records_payment(self, client, pending):
        answer = post(client, notice_body(pending))

        assert answer.status_code == 200, answer.content
        assert answer.json()["code"] == "booked"
        pending.refresh_from_db()
        assert pending.status == Status.BOOKED
        assert pending.paid_at is not None
        payment = Payment.objects.get()
        assert (payment.transaction_id, payment.amount, payment.gateway) == ("TX-1", 650_000, "simponi")
        assert not (payment.late or payment.refund_due or payment.amount_mismatch)
        event = pending.events.order_by("-id").first()
        assert (event.from_status, event.to_status) == (Status.PENDING_PAYMENT, Status.BOOKED)
        assert "TX-1" in event.reason
        assert Notification.objects.filter(application=pending, template="payment_received").exists()

    @pytest.mark.parametrize("signature", ["", "0" * 64, "not-hex", "sign-with-other-secret"])
    def test_bad_signature_is_refused_and_changes_nothing(self, client, pending, signature):
        body = notice_body(pending)
        if signature == "sign-with-other-secret":
            signature = sign(body, "another-secret")
        before = snapshot(pending)

        answer = post(client, body, signature=signature)

        assert answer.status_code == 403
        assert answer.json()["code"] == "bad_signature"
        assert set(answer.json()) >= {"code", "detail"}
        assert snapshot(pending) == before

    def test_tampered_body_is_refused(self, client, pending):
        body = notice_body(pending)
        signature = sign(body)
        tampered = body.replace(b"650000", b"1")
        before = snapshot(pending)
        assert post(client, tampered, signature=signature).status_code == 403
        assert snapshot(pending) == before

    def test_replay_answers_200_and_changes_nothing(self, client, pending):
        body = notice_body(pending)
        assert post(client, body).json()["code"] == "booked"
        before = snapshot(pending)

        again = post(client, body)

        assert again.status_code == 200
        assert again.json()["code"] == "duplicate"
        assert snapshot(pending) == before
        assert Notification.objects.filter(application=pending, template="payment_received").count() == 1

    def test_stale_timestamp_refused_for_a_new_transaction(self, client, pending):
        body = notice_body(pending, timestamp=timezone.now() - dt.timedelta(hours=1))
        before = snapshot(pending)
        answer = post(client, body)
        assert answer.status_code == 403
        assert answer.json()["code"] == "stale_notice"
        assert snapshot(pending) == before

    def test_late_payment_is_recorded_for_refund_and_not_booked(self, client, db):
        due = timezone.now() - dt.timedelta(minutes=5)
        late = ApplicationFactory(status=Status.PENDING_PAYMENT, payment_due_at=due)
        slot = Slot.objects.get(pk=late.slot_id)
        assert slot.taken == 1

        answer = post(client, notice_body(late, paid_at=due + dt.timedelta(minutes=1)))

        assert answer.status_code == 200
        assert answer.json()["code"] == "late"
        late.refresh_from_db()
        assert late.status == Status.EXPIRED  # the hold ends, never a booking
        slot.refresh_from_db()
        assert slot.taken == 0
        payment = Payment.objects.get()
        assert payment.late and payment.refund_due
        from appointments.outbox import render_message

        message = Notification.objects.get(application=late, template="expired")
        assert "dikembalikan" in render_message(message)[1]  # the applicant is told of the refund

    def test_payment_after_the_hold_expired_is_flagged(self, client, db):
        expired = ApplicationFactory(status=Status.EXPIRED)
        answer = post(client, notice_body(expired))
        assert answer.json()["code"] == "late"
        expired.refresh_from_db()
        assert expired.status == Status.EXPIRED
        payment = Payment.objects.get()
        assert payment.late and payment.refund_due

    def test_paid_in_time_but_received_after_deadline_still_books(self, client, db):
        due = timezone.now() - dt.timedelta(minutes=1)
        application = ApplicationFactory(status=Status.PENDING_PAYMENT, payment_due_at=due)
        answer = post(client, notice_body(application, paid_at=due - dt.timedelta(minutes=2)))
        assert answer.json()["code"] == "booked"

    def test_wrong_amount_is_flagged_and_not_booked(self, client, pending):
        answer = post(client, notice_body(pending, amount=1_000))
        assert answer.status_code == 200
        assert answer.json()["code"] == "amount_mismatch"
        pending.refresh_from_db()
        assert pending.status == Status.PENDING_PAYMENT
        payment = Payment.objects.get()
        assert payment.amount_mismatch and payment.refund_due and not payment.late

    def test_unknown_billing_code_is_404_and_stores_nothing(self, client, pending):
        pending.billing_code = "999999999999999"
        answer = post(client, notice_body(pending))
        assert answer.status_code == 404
        assert answer.json()["code"] == "unknown_billing_code"
        assert not Payment.objects.exists()

    @pytest.mark.parametrize("body", [b"not json", b"{}", b'{"transaction_id": "x"}', b"[]"])
    def test_malformed_notice_is_400(self, client, pending, body):
        answer = post(client, body)
        assert answer.status_code == 400
        assert answer.json()["code"] == "invalid"
        assert not Payment.objects.exists()

    def test_no_secret_configured_refuses_everything(self, client, pending, settings, caplog):
        settings.PAYMENT_GATEWAY_SECRET = ""
        body = notice_body(pending)
        answer = post(client, body, signature=sign(body, ""))
        # Refused as unsigned, not a 5xx: the deployment check (appointments.E001) is the alarm,
        # and each refusal is logged for the operators.
        assert answer.status_code == 403 and answer.json()["code"] == "bad_signature"
        assert [r for r in caplog.records if r.levelname == "ERROR" and "PAYMENT_GATEWAY_SECRET" in r.getMessage()]
        pending.refresh_from_db()
        assert pending.status == Status.PENDING_PAYMENT

    def test_second_payment_of_a_booked_application_is_flagged(self, client, pending):
        post(client, notice_body(pending, transaction_id="TX-1"))
        answer = post(client, notice_body(pending, transaction_id="TX-2"))
        assert answer.json()["code"] == "not_payable"
        assert Payment.objects.get(transaction_id="TX-2").refund_due


@pytest.mark.django_db
def test_no_session_or_csrf_needed(pending):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, notice_body(pending)).status_code == 200


@pytest.mark.django_db
def test_settings_secret_has_no_default_outside_debug():
    import subprocess
    import sys

    code = (
        "import django,os;django.setup();from django.conf import settings;print(repr(settings.PAYMENT_GATEWAY_SECRET))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("PAYMENT_GATEWAY_SECRET", "DJANGO_DEBUG")}
    env["DJANGO_SETTINGS_MODULE"] = "mpaspor.settings"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("''")


@pytest.mark.django_db
def test_record_payment_service_locks_and_is_idempotent(pending):
    notice = PaymentNotice(
        transaction_id="T", billing_code=pending.billing_code, amount=650_000, paid_at=timezone.now(), gateway="x"
    )
    assert record_payment(notice=notice).result == "booked"
    assert record_payment(notice=notice).result == "duplicate"
    assert Application.objects.get(pk=pending.pk).status == Status.BOOKED


@pytest.mark.django_db(transaction=True)
def test_the_same_notice_twice_at_once_books_once():
    import threading

    from django.db import connection

    application = ApplicationFactory(status=Status.PENDING_PAYMENT, amount=650_000)
    notice = PaymentNotice(
        transaction_id="T-race",
        billing_code=application.billing_code,
        amount=650_000,
        paid_at=timezone.now(),
        gateway="x",
    )
    start = threading.Barrier(2)
    results = []

    def deliver():
        try:
            start.wait()
            results.append(record_payment(notice=notice).result)
        except Exception as exc:
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["booked", "duplicate"]
    assert Payment.objects.count() == 1
    assert ApplicationEvent.objects.filter(application=application, to_status=Status.BOOKED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_payment_racing_the_expiry_job_never_both():
    """The notice and release_expired_holds lock the same row: either booked or expired+refund."""
    import threading

    from django.db import connection

    from appointments.services.lifecycle import release_expired_holds

    due = timezone.now() - dt.timedelta(seconds=1)
    application = ApplicationFactory(status=Status.PENDING_PAYMENT, amount=650_000, payment_due_at=due)
    notice = PaymentNotice(
        transaction_id="T-exp",
        billing_code=application.billing_code,
        amount=650_000,
        paid_at=due - dt.timedelta(seconds=30),
        gateway="x",
    )
    start = threading.Barrier(2)

    def run(fn):
        try:
            start.wait()
            fn()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(lambda: record_payment(notice=notice),)),
        threading.Thread(target=run, args=(release_expired_holds,)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    application.refresh_from_db()
    payment = Payment.objects.get()
    taken = Slot.objects.get(pk=application.slot_id).taken
    if application.status == Status.BOOKED:
        assert not payment.refund_due and taken == 1
    else:
        assert application.status == Status.EXPIRED and payment.refund_due and payment.late and taken == 0
