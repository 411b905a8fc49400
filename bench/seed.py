"""Seed the bench database: one office, its slots, and the accounts with their API tokens.

Run by bench/run.py with the bench's environment (`python -m bench.seed OUT.json`). Accounts
are created straight in the database (unusable passwords, no sign-up, no hashing cost) with
one API token each, exactly as the API stores them (only the SHA-256 of the key). Nothing
here is timed.
"""

import datetime as dt
import json
import secrets
import sys

import django

django.setup()  # before the models are imported

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import ApiToken, User  # noqa: E402
from accounts.services import hash_token_key  # noqa: E402
from allocation.draw import new_seed, sha256_hex  # noqa: E402
from allocation.models import Release  # noqa: E402
from appointments.nik import build_nik  # noqa: E402
from offices.models import Office, Region  # noqa: E402
from quotas.models import ReleaseMode, Slot  # noqa: E402

# One slot per scenario; each has its own NIK region, so every attempt is a distinct person.
SCENARIOS = {
    "baseline": {"region": "357101", "hour": 8},
    "booking": {"region": "357102", "hour": 9},
    "profile": {"region": "357103", "hour": 10},
    "fault_redis": {"region": "357104", "hour": 11},
    "fault_pg": {"region": "357105", "hour": 12},
    "warmup": {"region": "357106", "hour": 13},
    "baseline_after": {"region": "357107", "hour": 14},
    # make bench-scale (bench/scale.py): one node alone, one behind the load balancer, two behind it
    "direct": {"region": "357108", "hour": 15},
    "one_node": {"region": "357109", "hour": 16},
    "two_nodes": {"region": "357110", "hour": 17},
}
# The wrk pairs' slots (bench/pairs.py), open from the start: one sold out, three that never fill.
OPEN_SLOTS = {"sold_out": 1, "wrk_booking": 10**6, "wrk_floor": 10**6, "wrk_burst": 10**6}
# The wrk pairs book for distinct people across accounts, at most 5 each.
WRK_ACCOUNTS = 20_000
# The entering burst (`entering`): the same accounts enter a draw-mode release whose window is
# open, each for one distinct person of its own NIK region, choosing its three sessions.
ENTERING_REGION = "357111"
DRAW_SESSION_HOURS = (8, 10, 13)
# The login pair's account: a real password, hashed as at sign-up (once, here).
LOGIN_PASSWORD = "kata-sandi-bench-" + secrets.token_hex(8)


def main(out_path: str, accounts: int, places: int) -> None:
    now = timezone.now()
    tz = dt.timezone(dt.timedelta(hours=7))
    day = now.astimezone(tz).date() + dt.timedelta(days=7)
    with transaction.atomic():
        region, _ = Region.objects.get_or_create(code="JATIM", defaults={"name": "Jawa Timur", "province_code": "35"})
        office = Office.objects.create(
            code="kanim-bench",
            name="Kantor Imigrasi Bench",
            kind="kanim",
            region=region,
            city="Surabaya",
            timezone="Asia/Jakarta",
        )
        slots = {}
        for name, spec in SCENARIOS.items():
            starts = dt.datetime.combine(day, dt.time(spec["hour"]), tzinfo=tz)
            slots[name] = Slot.objects.create(
                office=office,
                date=day,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
                pool="online",
                capacity=places,
                taken=0,
                # Closed until the run opens it at its burst's time T (an UPDATE of opens_at).
                opens_at=now + dt.timedelta(days=365),
            ).pk
        for hour, (name, capacity) in enumerate(OPEN_SLOTS.items(), start=18):  # after every scenario's hour
            starts = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
            slots[name] = Slot.objects.create(
                office=office,
                date=day,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
                pool="online",
                capacity=capacity,
                taken=1 if name == "sold_out" else 0,
                opens_at=now - dt.timedelta(days=1),
            ).pk
        # A draw-mode release the day after, its window open from an hour ago to tomorrow.
        draw_day = day + dt.timedelta(days=1)
        draw_slots = []
        for hour in DRAW_SESSION_HOURS:
            starts = dt.datetime.combine(draw_day, dt.time(hour), tzinfo=tz)
            draw_slots.append(
                Slot.objects.create(
                    office=office,
                    date=draw_day,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=1),
                    pool="online",
                    capacity=places,
                    mode=ReleaseMode.DRAW,
                    opens_at=now + dt.timedelta(days=8),
                ).pk
            )
        seed = new_seed()
        release = Release.objects.create(
            office=office,
            entries_open_at=now - dt.timedelta(hours=1),
            entries_close_at=now + dt.timedelta(days=1),
            sessions_from=draw_day,
            sessions_to=draw_day,
            opens_at=now + dt.timedelta(days=8),
            seed=seed,
            seed_sha256=sha256_hex(seed),
        )
        users = User.objects.bulk_create(
            [
                User(email=f"bench{i}@bench.example", full_name=f"Pemohon {i}", email_verified=True, password="!")
                for i in range(max(accounts, WRK_ACCOUNTS))
            ],
            batch_size=2000,
        )
        login = users[-1]
        login.set_password(LOGIN_PASSWORD)
        login.save(update_fields=["password"])
        keys = [secrets.token_urlsafe(32) for _ in users]
        ApiToken.objects.bulk_create(
            [
                ApiToken(user=user, key_hash=hash_token_key(key), expires_at=now + dt.timedelta(days=1))
                for user, key in zip(users, keys, strict=True)
            ],
            batch_size=2000,
        )
    people = {name: persons(spec["region"], accounts) for name, spec in SCENARIOS.items()}
    people["entering"] = persons(ENTERING_REGION, accounts)
    with open(out_path, "w") as out:
        json.dump(
            {
                "office": office.code,
                "day": day.isoformat(),
                "month_end": (day + dt.timedelta(days=30)).isoformat(),
                "slots": slots,
                "release": release.pk,
                "draw_slots": draw_slots,
                "floor_account": users[0].pk,
                "login": {"email": login.email, "password": LOGIN_PASSWORD},
                "tokens": keys,
                "people": people,
                "places": places,
            },
            out,
        )


def persons(region: str, accounts: int) -> list[dict]:
    """One distinct person per account, of the NIK region given."""
    people = []
    for i in range(accounts):
        birth_date = dt.date(1970, 1, 1) + dt.timedelta(days=(i * 7) % 15000)
        sex = "F" if i % 2 else "M"
        people.append(
            {
                "nik": build_nik(birth_date=birth_date, sex=sex, region=region, serial=i + 1),
                "full_name": f"Pemohon Bench {chr(65 + i % 26)}",
                "birth_date": birth_date.isoformat(),
                "sex": sex,
                "phone": "081234567890",
            }
        )
    return people


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
