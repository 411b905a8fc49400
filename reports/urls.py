from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("capacity/", views.capacity, name="capacity"),
    path("refresh/", views.refresh_today, name="refresh_today"),
]
