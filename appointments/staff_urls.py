from django.urls import path

from . import staff_views

app_name = "staff"
urlpatterns = [
    path("counter/", staff_views.counter, name="counter"),
    path("counter/office/", staff_views.choose_office, name="choose_office"),
    path("counter/check-in/", staff_views.check_in, name="check_in"),
    path("counter/walk-in/", staff_views.walk_in, name="walk_in"),
]
