"""API of the waiting list: join, list, withdraw; the account's offers, accepted or declined; the
nearest offices with free places when one is full (DESIGN's API table)."""

import datetime as dt
import functools

from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.idempotency import create_once
from accounts.services import check_email_verified
from appointments.api import DUPLICATE_APPLICATION, REFUSED_NIKS_THROTTLED, ApplicationOutputSerializer
from mpaspor.api import (
    IDEMPOTENCY_KEY_PARAMETER,
    LocalDateTimeField,
    Serializer,
    StringField,
    error_responses,
)
from offices.models import Office
from quotas.api import OfficeAvailabilityApi

from .people import people_field, person_from
from .selectors_waiting import account_offers, account_waiting, nearby_offices
from .services.offers import accept_offer, decline_offer, leave_waiting_list
from .services.waiting import join_waiting_list


class WaitingOutputSerializer(Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    office = serializers.CharField(source="office.code")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    people = serializers.SerializerMethodField()
    position = serializers.IntegerField(required=False, help_text="1 for the first household waiting.")
    ahead = serializers.IntegerField(required=False, help_text="Households waiting before this one.")
    offer = serializers.SerializerMethodField(help_text="The open offer's id, if any.")

    class Meta:
        ref_name = "Waiting"

    def get_people(self, waiting) -> int:
        return len(getattr(waiting, "open_people", ())) or waiting.people.count()

    def get_offer(self, waiting) -> int | None:
        offer = getattr(waiting, "open_offer", None)
        return offer.pk if offer else None


class WaitingCreateApi(APIView):
    """Join an office's waiting list for a range of dates with 1 to 5 people."""

    class InputSerializer(Serializer):
        office = StringField(max_length=40, help_text="An office `code`.")
        date_from = serializers.DateField()
        date_to = serializers.DateField()
        people = people_field()

        class Meta:
            ref_name = "WaitingCreateInput"

    class CreatedSerializer(Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()

        class Meta:
            ref_name = "WaitingCreated"

    @extend_schema(
        operation_id="waitlist_create",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: CreatedSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                422,
                429,
                e404="`not_found`: no such office, or it is switched off.",
                e409=DUPLICATE_APPLICATION + "; `duplicate_entry`: a NIK is already entered or waiting; "
                "`passport_type_unavailable`: the office does not issue a person's passport type, or its books of "
                "that type are booked out from `date_from`.",
                e429=REFUSED_NIKS_THROTTLED,
            ),
        },
    )
    def post(self, request):
        check_email_verified(user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        office = Office.objects.filter(code=values["office"]).first()

        def join(in_same_transaction):
            return [
                join_waiting_list(
                    account=request.user,
                    office_id=office.pk if office else 0,
                    date_from=values["date_from"],
                    date_to=values["date_to"],
                    people=[person_from(p) for p in values["people"]],
                    language=translation.get_language() or "id",
                    in_same_transaction=in_same_transaction,
                )
            ]

        return create_once(request, create=join, answer=_joined_answer)


def _joined_answer(rows) -> tuple[int, dict]:
    return status.HTTP_201_CREATED, {"id": rows[0].pk, "status": rows[0].status}


class WaitingListApi(APIView):
    """The account's households still waiting, with their position."""

    @extend_schema(
        operation_id="waitlist_list",
        responses={200: WaitingOutputSerializer(many=True), **error_responses(401, 429)},
    )
    def get(self, request):
        return Response(WaitingOutputSerializer(account_waiting(account=request.user), many=True).data)


class WaitingCollectionApi(WaitingCreateApi, WaitingListApi):
    pass


class WaitingWithdrawApi(APIView):
    """Leave the waiting list; an open offer passes to the next household."""

    @extend_schema(
        operation_id="waitlist_withdraw",
        request=None,
        responses={200: WaitingOutputSerializer, **error_responses(401, 404, 429)},
    )
    def post(self, request, waiting_id):
        waiting = leave_waiting_list(waiting_id=waiting_id, account=request.user)
        return Response(WaitingOutputSerializer(waiting).data)


class OfferOutputSerializer(Serializer):
    class SlotSerializer(Serializer):
        id = serializers.IntegerField()
        office = serializers.CharField(source="office.code")
        date = serializers.DateField()
        start = LocalDateTimeField(source="local_start")
        end = LocalDateTimeField(source="local_end")
        timezone_label = serializers.CharField(source="office.timezone_label")

        class Meta:
            ref_name = "OfferSlot"

    id = serializers.IntegerField()
    slot = SlotSerializer()
    people = serializers.IntegerField(source="places")
    expires_at = serializers.SerializerMethodField(help_text="In the office's zone; accept before it.")

    class Meta:
        ref_name = "Offer"

    def get_expires_at(self, offer) -> dt.datetime:
        return LocalDateTimeField().to_representation(offer.expires_at.astimezone(offer.slot.office.tzinfo))


class OfferListApi(APIView):
    """The account's open offers."""

    @extend_schema(
        operation_id="offers_list",
        responses={200: OfferOutputSerializer(many=True), **error_responses(401, 429)},
    )
    def get(self, request):
        return Response(OfferOutputSerializer(account_offers(account=request.user), many=True).data)


class OfferAcceptApi(APIView):
    """Accept an offer: every person of the household is booked, awaiting payment."""

    class AcceptedSerializer(Serializer):
        applications = ApplicationOutputSerializer(many=True)

        class Meta:
            ref_name = "OfferAccepted"

    @extend_schema(
        operation_id="offers_accept",
        request=None,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: AcceptedSerializer,
            **error_responses(
                400,
                401,
                404,
                409,
                422,
                429,
                e409="`offer_expired`: the offer expired, was declined or withdrawn; " + DUPLICATE_APPLICATION + "; "
                "`passport_type_unavailable`: the office's books of a "
                "person's passport type are booked out on the offer's date.",
            ),
        },
    )
    def post(self, request, offer_id):
        accept = functools.partial(accept_offer, offer_id=offer_id, account=request.user)
        return create_once(request, create=accept, answer=_accepted_answer)


def _accepted_answer(applications) -> tuple[int, dict]:
    return status.HTTP_201_CREATED, {"applications": ApplicationOutputSerializer(applications, many=True).data}


class OfferDeclineApi(APIView):
    """Decline an offer: the household stays on the list and the places pass on."""

    @extend_schema(
        operation_id="offers_decline",
        request=None,
        responses={200: OfferOutputSerializer, **error_responses(401, 404, 409, 429)},
    )
    def post(self, request, offer_id):
        return Response(OfferOutputSerializer(decline_offer(offer_id=offer_id, account=request.user)).data)


class NearbyOfficesApi(APIView):
    """The nearest other offices with online places free between `from` and `to`, nearest
    first, with their next release and its mode: what to try when this office is full."""

    permission_classes = [AllowAny]

    class OutputSerializer(Serializer):
        code = serializers.CharField(source="office.code")
        name = serializers.CharField(source="office.name")
        city = serializers.CharField(source="office.city")
        distance_km = serializers.FloatField()
        available = serializers.IntegerField(source="free")
        next_release_at = LocalDateTimeField(allow_null=True)
        mode = serializers.ChoiceField(choices=[("first_come", "first_come"), ("draw", "draw")])

        class Meta:
            ref_name = "NearbyOffice"

    @extend_schema(
        operation_id="offices_nearby",
        parameters=[
            OpenApiParameter("from", dt.date, description="First day (YYYY-MM-DD); default today."),
            OpenApiParameter("to", dt.date, description="Last day (YYYY-MM-DD); default 13 days after `from`."),
        ],
        responses={200: OutputSerializer(many=True), **error_responses(400, 404, 429)},
    )
    def get(self, request, code):
        office = get_object_or_404(Office, code=code, is_active=True)
        today = timezone.now().astimezone(office.tzinfo).date()
        filters = OfficeAvailabilityApi.FilterSerializer(data=request.query_params, today=today)
        filters.is_valid(raise_exception=True)
        found = nearby_offices(office=office, **filters.validated_data)
        return Response(self.OutputSerializer(found, many=True).data)
