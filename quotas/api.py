"""API: an office's bookable days and sessions."""

import datetime as dt

from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from mpaspor.api import LocalDateTimeField, Serializer, error_responses
from offices.models import PassportType
from offices.selectors import passport_type_states, type_state_message

from . import availability_cache
from .models import ReleaseMode
from .selectors import DayState
from .services.searches import record_availability_search

MAX_RANGE_DAYS = 62
DEFAULT_RANGE_DAYS = 14
# How far from today a range may start or end: wider than any release horizon.
MAX_DISTANCE_DAYS = 400


class OfficeAvailabilityApi(APIView):
    """Each day from `from` to `to` (inclusive, the office's dates; at most 62 days; by default
    14 days from today) with its online sessions, places free and when they open, and its
    walk-in sessions (state `walk_in` when the day has no online session). Times are
    in the office's zone (ISO 8601 with its offset). Read-only: booking decides on its own.
    Served from each day's pre-rendered JSON (docs/performance.md); every answer has an `ETag`,
    and `If-None-Match` with it answers 304 while nothing changed."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class FilterSerializer(Serializer):
        def get_fields(self):
            # `from` is a Python keyword, so the fields are declared here.
            return {"from": serializers.DateField(required=False), "to": serializers.DateField(required=False)}

        def __init__(self, *args, today: dt.date, **kwargs):
            super().__init__(*args, **kwargs)
            self.today = today

        def validate(self, attrs):
            limit = dt.timedelta(days=MAX_DISTANCE_DAYS)
            for name in ("from", "to"):
                if name in attrs and abs(attrs[name] - self.today) > limit:
                    raise serializers.ValidationError(
                        {name: _("Choose a date within %(days)s days of today.") % {"days": MAX_DISTANCE_DAYS}}
                    )
            date_from = attrs.get("from", self.today)
            date_to = attrs.get("to", date_from + dt.timedelta(days=DEFAULT_RANGE_DAYS - 1))
            if date_to < date_from:
                raise serializers.ValidationError({"to": _("The end date is before the start date.")})
            if (date_to - date_from).days >= MAX_RANGE_DAYS:
                raise serializers.ValidationError(
                    {"to": _("Ask for at most %(days)s days at once.") % {"days": MAX_RANGE_DAYS}}
                )
            return {"date_from": date_from, "date_to": date_to}

    class OutputSerializer(Serializer):
        class OfficeSerializer(Serializer):
            class PassportTypeSerializer(Serializer):
                passport_type = serializers.ChoiceField(choices=PassportType.choices)
                available = serializers.SerializerMethodField(
                    help_text="False when the office does not issue this type at all."
                )
                closed_from = serializers.DateField(
                    allow_null=True,
                    help_text="The office's blank books of this type are booked out from this day: bookings and "
                    "entries of this type for this day or later answer 409 `passport_type_unavailable`. Null while "
                    "they last.",
                )
                reason = serializers.ChoiceField(
                    choices=[("", "open"), ("not_issued", "not issued"), ("out_of_stock", "out of stock")],
                    help_text="Why the type is not bookable (from `closed_from` for `out_of_stock`); empty when open.",
                )
                message = serializers.SerializerMethodField(help_text="What to tell the applicant, translated.")

                class Meta:
                    ref_name = "AvailabilityPassportType"

                def get_available(self, state) -> bool:
                    return state.issued

                def get_message(self, state) -> str:
                    return type_state_message(state)

            code = serializers.CharField()
            name = serializers.CharField()
            timezone = serializers.CharField()
            timezone_label = serializers.CharField()
            passport_types = serializers.SerializerMethodField()

            class Meta:
                ref_name = "AvailabilityOffice"

            @extend_schema_field(PassportTypeSerializer(many=True))
            def get_passport_types(self, office):
                states = passport_type_states(office=office)
                return self.PassportTypeSerializer(states, many=True).data

        class DaySerializer(Serializer):
            class SlotSerializer(Serializer):
                id = serializers.IntegerField(source="slot_id")
                start = LocalDateTimeField(source="starts_at")
                end = LocalDateTimeField(source="ends_at")
                available = serializers.IntegerField()
                capacity = serializers.IntegerField()
                opens_at = LocalDateTimeField()
                mode = serializers.ChoiceField(
                    choices=ReleaseMode.choices,
                    help_text="`draw`: the places go to a release's draw among entries (`offices/{code}/releases/`); "
                    "`opens_at` is then when what the draw left opens to everyone.",
                )

                class Meta:
                    ref_name = "AvailabilitySlot"

            class WalkInSerializer(Serializer):
                start = LocalDateTimeField(source="starts_at")
                end = LocalDateTimeField(source="ends_at")
                available = serializers.IntegerField()
                capacity = serializers.IntegerField()

                class Meta:
                    ref_name = "AvailabilityWalkIn"

            date = serializers.DateField()
            state = serializers.ChoiceField(choices=DayState.choices)
            is_weekend = serializers.BooleanField()
            is_holiday = serializers.BooleanField()
            holiday_name = serializers.CharField()
            slots = SlotSerializer(many=True, source="sessions")
            walk_in = WalkInSerializer(
                many=True, help_text="Sessions for walk-ins without booking (registered at the office), not over yet."
            )

            class Meta:
                ref_name = "AvailabilityDay"

        office = OfficeSerializer()
        days = DaySerializer(many=True)

        class Meta:
            ref_name = "Availability"

    @extend_schema(
        operation_id="offices_availability",
        parameters=[
            OpenApiParameter("from", dt.date, description="First day (YYYY-MM-DD); default today."),
            OpenApiParameter("to", dt.date, description="Last day (YYYY-MM-DD); default 13 days after `from`."),
        ],
        responses={
            200: OutputSerializer,
            **error_responses(400, 404, 429),
        },
    )
    def get(self, request, code):
        asked = asked_range(request.query_params)

        def dates(office):
            today = timezone.now().astimezone(office.tzinfo).date()
            limit = dt.timedelta(days=MAX_DISTANCE_DAYS)
            if asked and all(abs(day - today) <= limit for day in asked):
                return asked  # what the FilterSerializer would accept as it is
            filters = self.FilterSerializer(data=request.query_params, today=today)
            filters.is_valid(raise_exception=True)
            return filters.validated_data["date_from"], filters.validated_data["date_to"]

        found = availability_cache.availability_json(
            code=code,
            asked=asked,
            dates=dates,
            render_office=self.render_office,
            render_day=self.render_day,
        )
        if found is None:
            raise Http404
        return availability_response(request, found)

    # The cached bytes are these serializers' output, exactly as a Response would render it.
    def render_office(self, office) -> bytes:
        return JSONRenderer().render(self.OutputSerializer.OfficeSerializer(office).data)

    def render_day(self, day) -> bytes:
        return JSONRenderer().render(self.OutputSerializer.DaySerializer(day).data)


def availability_response(request, found: availability_cache.Availability) -> HttpResponse:
    """The answer to an availability read (this view's, or the middleware's from the cache alone):
    the search counted, the bytes with their ETag, or 304 to a client that polls with it."""
    record_availability_search(
        office=found.office, date_from=found.date_from, date_to=found.date_to, found_free=found.any_free
    )
    if found.etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(found.json, content_type="application/json")
    response["ETag"] = found.etag
    return response


def asked_range(query) -> tuple[dt.date, dt.date] | None:
    """The range a request names in the plain YYYY-MM-DD form, in order and not too long: the
    cache then reads the office and the days at once. Anything else goes to the FilterSerializer."""
    try:
        asked = dt.date.fromisoformat(query["from"]), dt.date.fromisoformat(query["to"])
    except (KeyError, ValueError):
        return None
    return asked if 0 <= (asked[1] - asked[0]).days < MAX_RANGE_DAYS else None
