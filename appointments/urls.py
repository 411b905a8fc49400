from django.urls import path

from . import views

app_name = "appointments"
urlpatterns = [
    path("offices/", views.offices, name="offices"),
    path("offices/<slug:code>/", views.office_calendar, name="calendar"),
    path("offices/<slug:code>/<str:date>/", views.office_day, name="day"),
    path("book/<int:slot_id>/", views.book, name="book"),
    path("applications/", views.my_applications, name="my_applications"),
    path("applications/<str:booking_code>/", views.confirmation, name="confirmation"),
    path("applications/<str:booking_code>/cancel/", views.cancel, name="cancel"),
]
