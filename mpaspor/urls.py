from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from appointments import views as appointment_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("mpaspor.api_urls")),
    path("", appointment_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("staff/", include("appointments.staff_urls")),
    path("reports/", include("reports.urls")),
    path("", include("appointments.urls")),
]

if settings.BENCH_BASELINE:  # `make bench` only: the bare claim the booking path is measured against
    from bench.baseline import bare_claim

    urlpatterns.insert(0, path("bench/claim/", bare_claim, name="bench_claim"))
