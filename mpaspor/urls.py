from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from appointments import views as appointment_views


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever a page links; the icon is a static file (its
    hashed name in production, so it is looked up per request, not at import)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.ico")


urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", FaviconView.as_view()),
    path("admin/", admin.site.urls),
    path("api/v1/", include("mpaspor.api_urls")),
    path("", appointment_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("staff/", include("appointments.staff_urls")),
    path("reports/", include("reports.urls")),
    path("planning/", include("planning.urls")),
    path("", include("allocation.urls")),
    path("", include("appointments.urls")),
]
