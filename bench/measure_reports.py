#!/usr/bin/env python
"""Time the reports' aggregate job and dashboard on the database bench/generate_reports_data.py filled.

DATABASE_URL=postgres://postgres@127.0.0.1:5432/mp_reports_bench .venv/bin/python bench/measure_reports.py
"""

import datetime as dt
import functools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mpaspor.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-0123456789")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("REDIS_URL", "")


def timed(fn, repeat=1):
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def queries_of(page, connection) -> int:
    """How many queries one answer of the page runs."""
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = page()
    assert response.status_code == 200, response.status_code
    return len(queries)


def main():
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from appointments.models import Application
    from offices.models import Office, StaffMembership
    from quotas.models import Slot
    from reports.models import OfficeDay
    from reports.services import refresh_office_days, refresh_recent_office_days

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    applications = Application.objects.count()
    first, last = Slot.objects.order_by("date").values_list("date", flat=True)[:1][0], Slot.objects.latest("date").date
    print(f"applications: {applications:,}; sessions: {Slot.objects.count():,}; dates {first} .. {last}")

    OfficeDay.objects.all().delete()
    rows, full = timed(lambda: refresh_office_days(date_from=first, date_to=last))
    print(f"aggregate, whole year, first run: {full:.2f}s ({rows} office-days)")
    _, again = timed(lambda: refresh_office_days(date_from=first, date_to=last))
    print(f"aggregate, whole year, re-run (upsert): {again:.2f}s")
    _, nightly = timed(lambda: refresh_recent_office_days(days_back=7), repeat=3)
    print(f"nightly job (last 7 days + today): {nightly:.2f}s")

    user, _ = User.objects.get_or_create(
        email="kanwil-bench@example.com", defaults={"full_name": "Kanwil", "is_staff": True}
    )
    StaffMembership.objects.get_or_create(user=user, role="regional", region=Office.objects.first().region)
    client = Client()
    client.force_login(user)
    today = dt.date.today()
    month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")  # the last full month
    for label, params in [
        ("dashboard, 12 offices", {"month": month}),
        ("dashboard, one office", {"month": month, "office": "kanim-surabaya"}),
        ("XLSX export, 12 offices", {"month": month, "format": "xlsx"}),
        ("CSV export, 12 offices", {"month": month, "format": "csv"}),
    ]:
        page = functools.partial(client.get, "/reports/", params)
        page()  # warm
        queries = queries_of(page, connection)
        _, seconds = timed(page, repeat=5)
        print(f"{label}: {seconds * 1000:.0f} ms median of 5, {queries} queries")


if __name__ == "__main__":
    main()
