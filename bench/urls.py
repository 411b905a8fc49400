"""The floors' routes, resolved only by bench/wsgi.py's bare handler (never by the portal)."""

from django.urls import path

from bench.baseline import bare_claim, bare_enter, bare_read

urlpatterns = [
    path("bench/claim/", bare_claim, name="bench_claim"),
    path("bench/read/", bare_read, name="bench_read"),
    path("bench/enter/", bare_enter, name="bench_enter"),
]
