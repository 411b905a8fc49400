"""API: book, list, show, cancel and reschedule an account's applications, and ask to come earlier.

Views parse input and call one service or selector; every rule lives in the services."""

import datetime as dt
import functools

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.idempotency import create_once
from accounts.services import check_email_verified
from mpaspor.api import (
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENCY_KEY_PARAMETER,
    IntegerChoiceField,
    LocalDateTimeField,
    RegexStringField,
    Serializer,
    StrictBooleanField,
    StrictIntegerField,
    StringField,
    error_responses,
)
from mpaspor.errors import DomainError
from quotas.availability_cache import slot_sold_out
from quotas.exceptions import SlotFull

from . import gateway, selectors
from .document_views import file_response
from .exceptions import ApplicationNotFound, DocumentNotFound, InvalidInput
from .models import ApplicationKind, PassportType, Sex, Status
from .selectors import account_application, account_applications, express_check_in_by
from .services.booking import PersonBooking, book_applications
from .services.documents import documents_open, upload_document
from .services.earlier import ask_earlier, stop_earlier
from .services.lifecycle import cancel_application, reschedule_application
from .services.payments import record_payment
from .services.people import ApplicantData, check_applicant

MAX_ID = 2**63 - 1  # PostgreSQL bigint

CONFLICTS = (
    "`slot_full`: no place left (answered before the body is checked when a claim found the slot full "
    "within the last second, except with an `Idempotency-Key`); `not_open_yet`: booking for this date has not opened; "
    "`slot_past`: the session has started; `kind_not_accepted`: the session does not take this kind; "
    "`express_full`: no same-day service place is left on that date (regular service may still book); "
    "`passport_type_unavailable`: the office does not issue a person's passport type, or its blank books of "
    "that type are booked out from the session's date (`GET offices/{code}/availability/` says from when); "
)
# The refusal of a NIK that an active application holds, wherever a NIK is given (booking, draw
# entry, waiting list, an offer's acceptance): one answer whoever holds it (docs/nik-disputes.md).
DUPLICATE_APPLICATION = (
    "`duplicate_application`: a NIK already has an active application; the same `detail` whoever holds it, "
    "which tells how its owner contests it and nothing about that application: the app's way is "
    "`POST nik-disputes/` (birth date and a photo of the e-KTP)"
)
REFUSED_NIKS_THROTTLED = (
    "`throttled`: too many requests; or the account was refused too many different NIKs of other people's "
    "applications today (`REFUSED_NIKS_PER_DAY`) and may book, enter a draw or join a waiting list again when "
    "the day ends. `Retry-After` says how many seconds to wait."
)


class ApplicationOutputSerializer(Serializer):
    """An application as the account sees it; times in the office's zone."""

    class SlotSerializer(Serializer):
        class OfficeSerializer(Serializer):
            code = serializers.CharField()
            name = serializers.CharField()

            class Meta:
                ref_name = "ApplicationOffice"

        id = serializers.IntegerField()
        office = OfficeSerializer()
        date = serializers.DateField()
        start = LocalDateTimeField(source="local_start")
        end = LocalDateTimeField(source="local_end")
        timezone = serializers.CharField(source="office.timezone")
        timezone_label = serializers.CharField(source="office.timezone_label")

        class Meta:
            ref_name = "ApplicationSlot"

    class ApplicantSerializer(Serializer):
        nik = serializers.CharField(source="masked_nik", help_text="Masked: region and last two digits.")
        full_name = serializers.CharField()
        birth_date = serializers.DateField()
        sex = serializers.ChoiceField(choices=Sex.choices)
        phone = serializers.CharField()
        married = serializers.BooleanField(help_text="As declared at booking.")

        class Meta:
            ref_name = "ApplicationApplicant"

    class PaymentSerializer(Serializer):
        billing_code = serializers.CharField(allow_null=True, help_text="SIMPONI billing code, 15 digits.")
        amount = serializers.IntegerField(help_text="Rupiah.")
        currency = serializers.SerializerMethodField()
        due_at = serializers.SerializerMethodField(help_text="Pay before this time, or the place is released.")
        paid_at = serializers.SerializerMethodField()

        class Meta:
            ref_name = "ApplicationPayment"

        def get_currency(self, application) -> str:
            return "IDR"

        def _local(self, application, value):
            return (
                LocalDateTimeField().to_representation(value.astimezone(application.slot.office.tzinfo))
                if value
                else None
            )

        def get_due_at(self, application) -> dt.datetime | None:
            return self._local(application, application.payment_due_at)

        def get_paid_at(self, application) -> dt.datetime | None:
            return self._local(application, application.paid_at)

    booking_code = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    passport_type = serializers.ChoiceField(choices=PassportType.choices)
    validity_years = serializers.IntegerField()
    application_kind = serializers.ChoiceField(source="kind", choices=ApplicationKind.choices)
    express = serializers.BooleanField()
    express_check_in_by = serializers.SerializerMethodField(
        help_text="Same-day service: the latest check-in for same-day issue, in the office's zone; null otherwise."
    )
    slot = SlotSerializer()
    applicant = ApplicantSerializer(source="*")
    payment = PaymentSerializer(source="*")
    reschedule_count = serializers.IntegerField()
    earlier_from = serializers.DateField(
        allow_null=True,
        help_text="The household asked to come earlier: moved into the first free place of the office from this "
        "date on, before its session (`POST applications/{booking_code}/earlier/`); null otherwise.",
    )
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Application"

    def get_express_check_in_by(self, application) -> dt.datetime | None:
        when = express_check_in_by(application=application)
        return LocalDateTimeField().to_representation(when) if when else None


class ApplicationCreateApi(APIView):
    """Book a place: the place is held awaiting payment of the billing code until `payment.due_at`."""

    # A service names the NIK `nik`; here it is inside `applicant`.
    error_field_names = {"nik": "applicant.nik"}

    class InputSerializer(Serializer):
        class ApplicantSerializer(Serializer):
            nik = RegexStringField(r"^[0-9]{16}$", max_length=16, help_text="16 digits (e-KTP).")
            full_name = StringField(max_length=150)
            birth_date = serializers.DateField()
            sex = serializers.ChoiceField(choices=Sex.choices)
            phone = StringField(max_length=16, required=False, default="", help_text="An Indonesian mobile number.")
            married = StrictBooleanField(
                required=False,
                default=False,
                help_text="Declared marital status (default false). It matters under 17 only: an unmarried "
                "applicant under 17 on the visit's day gets only `validity_years` 5, a married one may choose 10; "
                "the office checks the marriage book at the counter.",
            )

            class Meta:
                ref_name = "ApplicantInput"

            def validate(self, data):
                try:
                    check_applicant(ApplicantData(**data))
                except InvalidInput as error:
                    raise serializers.ValidationError({error.field: [error.message]}) from error
                return data

        slot = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="A slot `id` from availability.")
        passport_type = serializers.ChoiceField(choices=PassportType.choices)
        validity_years = IntegerChoiceField(choices=[(5, "5"), (10, "10")])
        application_kind = serializers.ChoiceField(
            choices=ApplicationKind.choices,
            help_text="Online: `new`, `replacement_expired`, `replacement_full`; the others only at the office.",
        )
        express = StrictBooleanField(default=False, help_text="Same-day service (percepatan), extra fee.")
        applicant = ApplicantSerializer()

        class Meta:
            ref_name = "ApplicationCreateInput"

    @extend_schema(
        operation_id="applications_create",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: ApplicationOutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                422,
                429,
                e403="`email_not_verified`: confirm the e-mail address first (`auth/verify-email/`); "
                "`account_restricted`: the account is under a hoarding restriction (`detail` says until when "
                "and why) or was blocked after a review.",
                e404="`not_found`: no such online slot.",
                e409=CONFLICTS
                + "`walk_in_only`: a walk-in session, which takes no booking (come to the office); "
                + DUPLICATE_APPLICATION
                + "; `too_many_applicants`: the account already applies for 5 people; "
                "`request_in_progress`: a request with this `Idempotency-Key` is still being processed.",
                e429=REFUSED_NIKS_THROTTLED,
            ),
        },
    )
    def post(self, request):
        check_email_verified(user=request.user)
        refuse_sold_out_early(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        person = PersonBooking(
            applicant=ApplicantData(**values["applicant"]),
            passport_type=values["passport_type"],
            validity_years=values["validity_years"],
            kind=values["application_kind"],
            express=values["express"],
        )
        book = functools.partial(
            book_applications,
            account=request.user,
            slot_id=values["slot"],
            people=[person],
            language=translation.get_language() or "id",
        )
        return create_once(request, create=book, answer=_created_answer)


def refuse_sold_out_early(request) -> None:
    """409 slot_full before the body is validated when a claim found the slot full within the
    last second: most requests of a release burst end here (docs/decisions.md). Never for a
    request with an Idempotency-Key, whose retry must get its stored answer."""
    slot_id = request.data.get("slot") if isinstance(request.data, dict) else None
    if type(slot_id) is int and IDEMPOTENCY_KEY_HEADER not in request.headers and slot_sold_out(slot_id=slot_id):
        raise SlotFull()


def _created_answer(applications) -> tuple[int, dict]:
    """The status and body of a booking's answer, stored for an Idempotency-Key as it is sent."""
    return status.HTTP_201_CREATED, ApplicationOutputSerializer(applications[0]).data


class ApplicationListApi(APIView):
    """The account's own applications, newest first."""

    @extend_schema(
        operation_id="applications_list",
        responses={200: ApplicationOutputSerializer(many=True), **error_responses(401, 429)},
    )
    def get(self, request):
        return Response(ApplicationOutputSerializer(account_applications(account=request.user), many=True).data)


class ApplicationCollectionApi(ApplicationCreateApi, ApplicationListApi):
    """`applications/`: GET lists (ApplicationListApi), POST books (ApplicationCreateApi)."""


class ApplicationDetailApi(APIView):
    """One of the account's own applications; another account's answers 404."""

    @extend_schema(
        operation_id="applications_retrieve",
        responses={200: ApplicationOutputSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, booking_code):
        return Response(ApplicationOutputSerializer(own_application(request.user, booking_code)).data)


class ApplicationCancelApi(APIView):
    """Cancel an application; its place goes back to the slot."""

    @extend_schema(
        operation_id="applications_cancel",
        request=None,
        responses={
            200: ApplicationOutputSerializer,
            **error_responses(
                401, 404, 409, 429, e409="`transition_not_allowed`: the application can no longer be cancelled."
            ),
        },
    )
    def post(self, request, booking_code):
        application = own_application(request.user, booking_code)
        application = cancel_application(
            application_id=application.pk, actor=request.user, reason="cancelled by applicant (API)"
        )
        return Response(ApplicationOutputSerializer(application).data)


class ApplicationRescheduleApi(APIView):
    """Move the application to another session at the same office: once, up to the day before."""

    class InputSerializer(Serializer):
        slot = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="A slot `id` from availability.")

        class Meta:
            ref_name = "ApplicationRescheduleInput"

    @extend_schema(
        operation_id="applications_reschedule",
        request=InputSerializer,
        responses={
            200: ApplicationOutputSerializer,
            **error_responses(
                400,
                401,
                404,
                409,
                429,
                e404="`not_found`: no such application of this account, or no such online slot.",
                e409="`reschedule_not_allowed`: already moved once, too late (H-1), wrong status, or another "
                "office's session; " + CONFLICTS,
            ),
        },
    )
    def post(self, request, booking_code):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = own_application(request.user, booking_code)
        application = reschedule_application(
            application_id=application.pk, slot_id=data.validated_data["slot"], actor=request.user
        )
        return Response(ApplicationOutputSerializer(application).data)


EARLIER_NOT_ALLOWED = (
    "`earlier_not_allowed`: not booked (paid), the office closed its session (choose another day with "
    "`reschedule/`), or the visit is today or tomorrow."
)


class ApplicationEarlierApi(APIView):
    """Ask to come earlier: the account's booked applications on this application's session (its
    household) are moved together, automatically, into the first free place of the office from
    `date_from` on, before their session, and told by message. The move uses none of the one
    change of date. Tried at once (the answer shows the household moved or not), then whenever a
    place is given back, after the waiting list's offers, first asked first moved. Asking again
    changes the date and keeps the place in line."""

    class InputSerializer(Serializer):
        date_from = serializers.DateField(
            help_text="The first date the household can come: from tomorrow (in the office's zone) to the day "
            "before the visit."
        )

        class Meta:
            ref_name = "ApplicationEarlierInput"

    class HouseholdSerializer(Serializer):
        applications = ApplicationOutputSerializer(
            many=True, help_text="The household, moved (a new `slot`, `earlier_from` null) or waiting."
        )

        class Meta:
            ref_name = "ApplicationEarlierHousehold"

    @extend_schema(
        operation_id="applications_earlier",
        request=InputSerializer,
        responses={
            200: HouseholdSerializer,
            **error_responses(
                400,
                401,
                404,
                409,
                429,
                e400="`invalid`: `date_from` is missing, not a date, or outside tomorrow to the day before the visit "
                "(`errors.date_from`).",
                e404="`not_found`: no such application of this account.",
                e409=EARLIER_NOT_ALLOWED,
            ),
        },
    )
    def post(self, request, booking_code):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = own_application(request.user, booking_code)
        household = ask_earlier(
            application_id=application.pk, account=request.user, date_from=data.validated_data["date_from"]
        )
        return Response(self.HouseholdSerializer({"applications": household}).data)


class ApplicationEarlierStopApi(APIView):
    """The household no longer asks to come earlier; `stopped` says how many applications stopped
    asking (0 when none was)."""

    class StoppedSerializer(Serializer):
        stopped = serializers.IntegerField()

        class Meta:
            ref_name = "ApplicationEarlierStopped"

    @extend_schema(
        operation_id="applications_earlier_stop",
        request=None,
        responses={
            200: StoppedSerializer,
            **error_responses(401, 404, 429, e404="`not_found`: no such application of this account."),
        },
    )
    def post(self, request, booking_code):
        application = own_application(request.user, booking_code)
        return Response({"stopped": stop_earlier(application_id=application.pk, account=request.user)})


def own_application(account, booking_code: str):
    """One of the account's own applications; another account's is as absent as a missing one."""
    application = account_application(account=account, booking_code=booking_code)
    if application is None:
        raise ApplicationNotFound()
    return application


# --- Supporting documents --------------------------------------------------------------------


class DocumentFileSerializer(Serializer):
    id = serializers.IntegerField()
    file_name = serializers.CharField(source="original_name", help_text="The name the file had when sent.")
    content_type = serializers.ChoiceField(choices=["image/jpeg", "image/png", "application/pdf"])
    size = serializers.IntegerField(help_text="Bytes, as kept (photos are re-encoded and scaled down).")
    status = serializers.ChoiceField(choices=["pending", "accepted", "rejected"], help_text="The counter's check.")
    reason = serializers.CharField(help_text="Why the counter rejected it; empty otherwise.")
    uploaded_at = serializers.DateTimeField()

    class Meta:
        ref_name = "DocumentFile"


class DocumentChecklistSerializer(Serializer):
    class RequiredDocumentSerializer(Serializer):
        code = serializers.CharField(source="requirement.code", help_text="Send it as `requirement`.")
        name = serializers.CharField(source="requirement.label", help_text="In the request's language.")
        required = serializers.BooleanField(source="requirement.required")
        files = DocumentFileSerializer(many=True)

        class Meta:
            ref_name = "RequiredDocument"

    upload_open = serializers.BooleanField(help_text="Whether files may still be sent (from booking to the visit).")
    max_bytes = serializers.IntegerField()
    max_files = serializers.IntegerField(help_text="Per application, rejected files not counted.")
    documents = RequiredDocumentSerializer(many=True)

    class Meta:
        ref_name = "DocumentChecklist"


UPLOAD_ERRORS = error_responses(
    400,
    401,
    404,
    409,
    413,
    415,
    422,
    429,
    e400="`invalid`: no file, a document not asked for this application (`errors.requirement`), or a file that "
    "cannot be kept (`errors.file`): a damaged image or PDF, an image of too many pixels (a decompression bomb), "
    "a PDF with JavaScript, automatic actions or attached files, or one protected by a password.",
    e404="`not_found`: no such application of this account.",
    e409="`documents_closed`: the application no longer takes documents; `too_many_documents`: it holds the "
    "maximum of files; `request_in_progress`: a request with this `Idempotency-Key` is still being processed.",
)


class DocumentCollectionApi(APIView):
    """`applications/{booking_code}/documents/`: GET lists what is asked and what was sent; POST sends one file."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="applications_documents_list",
        responses={200: DocumentChecklistSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, booking_code):
        application = own_application(request.user, booking_code)
        return Response(
            DocumentChecklistSerializer(
                {
                    "upload_open": documents_open(application),
                    "max_bytes": settings.DOCUMENT_MAX_BYTES,
                    "max_files": settings.DOCUMENT_MAX_FILES,
                    "documents": selectors.document_checklist(application=application),
                }
            ).data
        )

    class InputSerializer(Serializer):
        requirement = RegexStringField(r"^[-a-zA-Z0-9_]{1,40}$", max_length=40, help_text="A document's `code`.")
        file = serializers.FileField(
            help_text="JPEG, PNG or PDF, told by its content; up to `max_bytes`. Photos are re-encoded (their "
            "EXIF and GPS data dropped) and scaled down."
        )

        class Meta:
            ref_name = "DocumentUploadInput"

    @extend_schema(
        operation_id="applications_documents_create",
        request={"multipart/form-data": InputSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={201: DocumentFileSerializer, **UPLOAD_ERRORS},
    )
    def post(self, request, booking_code):
        application = own_application(request.user, booking_code)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent = data.validated_data["file"]

        def create(*, in_same_transaction) -> list:
            return [
                upload_document(
                    application=application,
                    requirement_code=data.validated_data["requirement"],
                    file=sent,
                    file_name=sent.name,
                    in_same_transaction=in_same_transaction,
                )
            ]

        return create_once(request, create=create, answer=_uploaded_answer)


def _uploaded_answer(documents) -> tuple[int, dict]:
    """The status and body of an upload's answer, stored for an Idempotency-Key as it is sent."""
    return status.HTTP_201_CREATED, DocumentFileSerializer(documents[0]).data


class DocumentFileApi(APIView):
    """The content of one file of the account's own application."""

    @extend_schema(
        operation_id="applications_documents_file",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **error_responses(401, 404, 429),
        },
    )
    def get(self, request, booking_code, document_id):
        document = selectors.own_document(account=request.user, booking_code=booking_code, document_id=document_id)
        if document is None:
            raise DocumentNotFound()
        return file_response(document)


# --- Payment gateway notices ---------------------------------------------------------------

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
                gateway.SIGNATURE_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="Hex HMAC-SHA256 of the raw body with the shared secret.",
            )
        ],
        responses={200: _answer, 400: _answer, 403: _answer, 404: _answer, 503: _answer},
        auth=[],
    )
    def post(self, request):
        body = request._request.body  # the raw bytes that were signed; request.data is never read
        try:
            gateway.check_signature(body=body, signature=request.headers.get(gateway.SIGNATURE_HEADER, ""))
            notice = gateway.parse_notice(body)
            if not selectors.payment_recorded(transaction_id=notice.transaction_id):
                gateway.check_fresh(notice)  # a replay of a recorded notice is harmless at any age
            outcome = record_payment(notice=notice)
        except DomainError as error:
            return Response({"code": error.code, "detail": error.message}, status=error.http_status)
        return Response({"code": outcome.result, "detail": str(RESULT_DETAILS[outcome.result])}, status=200)
