"""API: the offices an applicant can book at, and the incidents going on or announced."""

from django.utils import translation
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from mpaspor.api import RegexStringField, Serializer, error_responses

from .incidents import current_and_announced
from .models import Incident, Office, PassportType
from .selectors import bookable_offices, issued_types


class OfficeListApi(APIView):
    """Active offices, optionally of one region (Kanwil) by its code."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class FilterSerializer(Serializer):
        # A pattern, so the schema says which strings are codes (no control characters, no NUL,
        # which PostgreSQL cannot even compare) and the API refuses the others with 400.
        region = RegexStringField(
            r"^[A-Za-z0-9_-]+$",
            max_length=10,
            required=False,
            allow_blank=True,
            help_text="A region's code, e.g. `JATIM`.",
        )
        passport_type = serializers.ChoiceField(
            choices=PassportType.choices,
            required=False,
            allow_blank=True,
            help_text="Only the offices that issue this passport type.",
        )

    class OutputSerializer(Serializer):
        class RegionSerializer(Serializer):
            code = serializers.CharField()
            name = serializers.CharField()

            class Meta:
                ref_name = "OfficeRegion"

        code = serializers.CharField()
        name = serializers.CharField()
        kind = serializers.ChoiceField(choices=Office.Kind.choices)
        city = serializers.CharField()
        region = RegionSerializer()
        timezone = serializers.CharField(help_text="IANA zone: Asia/Jakarta, Asia/Makassar or Asia/Jayapura.")
        timezone_label = serializers.CharField(help_text="WIB, WITA or WIT.")
        passport_types = serializers.SerializerMethodField(
            help_text="The passport types the office issues (`regular`, `electronic`). Whether their blank books "
            "last to a date: `offices/{code}/availability/`."
        )

        class Meta:
            ref_name = "Office"

        def get_passport_types(self, office) -> list[str]:
            return issued_types(office)

    @extend_schema(
        operation_id="offices_list",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **error_responses(400, 429)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        offices = bookable_offices(
            region_code=filters.validated_data.get("region"), passport_type=filters.validated_data.get("passport_type")
        )
        return Response(self.OutputSerializer(offices, many=True).data)


class StatusApi(APIView):
    """Incidents going on or announced (the portal or the payment system down, offices closed),
    with their message in the request's language (`Accept-Language`: Indonesian unless English)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class OutputSerializer(Serializer):
        class IncidentSerializer(Serializer):
            class ScopeSerializer(Serializer):
                kind = serializers.ChoiceField(choices=Incident.Scope.choices)
                region = serializers.CharField(allow_null=True, help_text="The region's code (a region's incident).")
                office = serializers.CharField(allow_null=True, help_text="The office's code (one office's incident).")

                class Meta:
                    ref_name = "IncidentScope"

            id = serializers.IntegerField()
            kind = serializers.ChoiceField(choices=Incident.Kind.choices)
            scope = ScopeSerializer()
            starts_at = serializers.DateTimeField()
            ends_at = serializers.DateTimeField(allow_null=True, help_text="null while the end is not known.")
            message = serializers.CharField()

            class Meta:
                ref_name = "Incident"

        incidents = IncidentSerializer(many=True)

        class Meta:
            ref_name = "Status"

    @extend_schema(operation_id="status", responses={200: OutputSerializer, **error_responses(429)})
    def get(self, request):
        language = translation.get_language() or ""
        incidents = [
            {
                "id": incident.pk,
                "kind": incident.kind,
                "scope": {
                    "kind": incident.scope,
                    "region": incident.region.code if incident.region else None,
                    "office": incident.office.code if incident.office else None,
                },
                "starts_at": incident.starts_at,
                "ends_at": incident.ends_at,
                "message": incident.message(language),
            }
            for incident in current_and_announced()
        ]
        return Response(self.OutputSerializer({"incidents": incidents}).data)
