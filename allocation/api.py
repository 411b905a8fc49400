"""API of the fair release: an office's releases, entries (enter, list, show, withdraw) and a
draw's publication. Views parse input and call one service or selector."""

import datetime as dt
import functools

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.idempotency import create_once
from accounts.services import check_email_verified
from appointments.api import DUPLICATE_APPLICATION, REFUSED_NIKS_THROTTLED
from mpaspor.api import (
    IDEMPOTENCY_KEY_PARAMETER,
    AccountRateThrottle,
    DrawEntryRateThrottle,
    IpRateThrottle,
    LocalDateTimeField,
    Serializer,
    StrictIntegerField,
    error_responses,
)
from offices.models import Office
from quotas.models import ReleaseMode

from .models import Entry
from .people import people_field, person_from
from .selectors import account_entries, account_entry, office_releases, published_draw
from .services.entries import MAX_CHOICES, enter_draw, withdraw_entry

MAX_ID = 2**63 - 1


class ReleaseListApi(APIView):
    """An office's releases in draw mode (open, closed or drawn in the last 30 days): the entry
    window, the dates it opens, free places against entries so far, and the draw's commitments."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class OutputSerializer(Serializer):
        id = serializers.IntegerField()
        mode = serializers.SerializerMethodField()
        entries_open_at = LocalDateTimeField(source="local_entries_open_at")
        entries_close_at = LocalDateTimeField(source="local_entries_close_at", help_text="The draw's time.")
        opens_at = LocalDateTimeField(source="local_opens_at", help_text="When places the draw left open to everyone.")
        sessions_from = serializers.DateField()
        sessions_to = serializers.DateField()
        places = serializers.IntegerField()
        entries = serializers.IntegerField(source="entry_count")
        seed_sha256 = serializers.CharField(help_text="SHA-256 of the seed, published when the window opens.")
        entries_sha256 = serializers.CharField(allow_null=True, help_text="Once the window has closed.")

        class Meta:
            ref_name = "Release"

        def get_mode(self, release) -> str:
            return ReleaseMode.DRAW

        def to_representation(self, release):
            tz = release.office.tzinfo
            release.local_entries_open_at = release.entries_open_at.astimezone(tz)
            release.local_entries_close_at = release.entries_close_at.astimezone(tz)
            release.local_opens_at = release.opens_at.astimezone(tz)
            data = super().to_representation(release)
            data["entries_sha256"] = release.entries_sha256 or None
            return data

    @extend_schema(
        operation_id="offices_releases", responses={200: OutputSerializer(many=True), **error_responses(404, 429)}
    )
    def get(self, request, code):
        office = get_object_or_404(Office, code=code, is_active=True)
        return Response(self.OutputSerializer(office_releases(office=office), many=True).data)


class EntryOutputSerializer(Serializer):
    id = serializers.IntegerField()
    release = serializers.IntegerField(source="release_id")
    status = serializers.ChoiceField(choices=Entry.Status.choices)
    slot = serializers.IntegerField(source="slot_id", allow_null=True, help_text="The session won.")
    applications = serializers.ListField(child=serializers.CharField(), source="booking_codes")
    choices = serializers.ListField(child=serializers.IntegerField())
    draw_at = serializers.SerializerMethodField()

    class Meta:
        ref_name = "Entry"

    def get_draw_at(self, entry) -> dt.datetime:
        office = entry.release.office
        return LocalDateTimeField().to_representation(entry.release.entries_close_at.astimezone(office.tzinfo))


class EntryCreateApi(APIView):
    """Enter a household (1 to 5 people) in a release's draw with 1 to 3 ranked sessions of it."""

    error_field_names = {"nik": "people", "validity_years": "people", "application_kind": "people"}
    throttle_classes = [IpRateThrottle, AccountRateThrottle, DrawEntryRateThrottle]

    class InputSerializer(Serializer):
        people = people_field()
        choices = serializers.ListField(
            child=StrictIntegerField(min_value=1, max_value=MAX_ID),
            min_length=1,
            max_length=MAX_CHOICES,
            help_text="Slot ids of the release, best first.",
        )

        class Meta:
            ref_name = "EntryCreateInput"

    @extend_schema(
        operation_id="releases_entries_create",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: EntryOutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                422,
                429,
                e404="`not_found`: no such release.",
                e409="`not_in_entry_window`: the window is not open; " + DUPLICATE_APPLICATION + "; `duplicate_entry`: "
                "a NIK is already entered or waiting; `kind_not_accepted`: a chosen session does not take a "
                "person's kind of application; `passport_type_unavailable`: the office does not issue a person's "
                "passport type, or its books of that type are booked out on a chosen session's date.",
                e429=REFUSED_NIKS_THROTTLED,
            ),
        },
    )
    def post(self, request, release_id):
        check_email_verified(user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        enter = functools.partial(
            enter_draw,
            account=request.user,
            release_id=release_id,
            people=[person_from(person) for person in values["people"]],
            choices=values["choices"],
        )
        return create_once(request, create=enter, answer=_created_answer)


def _created_answer(entry) -> tuple[int, dict]:
    return status.HTTP_201_CREATED, EntryOutputSerializer(entry).data


class EntryListApi(APIView):
    """The account's own entries, newest first."""

    @extend_schema(
        operation_id="entries_list", responses={200: EntryOutputSerializer(many=True), **error_responses(401, 429)}
    )
    def get(self, request):
        return Response(EntryOutputSerializer(account_entries(account=request.user), many=True).data)


class EntryDetailApi(APIView):
    """One of the account's own entries; another account's answers 404."""

    @extend_schema(
        operation_id="entries_retrieve", responses={200: EntryOutputSerializer, **error_responses(401, 404, 429)}
    )
    def get(self, request, entry_id):
        return Response(EntryOutputSerializer(account_entry(account=request.user, entry_id=entry_id)).data)


class EntryWithdrawApi(APIView):
    """Withdraw an entry while the window is open."""

    @extend_schema(
        operation_id="entries_withdraw",
        request=None,
        responses={
            200: EntryOutputSerializer,
            **error_responses(401, 404, 409, 429, e409="`not_in_entry_window`: the window has closed."),
        },
    )
    def post(self, request, entry_id):
        withdraw_entry(account=request.user, entry_id=entry_id)
        return Response(EntryOutputSerializer(account_entry(account=request.user, entry_id=entry_id)).data)


class DrawApi(APIView):
    """Everything needed to replay a drawn release (`manage.py replay_draw`): the seed, the
    snapshot's places and entries (its canonical JSON hashes to `entries_sha256`) and the result."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class OutputSerializer(Serializer):
        class SlotSerializer(Serializer):
            id = serializers.IntegerField()
            places = serializers.IntegerField()

            class Meta:
                ref_name = "DrawSlot"

        class EntrySerializer(Serializer):
            id = serializers.IntegerField()
            people = serializers.IntegerField()
            choices = serializers.ListField(child=serializers.IntegerField())

            class Meta:
                ref_name = "DrawEntry"

        id = serializers.IntegerField()
        seed = serializers.CharField()
        seed_sha256 = serializers.CharField()
        entries_sha256 = serializers.CharField()
        slots = SlotSerializer(many=True)
        entries = EntrySerializer(many=True)
        result = serializers.DictField(
            child=serializers.IntegerField(allow_null=True), help_text="entry id: slot id or null"
        )

        class Meta:
            ref_name = "Draw"

    @extend_schema(
        operation_id="releases_draw",
        responses={
            200: OutputSerializer,
            **error_responses(404, 409, 429, e409="`not_drawn_yet`: the release has not been drawn."),
        },
    )
    def get(self, request, release_id):
        return Response(self.OutputSerializer(published_draw(release_id=release_id)).data)
