"""/api/v1/: the mobile app's contract (DESIGN.md "API contract v1")."""

from django.urls import path

urlpatterns: list = []
