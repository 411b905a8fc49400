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
