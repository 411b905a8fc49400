"""The application life cycle's API operations (DESIGN "API contract v1")."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from mpaspor.errors import DomainError

from . import payments, selectors, services

RESULT_DETAILS = {
    "booked": _("Payment recorded; the application is booked."),
    "duplicate": _("This transaction was already recorded; nothing changed."),
    "late": _("Payment recorded after the deadline; it is flagged for refund and the application is not booked."),
    "amount_mismatch": _("Payment recorded with an amount that differs from the bill; flagged for refund."),
    "not_payable": _("Payment recorded, but the application was no longer awaiting payment; flagged for refund."),
}

_answer = inline_serializer("PaymentNotifyAnswer", {"code": serializers.CharField(), "detail": serializers.CharField()})


class PaymentNotifyApi(APIView):
    """POST /api/v1/payments/notify/: a payment gateway's signed notice.

    The signature is HMAC-SHA256 over the raw body (header X-Signature). No session, no CSRF:
    the signature is the authentication. Idempotent by transaction id."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=inline_serializer(
            "PaymentNotice",
            {
                "transaction_id": serializers.CharField(),
                "billing_code": serializers.CharField(),
                "amount": serializers.IntegerField(),
                "paid_at": serializers.DateTimeField(),
                "timestamp": serializers.IntegerField(),
                "gateway": serializers.CharField(required=False),
            },
        ),
        parameters=[
            OpenApiParameter(
                payments.SIGNATURE_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                description="Hex HMAC-SHA256 of the raw body with the shared secret.",
            )
        ],
        responses={200: _answer, 400: _answer, 403: _answer, 404: _answer, 503: _answer},
        auth=[],
    )
    def post(self, request):
        body = request._request.body  # the raw bytes that were signed; request.data is never read
        try:
            payments.check_signature(body=body, signature=request.headers.get(payments.SIGNATURE_HEADER, ""))
            notice = payments.parse_notice(body)
            if not selectors.payment_recorded(transaction_id=notice.transaction_id):
                payments.check_fresh(notice)  # a replay of a recorded notice is harmless at any age
            outcome = services.record_payment(notice=notice)
        except DomainError as error:
            return Response({"code": error.code, "detail": error.message}, status=error.http_status)
        return Response({"code": outcome.result, "detail": str(RESULT_DETAILS[outcome.result])}, status=200)
