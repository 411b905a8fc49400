from django.urls import path

from . import views

app_name = "appointments"
urlpatterns = [
    path("applications/", views.my_applications, name="my_applications"),
]
