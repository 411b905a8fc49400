"""The baseline's one route, resolved only by bench/wsgi.py's bare handler (never by the portal)."""

from django.urls import path

from bench.baseline import bare_claim

urlpatterns = [path("bench/claim/", bare_claim, name="bench_claim")]
