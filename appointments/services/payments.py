"""Recording a payment notice (from the gateway or the development page) against its bill."""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from ..exceptions import UnknownBillingCode
from ..gateway import PaymentNotice
from ..models import Application, Payment, Status
from .lifecycle import do_transition

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    created: bool
    result: str  # "booked", "duplicate", "late", "amount_mismatch", "not_payable"


def record_payment(*, notice: PaymentNotice, actor=None) -> PaymentOutcome:
    """Record a gateway's payment notice, at most once per transaction id, and book the
    application if it was paid in full by its deadline while still awaiting payment.

    A late payment (after the deadline, or after the hold expired) is recorded and flagged for
    refund, never turned into a booking; the wrong amount is recorded and flagged likewise.
    Locks the application row, so a notice and the expiry job cannot both decide it."""
    try:
        with transaction.atomic(durable=True):
            application = Application.objects.select_for_update().filter(billing_code=notice.billing_code).first()
            if application is None:
                raise UnknownBillingCode()
            existing = Payment.objects.filter(transaction_id=notice.transaction_id).first()
            if existing is not None:
                return PaymentOutcome(payment=existing, created=False, result="duplicate")
            return _record(application=application, notice=notice, actor=actor)
    except IntegrityError:
        # The same transaction id arrived twice at once (for another billing code): the first won.
        existing = Payment.objects.filter(transaction_id=notice.transaction_id).first()
        if existing is None:
            raise
        return PaymentOutcome(payment=existing, created=False, result="duplicate")


def _record(*, application: Application, notice: PaymentNotice, actor) -> PaymentOutcome:
    late = application.status == Status.EXPIRED or (
        application.payment_due_at is not None and notice.paid_at > application.payment_due_at
    )
    mismatch = notice.amount != application.amount
    pending = application.status == Status.PENDING_PAYMENT
    payable = pending and not late and not mismatch
    payment = Payment.objects.create(
        application=application,
        transaction_id=notice.transaction_id,
        gateway=notice.gateway,
        amount=notice.amount,
        paid_at=notice.paid_at,
        late=late,
        amount_mismatch=mismatch,
        refund_due=not payable,
    )
    if payable:
        application.paid_at = notice.paid_at
        application.save(update_fields=["paid_at", "updated_at"])
        do_transition(
            application=application,
            to=Status.BOOKED,
            actor=actor,
            reason=f"paid via {notice.gateway}, transaction {notice.transaction_id}",
        )
        return PaymentOutcome(payment=payment, created=True, result="booked")
    if late and pending:
        # Paid too late: the hold ends now and its place goes back; the money is refunded.
        do_transition(
            application=application,
            to=Status.EXPIRED,
            actor=actor,
            reason="payment arrived after the deadline",
            message_context={"refund": True},
        )
    result = "late" if late else "amount_mismatch" if mismatch else "not_payable"
    logger.warning("Payment %s for %s flagged for refund: %s", notice.transaction_id, application, result)
    return PaymentOutcome(payment=payment, created=True, result=result)
