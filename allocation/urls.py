from django.urls import path

from . import views_waiting

app_name = "allocation"
urlpatterns = [
    # The waiting list and its offers.
    path("waiting/", views_waiting.my_waiting, name="my_waiting"),
    path("waiting/<slug:code>/join/", views_waiting.join, name="join"),
    path("waiting/<int:waiting_id>/withdraw/", views_waiting.withdraw, name="withdraw"),
    path("offers/<int:offer_id>/accept/", views_waiting.accept, name="accept"),
    path("offers/<int:offer_id>/decline/", views_waiting.decline, name="decline"),
]
