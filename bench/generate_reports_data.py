#!/usr/bin/env python
"""Generate a year of passport appointments for the reports benchmark.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mp_reports_bench \\
        .venv/bin/python bench/generate_reports_data.py --applications 1000000

Creates the database if missing, migrates it, empties the tables it fills, then writes 12
Jawa Timur offices, their sessions for a year (weekdays; Saturdays at some offices) and
the applications with PostgreSQL COPY. Busy offices sell out within minutes of a release,
quiet ones never do; past applications are collected, no-shows, expired, cancelled;
future ones booked or awaiting payment. Availability-search tallies come with it.
It refuses to touch a database whose name does not contain "bench".
"""

import argparse
import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mpaspor.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

OFFICES = [
    # code, name, city, online places a weekday, priority places, counters, staff, Saturday service, demand
    ("kanim-surabaya", "Kantor Imigrasi Surabaya", "Surabaya", 200, 30, 12, 60, True, 1.35),
    ("kanim-tanjung-perak", "Kantor Imigrasi Tanjung Perak", "Surabaya", 180, 25, 11, 55, True, 1.3),
    ("kanim-malang", "Kantor Imigrasi Malang", "Malang", 150, 20, 9, 45, False, 1.2),
    ("kanim-jember", "Kantor Imigrasi Jember", "Jember", 120, 15, 7, 35, False, 1.0),
    ("kanim-kediri", "Kantor Imigrasi Kediri", "Kediri", 100, 15, 6, 30, True, 1.1),
    ("kanim-blitar", "Kantor Imigrasi Blitar", "Blitar", 80, 10, 5, 24, False, 0.8),
    ("kanim-madiun", "Kantor Imigrasi Madiun", "Madiun", 90, 12, 5, 26, False, 0.9),
    ("kanim-ponorogo", "Kantor Imigrasi Ponorogo", "Ponorogo", 70, 10, 4, 20, False, 0.7),
    ("kanim-pamekasan", "Kantor Imigrasi Pamekasan", "Pamekasan", 60, 10, 4, 18, False, 0.6),
    ("ulp-sidoarjo", "ULP Sidoarjo", "Sidoarjo", 100, 10, 6, 20, True, 1.25),
    ("ukk-bojonegoro", "UKK Bojonegoro", "Bojonegoro", 50, 5, 3, 10, False, 0.9),
    ("mpp-gresik", "MPP Gresik", "Gresik", 40, 5, 2, 8, True, 1.15),
]
WIB = ZoneInfo("Asia/Jakarta")
COLUMNS = (
    "booking_code",
    "nik",
    "full_name",
    "birth_date",
    "sex",
    "phone",
    "passport_type",
    "validity_years",
    "kind",
    "express",
    "priority_group",
    "walk_in",
    "status",
    "amount",
    "billing_code",
    "payment_due_at",
    "paid_at",
    "reschedule_count",
    "queue_number",
    "checked_in_at",
    "language",
    "created_at",
    "updated_at",
    "slot_id",
)
BLANK = '""'  # an empty string; an unquoted empty field is NULL
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def code(n: int) -> str:
    chars = []
    for _ in range(10):
        n, r = divmod(n, 32)
        chars.append(ALPHABET[r])
    return "".join(chars)


def ensure_database(url: str) -> None:
    import environ
    import psycopg2

    db = environ.Env.db_url_config(url)
    if "bench" not in db["NAME"]:
        sys.exit(f"Refusing to fill {db['NAME']!r}: use a database whose name contains 'bench'.")
    conn = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{db["NAME"]}"')
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="days of sessions, ending 30 days after today")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from offices.models import Office, Region
    from quotas.models import SearchTally, Slot

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE appointments_applicationevent, appointments_payment, appointments_notification, "
            "appointments_application, quotas_searchtally, reports_officeday, quotas_slot RESTART IDENTITY CASCADE"
        )
    with transaction.atomic():
        region, _ = Region.objects.get_or_create(code="JATIM", defaults={"name": "Jawa Timur", "province_code": "35"})
        offices = []
        for code_, name, city, _on, _pr, counters, staff, _sat, _demand in OFFICES:
            office, _ = Office.objects.update_or_create(
                code=code_,
                defaults=dict(
                    name=name,
                    city=city,
                    region=region,
                    kind=code_.split("-")[0],
                    timezone="Asia/Jakarta",
                    counter_count=counters,
                    staff_count=staff,
                ),
            )
            offices.append(office)

    today = dt.datetime.now(WIB).date()
    first_day = today + dt.timedelta(days=30 - args.days)
    now = dt.datetime.now(dt.UTC)

    # Sessions: weekdays 08:00 and 13:00 online plus a priority session; Saturdays (where
    # the office serves) one online session. Capacities are scaled so that the plan below
    # comes out near the wanted volume; the last few applications are then added or removed
    # at random sessions.
    demand_of = {office.pk: o[8] for office, o in zip(offices, OFFICES, strict=True)}

    def build(scale: float, seed: int):
        plan_rng = random.Random(seed)
        slots, plan = [], []  # plan: [slot, applications that kept their place, that gave it back]
        for office, (_c, _n, _ci, online, priority, _co, _st, saturday, _d) in zip(offices, OFFICES, strict=True):
            for n in range(args.days):
                day = first_day + dt.timedelta(days=n)
                release = dt.datetime.combine(day - dt.timedelta(days=14), dt.time(9), tzinfo=WIB)
                sessions = []
                if day.weekday() < 5:
                    half = max(round(online * scale / 2), 1)
                    sessions = [
                        (8, half, "online"),
                        (13, half, "online"),
                        (8, max(round(priority * scale), 1), "priority"),
                    ]
                elif day.weekday() == 5 and saturday:
                    sessions = [(8, max(round(online * scale / 2), 1), "online")]
                for hour, capacity, pool in sessions:
                    starts = dt.datetime.combine(day, dt.time(hour), tzinfo=WIB)
                    slot = Slot(
                        office=office,
                        date=day,
                        starts_at=starts,
                        ends_at=starts + dt.timedelta(hours=4),
                        pool=pool,
                        capacity=capacity,
                        taken=0,
                        opens_at=release,
                    )
                    # Busy offices fill up (and fast), quiet ones don't.
                    wanted = capacity * demand_of[office.pk] * plan_rng.uniform(0.75, 1.25)
                    if pool == "priority":
                        wanted *= 0.8
                    kept = min(capacity, round(wanted)) if release <= now else 0  # not released yet
                    gave_back = round(kept * 0.1) if pool == "online" else 0
                    slots.append(slot)
                    plan.append([slot, kept, gave_back])
        return slots, plan

    open_weekdays = sum(1 for n in range(args.days) if (first_day + dt.timedelta(days=n)).weekday() < 5)
    scale = args.applications / (sum(o[3] + o[4] for o in OFFICES) * open_weekdays)
    for _ in range(3):
        slots, plan = build(scale, args.seed)
        total = sum(k + g for _s, k, g in plan)
        scale *= args.applications / total
    slots, plan = build(scale, args.seed)
    missing = args.applications - sum(k + g for _s, k, g in plan)
    open_entries = [e for e in plan if e[0].opens_at <= now]
    while missing > 0:
        entry = rng.choice(open_entries)
        if entry[1] < entry[0].capacity:
            entry[1] += 1
        else:
            entry[2] += 1
        missing -= 1
    while missing < 0:
        entry = rng.choice(open_entries)
        if entry[2]:
            entry[2] -= 1
            missing += 1
        elif entry[1]:
            entry[1] -= 1
            missing += 1
    Slot.objects.bulk_create(slots, batch_size=5000)
    print(f"{len(offices)} offices, {len(slots)} sessions ({time.monotonic() - started:.1f}s)")

    serial = 0
    written = 0
    taken = {}
    buffer = io.StringIO()
    sql = f"COPY appointments_application ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '')"
    connection.ensure_connection()
    raw = connection.connection

    def flush():
        nonlocal buffer
        buffer.seek(0)
        with raw.cursor() as cur:
            cur.copy_expert(sql, buffer)
        raw.commit()
        buffer = io.StringIO()

    for slot, kept, gave_back in plan:
        hot = demand_of[slot.office_id] >= 1.1
        rush = 25 if hot else 60 * 24 * 5  # mean minutes from release to booking
        past = slot.starts_at < now
        taken[slot.pk] = 0
        for i in range(kept + gave_back):
            serial += 1
            created = slot.opens_at + dt.timedelta(minutes=rng.expovariate(1 / rush))
            if created >= slot.starts_at:
                created = slot.starts_at - dt.timedelta(minutes=rng.randint(30, 600))
            if created > now:  # a release of the last hours: bookings so far
                created = now - dt.timedelta(minutes=rng.uniform(0, 60))
            walk_in = slot.pool == "priority"
            paid_at = checked_in_at = None
            if i >= kept:  # gave its place back
                status = "expired" if rng.random() < 0.7 else "cancelled"
                if status == "cancelled":
                    paid_at = created + dt.timedelta(minutes=20)
            elif walk_in:
                status = "collected" if past else "booked"
                checked_in_at = slot.starts_at + dt.timedelta(minutes=rng.randint(0, 200)) if past else None
                created = slot.starts_at if past else created
            elif past:
                r = rng.random()
                status = "no_show" if r < 0.1 else "rejected" if r < 0.12 else "collected"
                paid_at = created + dt.timedelta(minutes=20)
                if status != "no_show":
                    checked_in_at = slot.starts_at + dt.timedelta(minutes=rng.randint(0, 200))
            else:
                status = "pending_payment" if created > now - dt.timedelta(hours=2) else "booked"
                paid_at = created + dt.timedelta(minutes=20) if status == "booked" else None
            if status not in ("expired", "cancelled", "no_show"):
                taken[slot.pk] += 1
            ts = lambda value: value.isoformat() if value else ""  # noqa: E731
            buffer.write(
                ",".join(
                    (
                        code(serial),
                        f"35{serial:014d}",
                        "Pemohon Uji",
                        "1990-05-17",
                        "M",
                        BLANK,
                        "electronic",
                        "10",
                        "new",
                        "f",
                        "elderly" if walk_in else BLANK,
                        "t" if walk_in else "f",
                        status,
                        "950000",
                        f"{10**14 + serial}",
                        ts(created + dt.timedelta(hours=2)),
                        ts(paid_at),
                        "0",
                        BLANK,
                        ts(checked_in_at),
                        "id",
                        ts(created),
                        ts(created),
                        str(slot.pk),
                    )
                )
                + "\n"
            )
            written += 1
            if written % 200_000 == 0:
                flush()
                print(f"  {written:,} applications ({time.monotonic() - started:.1f}s)")
    flush()
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE taken_now (slot_id bigint, taken int)")
        cur.execute("INSERT INTO taken_now VALUES " + ",".join(f"({k},{v})" for k, v in taken.items() if v))
        cur.execute("UPDATE quotas_slot s SET taken = t.taken FROM taken_now t WHERE s.id = t.slot_id")
        cur.execute("ANALYZE")

    # Availability searches: many where places run out, few that find nothing elsewhere.
    SearchTally.objects.bulk_create(
        [
            SearchTally(
                office=office,
                day=first_day + dt.timedelta(days=n),
                searches=(s := rng.randint(200, 2000) if o[8] >= 1.1 else rng.randint(20, 300)),
                found_nothing=int(s * (rng.uniform(0.3, 0.7) if o[8] >= 1.1 else rng.uniform(0, 0.05))),
                days_asked=s * 14,
            )
            for office, o in zip(offices, OFFICES, strict=True)
            for n in range(args.days - 30)
        ],
        batch_size=5000,
    )
    print(f"{written:,} applications in {len(slots):,} sessions; done in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
