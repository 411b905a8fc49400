"""/api/v1/: the mobile app's contract (DESIGN.md "API contract v1")."""

from django.urls import path

from appointments.api import PaymentNotifyApi

urlpatterns: list = [
    path("payments/notify/", PaymentNotifyApi.as_view(), name="api-payments-notify"),
]
