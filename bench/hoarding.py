"""The hoarding simulation: a broker (calo) with many accounts books places and never pays.

    python -m bench.hoarding            # writes bench/HOARDING.md

It recreates its own database (HOARDING_DATABASE_URL, default .../mpaspor_bench_hoarding), runs
on the local-memory cache (no Redis) and drives the services directly, on a simulated clock
(`django.utils.timezone.now` is the simulation's, so rows are stamped in simulated time), in
10-minute ticks. Each tick, as in production: the expiry job, the hoarding evaluation (the beat
runs it every 5 minutes; here every tick), then the broker's bots (first: they poll without
pause), then the applicants who are still looking.

The world: one office releases its next five working days at once, two sessions a day of ten
places (100 places). 150 applicants want one (demand above supply, as at a real release):
40 % arrive in the release's first hour, the others over the following eight days; each takes
the earliest free place, pays within a tick (3 % never pay), and gives up after three days.
The broker starts with 5 accounts and books up to 5 people per account on the earliest free
places, with fresh NIKs and phones, and books again as soon as its holds expire. When an account
is refused it signs up a new one, at most 3 a day (each needs an e-mail address and its code).
Small, because the machine it runs on is shared: the proportions are what matters.

Three runs of the same world (same seed): no broker, the broker without rules, the broker with
settings.HOARDING_RULES and the release rush's shorter payment window (RELEASE_RUSH_MINUTES,
RUSH_PAYMENT_MINUTES). Figures: the broker's share of the places held (time-averaged over the
release), and the places lost to applicants: places of sessions that started without an
applicant of the world on them (held by the broker, or freed too late to be taken), beyond
what the run without a broker lost.
"""

import datetime as dt
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "bench" / "HOARDING.md"
DATABASE_URL = os.environ.get("HOARDING_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mpaspor_bench_hoarding")

TICK = dt.timedelta(minutes=10)
DAYS, SESSIONS, PLACES = 5, (8, 10), 10
APPLICANTS, EARLY_SHARE, PAY_RATE, GIVE_UP = 150, 0.4, 0.97, dt.timedelta(days=3)
BROKER_ACCOUNTS, NEW_ACCOUNTS_PER_DAY, PEOPLE_PER_ACCOUNT = 5, 3, 5
WIB = dt.timezone(dt.timedelta(hours=7))


def recreate_database() -> None:
    import psycopg2

    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    conn = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, password=url.password, dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=os.environ, check=True)


class Clock:
    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Applicant:
    arrives: dt.datetime
    nik: str
    pays: bool
    account: object = None
    application_id: int | None = None
    pay_at: dt.datetime | None = None
    done: bool = False


@dataclass
class Broker:
    accounts: list = field(default_factory=list)
    holds: dict = field(default_factory=dict)  # account id -> [payment deadlines]
    signed_up_today: int = 0
    day: dt.date | None = None
    refusals: int = 0


@dataclass
class Result:
    name: str
    places: int = 0
    genuine_at_start: int = 0
    broker_at_start: int = 0
    empty_at_start: int = 0
    broker_share_sum: float = 0.0
    broker_share_ticks: int = 0
    broker_bookings: int = 0
    broker_accounts: int = 0
    broker_refused: int = 0
    applicants_served: int = 0
    flags: int = 0
    restricted_broker_accounts: int = 0
    restricted_applicants: int = 0

    @property
    def lost(self) -> int:
        return self.places - self.genuine_at_start

    @property
    def broker_share(self) -> float:
        return self.broker_share_sum / self.broker_share_ticks if self.broker_share_ticks else 0.0


def simulate(name: str, *, start: dt.datetime, broker: bool, rules: bool, seed: int = 23) -> Result:
    from django.db.models import F, Sum
    from django.test import override_settings

    from accounts.exceptions import AccountRestricted
    from accounts.models import AccountFlag, User
    from appointments.models import Status
    from appointments.nik import build_nik
    from appointments.services.booking import PersonBooking, book_applications
    from appointments.services.hoarding import evaluate_hoarding
    from appointments.services.lifecycle import change_status, release_expired_holds
    from appointments.services.people import ApplicantData
    from offices.models import Office, Region
    from quotas.exceptions import QuotaError
    from quotas.models import Slot

    rng = random.Random(seed)
    clock = Clock(start)
    result = Result(name=name)
    serial = iter(range(1, 10**6))
    birth_dates: dict[str, dt.date] = {}
    region_code = {"none": "357111", "before": "357112", "after": "357113"}[name]

    def person(nik: str, phone: str) -> PersonBooking:
        return PersonBooking(
            applicant=ApplicantData(
                nik=nik, full_name="Pemohon Simulasi", birth_date=birth_dates[nik], sex="M", phone=phone
            ),
            passport_type="regular",
            validity_years=5,
            kind="new",
        )

    def new_nik() -> str:
        """A valid NIK never used before: 9,999 serials per birth date from 1960 on."""
        n = next(serial)
        birth_date = dt.date(1960, 1, 1) + dt.timedelta(days=n // 9999)
        nik = build_nik(birth_date=birth_date, sex="M", region=region_code, serial=n % 9999 + 1)
        birth_dates[nik] = birth_date
        return nik

    def new_account(label: str, address: str | None = None):
        return User.objects.create_user(
            email=f"{name}-{start:%Y%m%d}-{label}-{next(serial)}@example.com",
            full_name="Akun Simulasi",
            email_verified=True,
            signup_address=address,
        )

    # Without the rules: no hoarding rule and no release rush (holds of the rush paid within the usual window).
    # With them: the settings' rules, and the release rush turned on (off by default, decision 29).
    without_rules = {"HOARDING_RULES": {}, "RELEASE_RUSH_MINUTES": 0}
    with_rules = {"RELEASE_RUSH_MINUTES": 60, "RUSH_PAYMENT_MINUTES": 30}
    with mock.patch("django.utils.timezone.now", clock), override_settings(**(with_rules if rules else without_rules)):
        region, _ = Region.objects.get_or_create(code="JATIM", defaults={"name": "Jawa Timur", "province_code": "35"})
        office = Office.objects.create(
            code=f"kanim-sim-{name}-{start:%Y%m%d}",
            name=f"Kantor Imigrasi Simulasi {name}",
            kind="kanim",
            region=region,
            city="Surabaya",
            timezone="Asia/Jakarta",
        )
        day, days = start.astimezone(WIB).date(), []
        while len(days) < DAYS:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                days.append(day)
        slots = []
        for d in days:
            for hour in SESSIONS:
                starts = dt.datetime.combine(d, dt.time(hour), tzinfo=WIB)
                slots.append(
                    Slot.objects.create(
                        office=office,
                        date=d,
                        starts_at=starts,
                        ends_at=starts + dt.timedelta(hours=2),
                        pool="online",
                        capacity=PLACES,
                        opens_at=start,
                    )
                )
        result.places = PLACES * len(slots)
        end = max(s.starts_at for s in slots) + TICK

        applicants = []
        for n in range(APPLICANTS):
            early = n < APPLICANTS * EARLY_SHARE
            offset = dt.timedelta(seconds=rng.uniform(0, 3600 if early else 8 * 86400))
            applicants.append(Applicant(arrives=start + offset, nik=new_nik(), pays=rng.random() < PAY_RATE))
        the_broker = Broker()
        if broker:
            the_broker.accounts = [new_account("calo", "203.0.113.9") for _ in range(BROKER_ACCOUNTS)]
        broker_ids = {a.pk for a in the_broker.accounts}
        started = set()

        def earliest_free():
            return (
                Slot.objects.filter(office=office, starts_at__gt=clock.now, taken__lt=F("capacity"))
                .order_by("starts_at")
                .first()
            )

        while clock.now <= end:
            now = clock.now
            for slot in slots:  # this run's slots only: runs may share the database side by side
                release_expired_holds(slot_id=slot.pk, now=now)
            if rules:
                evaluate_hoarding(now=now)

            # The broker's bots: every account fills its 5 people on the earliest free places.
            if broker:
                today = now.astimezone(WIB).date()
                if the_broker.day != today:
                    the_broker.day, the_broker.signed_up_today = today, 0
                while len(the_broker.accounts) < BROKER_ACCOUNTS and the_broker.signed_up_today < NEW_ACCOUNTS_PER_DAY:
                    the_broker.signed_up_today += 1
                    fresh = new_account("calo", "203.0.113.9")
                    broker_ids.add(fresh.pk)
                    the_broker.accounts.append(fresh)
                for account in list(the_broker.accounts):
                    account.refresh_from_db()  # as each request loads its account
                    holds = [due for due in the_broker.holds.get(account.pk, []) if due >= now]
                    the_broker.holds[account.pk] = holds
                    want = PEOPLE_PER_ACCOUNT - len(holds)
                    while want > 0:
                        slot = earliest_free()
                        if slot is None:
                            break
                        count = min(want, slot.capacity - slot.taken)
                        people = [person(new_nik(), f"0812{rng.randrange(10**8):08d}") for _ in range(count)]
                        try:
                            booked = book_applications(account=account, slot_id=slot.pk, people=people, now=now)
                        except AccountRestricted:  # replaced by a new account, within the day's budget
                            result.broker_refused += 1
                            the_broker.accounts.remove(account)
                            break
                        except QuotaError:
                            break
                        holds.extend(a.payment_due_at for a in booked)
                        result.broker_bookings += len(booked)
                        want -= len(booked)

            # Applicants still looking: the earliest free place; they pay within the tick.
            sold_out = False
            for applicant in applicants:
                if applicant.done or applicant.arrives > now:
                    continue
                if applicant.pay_at is not None:
                    if applicant.pay_at <= now:
                        applicant.done = True
                        if applicant.pays:
                            change_status(application_id=applicant.application_id, to=Status.BOOKED)
                    continue
                if now - applicant.arrives > GIVE_UP:
                    applicant.done = True
                    continue
                slot = None if sold_out else earliest_free()
                if slot is None:
                    sold_out = True  # nothing frees up within the tick: the others look next tick
                    continue
                applicant.account = applicant.account or new_account("pemohon")
                applicant.account.refresh_from_db()
                try:
                    (application,) = book_applications(
                        account=applicant.account, slot_id=slot.pk, people=[person(applicant.nik, "")], now=now
                    )
                except (QuotaError, AccountRestricted):
                    continue
                applicant.application_id, applicant.pay_at = application.pk, now + TICK

            # The broker's share of the places held in sessions still to come.
            held = Slot.objects.filter(office=office, starts_at__gt=now).aggregate(n=Sum("taken"))["n"] or 0
            if held:
                broker_held = sum(len([d for d in v if d >= now]) for v in the_broker.holds.values())
                result.broker_share_sum += broker_held / held
                result.broker_share_ticks += 1

            # Sessions that start in this tick: who holds their places.
            for slot in slots:
                if slot.pk in started or slot.starts_at > now:
                    continue
                started.add(slot.pk)
                on_it = slot.applications.filter(status__in=[Status.PENDING_PAYMENT, Status.BOOKED])
                broker_n = on_it.filter(account_id__in=broker_ids).count()
                genuine_n = on_it.filter(status=Status.BOOKED).exclude(account_id__in=broker_ids).count()
                result.broker_at_start += broker_n
                result.genuine_at_start += genuine_n
                result.empty_at_start += PLACES - on_it.count()
            if now.astimezone(WIB).hour == 0 and now.minute < TICK.seconds // 60:
                print(f"  {name} {now.astimezone(WIB):%Y-%m-%d}: {result.broker_bookings} broker bookings", flush=True)
            clock.now = now + TICK

        result.applicants_served = sum(1 for a in applicants if a.pays and a.application_id and a.done)
        result.broker_accounts = len(broker_ids)
        flags = AccountFlag.objects.filter(raised_at__gte=start, raised_at__lte=end)
        result.flags = flags.count()
        result.restricted_broker_accounts = flags.filter(account_id__in=broker_ids).values("account").distinct().count()
        result.restricted_applicants = (
            flags.exclude(account_id__in=broker_ids).exclude(restricted_until=None).values("account").distinct().count()
        )
    return result


def report(results: list[Result]) -> str:
    control = next(r for r in results if r.name == "none")
    lines = [
        "# Hoarding simulation",
        "",
        "`python -m bench.hoarding` (see its docstring for the world it simulates). One office, "
        f"{control.places} places over {DAYS} working days, {APPLICANTS} applicants, a broker with "
        f"{BROKER_ACCOUNTS} accounts (5 people each) who never pays, up to {NEW_ACCOUNTS_PER_DAY} new accounts a "
        "day once refused. Same seed in every run.",
        "",
        "| run | broker's share of places held | places lost to applicants | beyond the run without a broker "
        "| held by the broker at the start | empty at the start | broker bookings | broker accounts "
        "| flags | applicants flagged with a restriction |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        beyond = r.lost - control.lost
        lines.append(
            f"| {r.name} | {r.broker_share:.1%} | {r.lost} of {r.places} ({r.lost / r.places:.1%}) "
            f"| {beyond} ({beyond / r.places:.1%}) | {r.broker_at_start} | {r.empty_at_start} "
            f"| {r.broker_bookings} | {r.broker_accounts} | {r.flags} | {r.restricted_applicants} |"
        )
    after = results[-1]
    target = (after.lost - control.lost) / after.places
    lines += [
        "",
        f"Target after the rules: at most 1 % of the places lost to applicants because of the broker: "
        f"{target:.1%}, {'met' if target <= 0.01 else 'NOT met'}.",
        "",
        "Runs: `none` (no broker), `before` (the broker, HOARDING_RULES empty and no release rush), `after` "
        "(the broker, the rules of mpaspor/settings.py: HOARDING_RULES, and the release rush turned on: "
        "holds made in the first 60 minutes after the places opened paid within 30 minutes; the rush is "
        "off by default, decision 29). Places lost: "
        "places of sessions that started without a paid applicant of the world on them; `none` loses the "
        "places of the applicants who never paid.",
        "",
    ]
    return "\n".join(lines)


RUNS = {  # name: (broker, rules, first day); each run its own weeks of the simulated calendar
    "none": (False, False, dt.datetime(2028, 3, 1, 9, tzinfo=WIB)),
    "before": (True, False, dt.datetime(2028, 5, 1, 9, tzinfo=WIB)),
    "after": (True, True, dt.datetime(2028, 7, 3, 9, tzinfo=WIB)),
}


def main(argv: list[str]) -> None:
    """`python -m bench.hoarding` recreates the database and runs the three runs one after the
    other. On a busy machine run them side by side on the database of a first call:
    `python -m bench.hoarding --keep-db after` (and `before`, `none`), then `--report`."""
    import json
    from dataclasses import asdict

    os.environ.update(DATABASE_URL=DATABASE_URL, REDIS_URL="", CELERY_BROKER_URL="memory://", DJANGO_DEBUG="0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-hoarding-simulation-only-" + "x" * 32)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mpaspor.settings")
    names = [a for a in argv if a in RUNS]
    if "--keep-db" not in argv and "--report" not in argv:
        recreate_database()
    if "--report" not in argv:
        import django

        django.setup()
        for name in names or list(RUNS):
            broker, rules, start = RUNS[name]
            result = simulate(name, start=start, broker=broker, rules=rules)
            print(f"{name}: lost {result.lost} of {result.places}, broker share {result.broker_share:.1%}", flush=True)
            (ROOT / "bench" / f"hoarding-{name}.json").write_text(json.dumps(asdict(result), indent=1))
    files = {name: ROOT / "bench" / f"hoarding-{name}.json" for name in RUNS}
    if all(f.exists() for f in files.values()):
        results = [Result(**json.loads(files[name].read_text())) for name in RUNS]
        REPORT.write_text(report(results))
        print(f"written {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
