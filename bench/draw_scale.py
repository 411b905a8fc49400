"""The draw at scale: 100,000 entries (1-3 people each, 3 ranked choices) on 10,000 places in
100 sessions, drawn and applied by `allocation.services.draws.run_draw` on PostgreSQL, with its
progress. Writes bench/draw-results.json and bench/DRAW.md. Run: `make bench-draw` (drops and recreates its own
database, BENCH_DRAW_DATABASE_URL, default .../mpaspor_bench_h16).

The entries are written in bulk (entering one by one is the API's cost, not the draw's); the
close, the plan and the application are the portal's own code, as `manage.py draw` runs them."""

import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get("BENCH_DRAW_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mpaspor_bench_h16")
ENTRIES = int(os.environ.get("BENCH_DRAW_ENTRIES", "100000"))
SESSIONS, PER_SESSION = 100, 100
NOTES = "## What changed and what it gave"


def recreate_database() -> None:
    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    assert "bench" in name.split("_"), "the bench drops its database: give it its own (a name with _bench)"
    admin = url._replace(path="/postgres").geturl()
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def main() -> None:
    recreate_database()
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL="",  # local-memory cache; this bench measures the database's work
        CELERY_BROKER_URL="memory://",
        DJANGO_SETTINGS_MODULE="mpaspor.settings",
        DJANGO_DEBUG="0",  # as in production: no query log
        DJANGO_SECRET_KEY="bench-draw-scale-only-" + "x" * 40,
        DJANGO_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from accounts.models import User
    from allocation.draw import new_seed, sha256_hex
    from allocation.models import Entry, Release, Seeker, Waiting
    from allocation.services.draws import apply_draw, close_window, plan_draw
    from appointments.nik import build_nik
    from offices.models import Office, Region
    from quotas.models import ReleaseMode, Slot

    call_command("migrate", verbosity=0)
    rng = random.Random(16)
    now = timezone.now()
    region = Region.objects.create(code="JATIM", name="Jawa Timur", province_code="35")
    office = Office.objects.create(code="kanim-bench", name="Kanim Bench", region=region, city="Surabaya")
    day0 = (now + dt.timedelta(days=7)).astimezone(office.tzinfo).date()
    slots = Slot.objects.bulk_create(
        Slot(
            office=office,
            date=day0 + dt.timedelta(days=i // 5),
            starts_at=dt.datetime.combine(day0 + dt.timedelta(days=i // 5), dt.time(8 + i % 5), tzinfo=office.tzinfo),
            ends_at=dt.datetime.combine(day0 + dt.timedelta(days=i // 5), dt.time(9 + i % 5), tzinfo=office.tzinfo),
            capacity=PER_SESSION,
            opens_at=now + dt.timedelta(days=30),
            mode=ReleaseMode.DRAW,
        )
        for i in range(SESSIONS)
    )
    seed = new_seed()
    release = Release.objects.create(
        office=office,
        entries_open_at=now - dt.timedelta(days=3),
        entries_close_at=now + dt.timedelta(hours=1),
        sessions_from=slots[0].date,
        sessions_to=slots[-1].date,
        opens_at=now + dt.timedelta(days=30),
        seed=seed,
        seed_sha256=sha256_hex(seed),
    )
    started = time.perf_counter()
    accounts = User.objects.bulk_create(
        User(email=f"bench{i}@example.com", full_name="Bench", password="!") for i in range(ENTRIES)
    )
    entries = Entry.objects.bulk_create(
        Entry(release=release, account=a, choices=rng.sample([s.pk for s in slots], 3)) for a in accounts
    )
    serial = 0
    people = []
    for entry in entries:
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            serial += 1
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=serial // 9000)
            people.append(
                Seeker(
                    entry=entry,
                    nik=build_nik(birth_date=birth, sex="M", serial=serial % 9000 + 1),
                    full_name="Bench Person",
                    birth_date=birth,
                    sex="M",
                    passport_type="regular",
                    validity_years=5,
                    kind="new",
                )
            )
    Seeker.objects.bulk_create(people, batch_size=5000)
    loaded = time.perf_counter() - started
    # Entries come in over days, and autovacuum keeps the statistics of the tables they fill (this
    # bench's server may run without it): without them the planner scans every person for each
    # batch's people. The tables the draw fills keep none, as on a new install: analyzed empty,
    # the booking's reads would scan the applications the draw has just written, again and again.
    with connection.cursor() as cursor:
        for model in (User, Entry, Seeker):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    print(f"{ENTRIES} entries, {len(people)} people written in {loaded:.1f} s", flush=True)

    timings = {}
    t = time.perf_counter()
    close_window(release_id=release.pk, now=now, close_now=True)
    timings["close"] = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    release = plan_draw(release_id=release.pk, now=now)
    timings["plan"] = time.perf_counter() - t
    timings["plan_cpu"] = time.process_time() - cpu
    winners = sum(1 for slot in release.plan.values() if slot is not None)
    print(f"planned: {winners} winning entries", flush=True)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def database_cpu() -> float:
        """CPU seconds of this connection's PostgreSQL backend (same machine): its share of the work."""
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    printed, statements = [0], {"all": 0}

    def count(execute, sql, params, many, context):
        statements["all"] += 1
        return execute(sql, params, many, context)

    def progress(done: int, total: int) -> None:
        if done <= winners:
            timings["winners"] = time.perf_counter() - t
            timings["winners_cpu"] = time.process_time() - cpu
            timings["winners_db_cpu"] = database_cpu() - db_cpu
            statements["winners"] = statements["all"]
        if done // 10000 > printed[0] or done == total:
            printed[0] = done // 10000
            print(f"  applied {done}/{total} entries ({time.perf_counter() - t:.1f} s)", flush=True)

    t, cpu, db_cpu = time.perf_counter(), time.process_time(), database_cpu()
    with connection.execute_wrapper(count):
        apply_draw(release_id=release.pk, now=now, progress=progress)
    timings["apply"] = time.perf_counter() - t
    timings["apply_cpu"] = time.process_time() - cpu
    timings["apply_db_cpu"] = database_cpu() - db_cpu
    statuses = dict(Entry.objects.filter(release=release).values_list("status").annotate(n=Count("pk")))
    waiting = Waiting.objects.filter(office=office).count()
    taken = sum(Slot.objects.filter(office=office).values_list("taken", flat=True))
    load = os.getloadavg()[0]
    results = {
        "entries": ENTRIES,
        "people": len(people),
        "places": SESSIONS * PER_SESSION,
        "winning_entries": winners,
        "places_booked": taken,
        "statuses": statuses,
        "losers_waiting": waiting,
        "batch": settings.DRAW_APPLY_BATCH,
        "seconds": {name: round(value, 2) for name, value in timings.items()},
        "statements": {"winners": statements["winners"], "losers": statements["all"] - statements["winners"]},
        "load_average": round(load, 1),
        "cores": os.cpu_count(),
    }
    (ROOT / "bench" / "draw-results.json").write_text(json.dumps(results, indent=2) + "\n")
    places, lost, losing = SESSIONS * PER_SESSION, statuses.get("lost", 0), timings["apply"] - timings["winners"]
    cpu = {
        "winners": (timings["winners_cpu"], timings["winners_db_cpu"]),
        "losers": (timings["apply_cpu"] - timings["winners_cpu"], timings["apply_db_cpu"] - timings["winners_db_cpu"]),
        "apply": (timings["apply_cpu"], timings["apply_db_cpu"]),
    }
    row = {name: f"{app:.1f} | {db:.1f} | {app + db:.1f}" for name, (app, db) in cpu.items()}
    report = f"""# The draw on PostgreSQL, {ENTRIES:,} entries ({len(people):,} people) on {places:,} places

Written by `make bench-draw` (bench/draw_scale.py; figures in bench/draw-results.json).

| step | seconds | CPU: applying process | CPU: its PostgreSQL backend | CPU: both |
|---|---|---|---|---|
| close (snapshot and its hash) | {timings["close"]:.1f} | | | |
| plan (the pure allocation) | {timings["plan"]:.1f} | {timings["plan_cpu"]:.1f} | | |
| application: {winners:,} winning entries booked ({taken:,} places), {results["batch"]} a transaction \
| {timings["winners"]:.1f} | {row["winners"]} |
| application: {lost:,} lost entries marked and told, {waiting:,} households put on the waiting list, \
{results["batch"] * 10} a transaction | {losing:.1f} | {row["losers"]} |
| application, in all (limit: 120) | {timings["apply"]:.1f} | {row["apply"]} |

Load average {load:.1f} on {os.cpu_count()} cores when it ended. On a shared machine the wall times
are noisy; the CPU times are steadier. The application is one process talking to one PostgreSQL
backend, one statement at a time, so on a quiet machine its wall time is about the sum of the two
CPU times plus the commits' flushes.

Statements sent to PostgreSQL: {statements["winners"]:,} for the winners \
({statements["winners"] / max(winners, 1):.1f} a winning entry), {results["statements"]["losers"]:,} for the \
losers ({results["statements"]["losers"] / max(lost, 1) * 1000:.1f} per thousand lost entries).
"""
    print(report)
    # What was changed and measured, written by hand below NOTES, is kept from one run to the next.
    path = ROOT / "bench" / "DRAW.md"
    previous = path.read_text() if path.exists() else ""
    path.write_text(report + (previous[previous.index(NOTES) - 1 :] if NOTES in previous else ""))


if __name__ == "__main__":
    main()
