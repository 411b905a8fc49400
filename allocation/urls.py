from django.urls import path

from . import views, views_waiting

app_name = "allocation"
urlpatterns = [
    # Draws.
    path("draws/offices/<slug:code>/releases/", views.releases, name="releases"),
    path("draws/releases/<int:release_id>/enter/", views.enter, name="enter"),
    path("draws/entries/", views.my_entries, name="my_entries"),
    path("draws/entries/<int:entry_id>/withdraw/", views.withdraw, name="withdraw"),
    path("draws/staff/releases/<int:release_id>/", views.staff_release, name="staff_release"),
    # The waiting list and its offers.
    path("waiting/", views_waiting.my_waiting, name="my_waiting"),
    path("waiting/<slug:code>/join/", views_waiting.join, name="join"),
    path("waiting/<int:waiting_id>/withdraw/", views_waiting.withdraw, name="leave_waiting"),
    path("offers/<int:offer_id>/accept/", views_waiting.accept, name="accept"),
    path("offers/<int:offer_id>/decline/", views_waiting.decline, name="decline"),
]
