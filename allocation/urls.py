from django.urls import path

from . import views

app_name = "allocation"
urlpatterns = [
    path("offices/<slug:code>/releases/", views.releases, name="releases"),
    path("releases/<int:release_id>/enter/", views.enter, name="enter"),
    path("entries/", views.my_entries, name="my_entries"),
    path("entries/<int:entry_id>/withdraw/", views.withdraw, name="withdraw"),
    path("staff/releases/<int:release_id>/", views.staff_release, name="staff_release"),
]
