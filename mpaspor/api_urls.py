"""/api/v1/: the mobile app's contract; change it only in ways the app already understands."""

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts import api as accounts_api
from allocation import api as allocation_api
from allocation import api_waiting
from appointments import api as appointments_api
from appointments import api_disputes
from offices import api as offices_api
from quotas import api as quotas_api


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI from our own static files (drf-spectacular-sidecar). The split view fetches its
    start-up script from this URL instead of inlining it, so the page works under the CSP."""

    template_name = "api/swagger_ui.html"


@extend_schema(exclude=True)
class ApiNotFound(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def dispatch(self, request, *args, **kwargs):
        self.http_method_names = [request.method.lower()]
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        raise NotFound()

    post = put = patch = delete = head = options = trace = get


urlpatterns = [
    path("auth/register/", accounts_api.RegisterApi.as_view(), name="api-register"),
    path("auth/login/", accounts_api.LoginApi.as_view(), name="api-login"),
    path("auth/logout/", accounts_api.LogoutApi.as_view(), name="api-logout"),
    path("auth/verify-email/", accounts_api.VerifyEmailApi.as_view(), name="api-verify-email"),
    path("auth/verify-email/resend/", accounts_api.ResendVerificationCodeApi.as_view(), name="api-verify-email-resend"),
    path("offices/", offices_api.OfficeListApi.as_view(), name="api-offices"),
    path("offices/<slug:code>/availability/", quotas_api.OfficeAvailabilityApi.as_view(), name="api-availability"),
    path("applications/", appointments_api.ApplicationCollectionApi.as_view(), name="api-applications"),
    path("applications/<slug:booking_code>/", appointments_api.ApplicationDetailApi.as_view(), name="api-application"),
    path(
        "applications/<slug:booking_code>/cancel/",
        appointments_api.ApplicationCancelApi.as_view(),
        name="api-application-cancel",
    ),
    path(
        "applications/<slug:booking_code>/reschedule/",
        appointments_api.ApplicationRescheduleApi.as_view(),
        name="api-application-reschedule",
    ),
    path(
        "applications/<slug:booking_code>/earlier/",
        appointments_api.ApplicationEarlierApi.as_view(),
        name="api-application-earlier",
    ),
    path(
        "applications/<slug:booking_code>/earlier/stop/",
        appointments_api.ApplicationEarlierStopApi.as_view(),
        name="api-application-earlier-stop",
    ),
    path("offices/<slug:code>/releases/", allocation_api.ReleaseListApi.as_view(), name="api-releases"),
    path("releases/<int:release_id>/entries/", allocation_api.EntryCreateApi.as_view(), name="api-release-entries"),
    path("releases/<int:release_id>/draw/", allocation_api.DrawApi.as_view(), name="api-release-draw"),
    path("entries/", allocation_api.EntryListApi.as_view(), name="api-entries"),
    path("entries/<int:entry_id>/", allocation_api.EntryDetailApi.as_view(), name="api-entry"),
    path("entries/<int:entry_id>/withdraw/", allocation_api.EntryWithdrawApi.as_view(), name="api-entry-withdraw"),
    path(
        "applications/<slug:booking_code>/documents/",
        appointments_api.DocumentCollectionApi.as_view(),
        name="api-application-documents",
    ),
    path(
        "applications/<slug:booking_code>/documents/<int:document_id>/",
        appointments_api.DocumentFileApi.as_view(),
        name="api-application-document",
    ),
    path("nik-disputes/", api_disputes.NikDisputeCollectionApi.as_view(), name="api-nik-disputes"),
    path("payments/notify/", appointments_api.PaymentNotifyApi.as_view(), name="api-payments-notify"),
    # The waiting list and its offers.
    path("waitlist/", api_waiting.WaitingCollectionApi.as_view(), name="api-waitlist"),
    path("waitlist/<int:waiting_id>/withdraw/", api_waiting.WaitingWithdrawApi.as_view(), name="api-waitlist-withdraw"),
    path("offers/", api_waiting.OfferListApi.as_view(), name="api-offers"),
    path("offers/<int:offer_id>/accept/", api_waiting.OfferAcceptApi.as_view(), name="api-offer-accept"),
    path("offers/<int:offer_id>/decline/", api_waiting.OfferDeclineApi.as_view(), name="api-offer-decline"),
    path("offices/<slug:code>/nearby/", api_waiting.NearbyOfficesApi.as_view(), name="api-offices-nearby"),
    path("status/", offices_api.StatusApi.as_view(), name="api-status"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/v1/ answers 404 in the error shape, not Django's HTML page.
    # `[\s\S]`, not `.`: a path with a newline (%0A) in it is also answered here.
    re_path(r"^[\s\S]*$", ApiNotFound.as_view()),  # keep last: it matches every path
]
