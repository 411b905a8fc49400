"""API: the account's NIK disputes (docs/nik-disputes.md). `nik-disputes/`: GET lists them, POST
contests a NIK (multipart: the NIK, the birth date, a photo of the e-KTP). Nothing in an answer
tells anything of the contested application."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.idempotency import create_once
from accounts.services import check_email_verified
from mpaspor.api import IDEMPOTENCY_KEY_PARAMETER, RegexStringField, Serializer, error_responses

from . import selectors
from .models import NikDispute
from .services.disputes import file_dispute


class NikDisputeOutputSerializer(Serializer):
    id = serializers.IntegerField()
    nik = serializers.CharField(source="masked_nik", help_text="Masked: the region part and the last two digits.")
    state = serializers.ChoiceField(
        choices=NikDispute.State.values, help_text="`open` (the office reviews it), `upheld` or `rejected`."
    )
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(help_text="The office's note with its decision (the reason of a rejection).")

    class Meta:
        ref_name = "NikDispute"


DISPUTE_ERRORS = error_responses(
    400,
    401,
    403,
    409,
    413,
    415,
    422,
    429,
    e400="`invalid`: a malformed NIK (`errors.nik`), a birth date that is not the one the NIK encodes "
    "(`errors.birth_date`), or a photo that cannot be kept (`errors.photo`: damaged, too many pixels).",
    e403="`email_not_verified`: the account's e-mail address is not verified yet.",
    e409="`nothing_to_dispute`: no active application holds this NIK (book with it); `own_application`: the "
    "account's own application holds it (cancel it); `dispute_open`: the account already contests this NIK and "
    "the office has not decided; `request_in_progress`: a request with this `Idempotency-Key` is still being "
    "processed.",
    e415="`file_type_not_allowed`: the photo is not a JPEG or PNG image (a PDF is not accepted here).",
    e429="`throttled`: too many requests, or the account was refused too many NIKs of other people's "
    "applications today (each NIK contested counts as one) and may try again when the day ends.",
)


class NikDisputeCollectionApi(APIView):
    """The account's NIK disputes; a NIK's owner contests an application someone else booked with it."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="nik_disputes_list",
        responses={200: NikDisputeOutputSerializer(many=True), **error_responses(401, 429)},
    )
    def get(self, request):
        return Response(NikDisputeOutputSerializer(selectors.account_disputes(account=request.user), many=True).data)

    class InputSerializer(Serializer):
        nik = RegexStringField(r"^[0-9]{16}$", max_length=16, help_text="The owner's NIK, 16 digits.")
        birth_date = serializers.DateField(help_text="The owner's birth date: the one the NIK encodes.")
        photo = serializers.FileField(
            help_text="A JPEG or PNG photo of the owner's e-KTP, told by its content; up to `DOCUMENT_MAX_BYTES`. "
            "Re-encoded (EXIF and GPS data dropped) and scaled down; only the office's staff see it."
        )

        class Meta:
            ref_name = "NikDisputeInput"

    @extend_schema(
        operation_id="nik_disputes_create",
        request={"multipart/form-data": InputSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={201: NikDisputeOutputSerializer, **DISPUTE_ERRORS},
    )
    def post(self, request):
        check_email_verified(user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data

        def create(*, in_same_transaction) -> list:
            return [
                file_dispute(
                    account=request.user,
                    nik=values["nik"],
                    birth_date=values["birth_date"],
                    photo=values["photo"],
                    in_same_transaction=in_same_transaction,
                )
            ]

        return create_once(request, create=create, answer=_filed_answer)


def _filed_answer(disputes) -> tuple[int, dict]:
    """The status and body of a dispute's answer, stored for an Idempotency-Key as it is sent."""
    return status.HTTP_201_CREATED, NikDisputeOutputSerializer(disputes[0]).data
