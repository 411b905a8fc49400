"""API: an office's bookable days and sessions."""

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from mpaspor.api import LocalDateTimeField, Serializer, error_responses
from offices.models import Office

from .models import ReleaseMode
from .selectors import DayState, office_availability
from .services.searches import record_availability_search

MAX_RANGE_DAYS = 62
DEFAULT_RANGE_DAYS = 14
# How far from today a range may start or end: wider than any release horizon.
MAX_DISTANCE_DAYS = 400


class OfficeAvailabilityApi(APIView):
    """Each day from `from` to `to` (inclusive, the office's dates; at most 62 days; by default
    14 days from today) with its online sessions, places free and when they open, and its
    walk-in sessions (state `walk_in` when the day has no online session). Times are
    in the office's zone (ISO 8601 with its offset). Read-only: booking decides on its own."""

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
            code = serializers.CharField()
            name = serializers.CharField()
            timezone = serializers.CharField()
            timezone_label = serializers.CharField()

            class Meta:
                ref_name = "AvailabilityOffice"

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
        responses={200: OutputSerializer, **error_responses(400, 404, 429)},
    )
    def get(self, request, code):
        office = get_object_or_404(Office, code=code, is_active=True)
        today = timezone.now().astimezone(office.tzinfo).date()
        filters = self.FilterSerializer(data=request.query_params, today=today)
        filters.is_valid(raise_exception=True)
        days = office_availability(office=office, **filters.validated_data)
        record_availability_search(
            office=office,
            date_from=filters.validated_data["date_from"],
            date_to=filters.validated_data["date_to"],
            found_free=any(day.state == DayState.FREE for day in days),
        )
        return Response(self.OutputSerializer({"office": office, "days": days}).data)
