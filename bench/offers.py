"""The waiting list's latency: from the commit that gives a place back to its offer.

    .venv/bin/python -m bench.offers [--cancellations 300] [--rate 5]

Starts its own Redis (port BENCH_OFFERS_REDIS_PORT, default 6391), recreates its own database
(BENCH_OFFERS_DATABASE_URL, default .../mpaspor_bench_offers), migrates it, starts a Celery worker
with its beat (so the 15 s sweeps run as in production, and no process polls), seeds one office
whose sessions are full and as many waiting households as there will be cancellations, then
cancels the booked applications one by one at `--rate` a second through the cancel service. For
each cancellation it takes the time its transaction committed (the service returned) and waits
for the offer the worker makes. Writes bench/offers.json and bench/OFFERS.md.
"""

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("BENCH_OFFERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mpaspor_bench_offers")
REDIS_PORT = int(os.environ.get("BENCH_OFFERS_REDIS_PORT", "6391"))
PLACES_PER_SESSION = 10
TARGET_P99_SECONDS = 60


def log(message):
    print(f"[offers {time.strftime('%H:%M:%S')}] {message}", flush=True)


def environment() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mpaspor.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
    }


def recreate_database():
    import psycopg2

    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    assert name.startswith("mpaspor_bench"), "the bench drops its database: give it its own"
    conn = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, password=url.password, dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def start(name, argv, env):
    OUT.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=open(OUT / f"offers-{name}.log", "wb"), stderr=subprocess.STDOUT
    )


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def seed(cancellations: int):
    """One office with full sessions three days ahead, and one waiting household per place that
    will be given back. Returns the ids of the booked applications to cancel, in order."""
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from allocation.services.waiting import join_waiting_list
    from appointments.models import Application, Status
    from appointments.nik import build_nik
    from appointments.services.booking import PersonBooking, new_application
    from appointments.services.people import ApplicantData
    from offices.models import Office, Region
    from quotas.models import Slot

    region = Region.objects.create(code="BENCH", name="Bench", province_code="35")
    office = Office.objects.create(code="kanim-bench", name="Kanim Bench", kind="kanim", region=region, city="Kediri")
    day = timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=3)
    sessions = -(-cancellations // PLACES_PER_SESSION)
    serial = iter(range(1, 10**6))

    def person(birth=dt.date(1990, 5, 17)):
        return ApplicantData(
            nik=build_nik(birth_date=birth, sex="M", serial=next(serial)),
            full_name="Budi Santoso",
            birth_date=birth,
            sex="M",
            phone="081234567890",
        )

    from accounts.models import User

    account = User.objects.create_user(email="booked@example.com", password=None)
    to_cancel = []
    for i in range(sessions):
        start_at = dt.datetime.combine(day, dt.time(8), tzinfo=office.tzinfo) + dt.timedelta(minutes=30 * i)
        slot = Slot.objects.create(
            office=office,
            date=day,
            starts_at=start_at,
            ends_at=start_at + dt.timedelta(minutes=30),
            capacity=PLACES_PER_SESSION,
            opens_at=timezone.now() - dt.timedelta(days=1),
        )
        with transaction.atomic():
            for _ in range(PLACES_PER_SESSION):
                application = new_application(
                    slot=slot,
                    applicant=person(),
                    passport_type="regular",
                    validity_years=5,
                    kind="new",
                    express=False,
                    status=Status.BOOKED,
                    account=account,
                )
                application.save()
                to_cancel.append(application.pk)
            Slot.objects.filter(pk=slot.pk).update(taken=F("taken") + PLACES_PER_SESSION)
    for i in range(cancellations):
        household = User.objects.create_user(email=f"waiting{i}@example.com", password=None)
        join_waiting_list(
            account=household,
            office_id=office.pk,
            date_from=day,
            date_to=day,
            people=[PersonBooking(applicant=person(), passport_type="regular", validity_years=5, kind="new")],
        )
    assert Application.objects.filter(status=Status.BOOKED).count() >= cancellations
    return to_cancel[:cancellations]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[max(int(-(-share * len(ordered) // 1)) - 1, 0)]


def measure(to_cancel, rate: float, timeout: float = 600.0) -> dict:
    """Cancel at `rate` a second; the latency of each is its offer's creation minus the commit."""
    from django.utils import timezone

    from allocation.models import Offer
    from appointments.models import Application
    from appointments.services.lifecycle import cancel_application

    committed = {}  # slot id -> list of commit times, in order
    interval = 1.0 / rate
    began = time.monotonic()
    for n, application_id in enumerate(to_cancel):
        time.sleep(max(0.0, began + n * interval - time.monotonic()))
        slot_id = Application.objects.values_list("slot_id", flat=True).get(pk=application_id)
        cancel_application(application_id=application_id, reason="bench")
        committed.setdefault(slot_id, []).append(timezone.now())
    log(f"{len(to_cancel)} cancelled in {time.monotonic() - began:.1f} s; waiting for the offers")
    deadline = time.monotonic() + timeout
    while Offer.objects.count() < len(to_cancel) and time.monotonic() < deadline:
        time.sleep(0.5)
    latencies, signal_to_offer = [], []
    for slot_id, times in committed.items():
        offers = list(Offer.objects.filter(slot_id=slot_id).order_by("offered_at", "pk"))
        for commit_at, offer in zip(times, offers, strict=False):
            latencies.append((offer.offered_at - commit_at).total_seconds())
            if offer.given_back_at:
                signal_to_offer.append((offer.offered_at - offer.given_back_at).total_seconds())
    made = Offer.objects.count()
    return {
        "cancellations": len(to_cancel),
        "offers_made": made,
        "missing": len(to_cancel) - made,
        "rate_per_second": rate,
        "p50_seconds": round(percentile(latencies, 0.50), 3) if latencies else None,
        "p99_seconds": round(percentile(latencies, 0.99), 3) if latencies else None,
        "max_seconds": round(max(latencies), 3) if latencies else None,
        "signal_to_offer_p99_seconds": round(percentile(signal_to_offer, 0.99), 3) if signal_to_offer else None,
        "offers_by_sweep": sum(1 for o in Offer.objects.filter(given_back_at__isnull=True)),
    }


def write_report(result: dict):
    (ROOT / "bench" / "offers.json").write_text(json.dumps(result, indent=2) + "\n")
    verdict = "met" if result["p99_seconds"] is not None and result["p99_seconds"] <= TARGET_P99_SECONDS else "NOT met"
    lines = [
        "# Waiting list: from a place given back to its offer",
        "",
        f"Run {result['finished_at']} on {result['cpus']} CPUs (shared). `python -m bench.offers` "
        f"(see its docstring); a Celery worker with its beat (sweeps every 15 s) on its own Redis and database.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| cancellations (each gives one place back while households wait) | {result['cancellations']} |",
        f"| pace | {result['rate_per_second']} a second |",
        f"| offers made | {result['offers_made']} (missing {result['missing']}) |",
        f"| commit to offer, p50 | {result['p50_seconds']} s |",
        f"| commit to offer, p99 | {result['p99_seconds']} s |",
        f"| commit to offer, max | {result['max_seconds']} s |",
        f"| signal to offer, p99 (the offer's own `given_back_at`) | {result['signal_to_offer_p99_seconds']} s |",
        f"| offers made by the sweep instead of the task | {result['offers_by_sweep']} |",
        "",
        f"Target: p99 at most {TARGET_P99_SECONDS} s with the worker running: **{verdict}**.",
        "",
    ]
    (ROOT / "bench" / "OFFERS.md").write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cancellations", type=int, default=300)
    parser.add_argument("--rate", type=float, default=2.0)
    args = parser.parse_args()
    env = environment()
    os.environ.update(env)
    redis = start("redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", ""], env)
    worker = None
    try:
        recreate_database()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        import django

        django.setup()
        log("seeding (not timed)")
        to_cancel = seed(args.cancellations)
        worker = start(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "mpaspor",
                "worker",
                "--beat",
                "-Q",
                "urgent,default,bulk",  # every queue (settings.CELERY_QUEUE_NAMES)
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            env,
        )
        time.sleep(8)  # the worker and its beat start
        result = measure(to_cancel, rate=args.rate)
        result["finished_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        result["cpus"] = os.cpu_count()
        write_report(result)
        log(json.dumps(result))
    finally:
        if worker:
            stop(worker)
        stop(redis)


if __name__ == "__main__":
    main()
