"""The hoarding simulation: a broker (calo) with many accounts books places and never pays.

    python -m bench.hoarding            # writes bench/HOARDING.md

It recreates its own database (HOARDING_DATABASE_URL, default .../mpaspor_bench_hoarding), runs
on the local-memory cache (no Redis) and drives the services directly, on a simulated clock
(`django.utils.timezone.now` is the simulation's, so rows are stamped in simulated time), in
10-minute ticks. Each tick, as in production: the expiry job, the offer sweep (the beat runs it
every 15 s), the hoarding evaluation (every 5 minutes), then the broker's bots (first: they poll
without pause), then the applicants who are still looking or waiting.

The world: one office releases its next five working days at once, two sessions a day of ten places
(100 places). 150 applicants want one (demand above supply, as at a real release): 40 % arrive in
the release's first hour, the others over the following eight days. Each accepts the first date they
could come and up to 0 to 4 working days later (drawn uniformly; other mixes in the `-flexible` and
`-few-wait` runs, `APPLICANTS_ACCEPT`) and takes the earliest free place among them; with none, they
join the waiting list for those dates, as the calendar invites them, and accept its offer at the
first tick it is open while they are awake (06:00 to 21:00). They pay within a tick (3 % never pay)
and give up after three days (leaving the list). Once paid for a later date than the first they
could come, half of them (`ASK_EARLIER`) ask to come earlier from it, as the application's page
invites them (docs/earlier-visit.md). The broker starts with 5 accounts and books up to 5
people per account on the earliest free places, with fresh NIKs and phones, and books again as soon
as its holds expire; it never waits. When an account is refused it signs up a new one, at most 3 a
day (each needs an e-mail address and its code). Small, because the machine it runs on is shared:
the proportions are what matters.

Runs of the same world (same seed; `RUNS`): no broker, the broker without rules, the broker with
the portal's defaults (settings.HOARDING_RULES, no release rush), the same with the opt-in
release rush (RELEASE_RUSH_MINUTES, RUSH_PAYMENT_MINUTES); the same with applicants who
take any date more often; and with fewer or no applicants asking to come earlier, or the broker's
bots winning every race against the task that moves them. Figures: the broker's share of the
places held (time-averaged over the release), and the places lost to applicants: places of
sessions that started without an applicant of the world on them (held by the broker, or freed too
late to be taken), beyond what the run without a broker of the same applicants lost.
"""

import datetime as dt
import os
import random
import subprocess
import sys
from contextlib import nullcontext
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
# How many working days after the first date they could come applicants accept, drawn uniformly
# from the run's tuple. Date-bound: a fifth take only that date, a fifth any date of the week.
# Flexible: any date at all (they wait only when everything is full). Few wait: one in ten takes
# only the first date, the others any date.
ANY_DATE = 60
APPLICANTS_ACCEPT = {
    "date-bound": ((0, 1, 2, 3, 4), "the first date they could come to 0-4 days later"),
    "flexible": ((ANY_DATE,), "any date"),
    "few-wait": ((0,) + (ANY_DATE,) * 9, "1 in 10 only the first date, the others any date"),
}
# Of the applicants who paid for a later date than the first they could come, the share who ask to
# come earlier from it; a run with fewer and one with none show how much depends on it.
ASK_EARLIER, FEWER_ASK = 0.5, 0.2
# Applicants answer an offer's message when awake (WIB): the first tick it is open in these hours.
AWAKE = (6, 21)
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
    patience: int  # working days after the first date they could come
    account: object = None
    application_id: int | None = None
    pay_at: dt.datetime | None = None
    waiting_id: int | None = None
    done: bool = False
    asks_earlier: bool = False  # once paid for a later date than the first they could come


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
    applicants_waited: int = 0
    offers_made: int = 0
    offers_accepted: int = 0
    paid_from_offers: int = 0
    asked_earlier: int = 0
    moved_earlier: int = 0

    @property
    def lost(self) -> int:
        return self.places - self.genuine_at_start

    @property
    def broker_share(self) -> float:
        return self.broker_share_sum / self.broker_share_ticks if self.broker_share_ticks else 0.0


def simulate(name: str, run: "Run", seed: int = 23) -> Result:
    from django.db.models import F, Sum
    from django.test import override_settings

    from accounts.exceptions import AccountRestricted
    from accounts.models import AccountFlag, User
    from allocation.exceptions import AllocationError
    from allocation.models import Offer
    from allocation.services.offers import accept_offer, leave_waiting_list, sweep_offers
    from allocation.services.waiting import join_waiting_list
    from appointments.exceptions import EarlierNotAllowed, InvalidInput
    from appointments.models import ApplicationEvent, Status
    from appointments.nik import build_nik
    from appointments.services.booking import PersonBooking, book_applications
    from appointments.services.earlier import ask_earlier, sweep_earlier
    from appointments.services.hoarding import evaluate_hoarding
    from appointments.services.lifecycle import change_status, release_expired_holds
    from appointments.services.people import ApplicantData
    from offices.models import Office, Region
    from quotas.exceptions import QuotaError
    from quotas.models import Slot

    # The same arrivals whatever the patience and whoever asks to come earlier.
    rng, patience_rng, ask_rng = random.Random(seed), random.Random(seed + 1), random.Random(seed + 2)
    start, broker, rules, rush, accept, ask = run.start, run.broker, run.rules, run.rush, run.accept, run.ask
    clock = Clock(start)
    result = Result(name=name)
    serial = iter(range(1, 10**6))
    birth_dates: dict[str, dt.date] = {}
    # NIKs of a district of their own per run (by its month: each run has its own weeks), so that
    # a run added to a kept database meets no NIK of another run's active applications.
    region_code = f"3571{(start.year - 2028) * 12 + start.month + 10:02d}"

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

    # Without the rules: HOARDING_RULES empty. The release rush is off (the default, decision 29) unless
    # the run turns it on: holds of the first hour paid within 30 minutes.
    overrides = {"RELEASE_RUSH_MINUTES": 60, "RUSH_PAYMENT_MINUTES": 30} if rush else {"RELEASE_RUSH_MINUTES": 0}
    if not rules:
        overrides["HOARDING_RULES"] = {}
    with mock.patch("django.utils.timezone.now", clock), override_settings(**overrides):
        region, _ = Region.objects.get_or_create(code="JATIM", defaults={"name": "Jawa Timur", "province_code": "35"})
        office = Office.objects.create(
            code=f"kanim-sim-{start:%Y%m%d}",  # each run its own weeks
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
            patience = patience_rng.choice(APPLICANTS_ACCEPT[accept][0])
            applicants.append(
                Applicant(
                    arrives=start + offset,
                    nik=new_nik(),
                    pays=rng.random() < PAY_RATE,
                    patience=patience,
                    asks_earlier=ask_rng.random() < ask,
                )
            )
        the_broker = Broker()
        if broker:
            the_broker.accounts = [new_account("calo", "203.0.113.9") for _ in range(BROKER_ACCOUNTS)]
        broker_ids = {a.pk for a in the_broker.accounts}
        started = set()

        def earliest_free():
            """The earliest session with a place in the public pool (held places are the waiting list's)."""
            return (
                Slot.objects.filter(office=office, starts_at__gt=clock.now, capacity__gt=F("taken") + F("held"))
                .order_by("starts_at")
                .first()
            )

        def first_date() -> dt.date:
            """The first date an applicant arriving now could come: the next session's."""
            return next((s.date for s in slots if s.starts_at > clock.now), days[-1])

        def ask_to_come_earlier(applicant: Applicant) -> None:
            """Paid for a later date than the first they could come: ask to be moved from that date on."""
            tomorrow = clock.now.astimezone(WIB).date() + dt.timedelta(days=1)
            first = first_date()
            try:
                ask_earlier(
                    application_id=applicant.application_id,
                    account=applicant.account,
                    date_from=max(first, tomorrow),
                    now=clock.now,
                )
            except (EarlierNotAllowed, InvalidInput):  # their visit is tomorrow, or on the first date
                return
            result.asked_earlier += 1

        def latest_date(applicant: Applicant) -> dt.date:
            """The last date the applicant accepts: `patience` working days after the first they could come."""
            first = first_date()
            ahead = [d for d in days if d >= first]
            return (
                ahead[applicant.patience]
                if applicant.patience < len(ahead)
                else first + dt.timedelta(days=applicant.patience)
            )

        while clock.now <= end:
            now = clock.now
            for slot in slots:
                release_expired_holds(slot_id=slot.pk, now=now)
            # The beat's sweep: lapses offers, offers held places no offer covers, moves households that
            # asked to come earlier into free places (as the give-back's task does within a second).
            # With `bots_first` the moves wait until the bots have looked: they lose that race each time.
            with (
                mock.patch("allocation.services.offers.sweep_earlier", return_value=0)
                if run.bots_first
                else nullcontext()
            ):
                sweep_offers(now=now)
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
                        count = min(want, slot.capacity - slot.taken - slot.held)
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

            if run.bots_first:
                sweep_earlier(now=now)

            # Applicants still looking: the earliest free place on a date they accept, paid within the
            # tick. With none, they join the waiting list for their dates, as the calendar invites them
            # ("No date that suits you? Join the waiting list"), and take its offers when awake.
            sold_out = False
            awake = AWAKE[0] <= now.astimezone(WIB).hour < AWAKE[1]
            for applicant in applicants:
                if applicant.done or applicant.arrives > now:
                    continue
                if applicant.pay_at is not None:
                    if applicant.pay_at <= now:
                        applicant.done = True
                        if applicant.pays:
                            change_status(application_id=applicant.application_id, to=Status.BOOKED)
                            result.paid_from_offers += applicant.waiting_id is not None
                            if applicant.asks_earlier:
                                ask_to_come_earlier(applicant)
                    continue
                if now - applicant.arrives > GIVE_UP:
                    applicant.done = True
                    if applicant.waiting_id is not None:
                        try:
                            leave_waiting_list(waiting_id=applicant.waiting_id, account=applicant.account, now=now)
                        except AllocationError:  # its dates are over: the sweep ended it
                            pass
                    continue
                if applicant.waiting_id is not None:
                    offer = Offer.objects.filter(waiting_id=applicant.waiting_id, status=Offer.Status.OPEN).first()
                    if offer is None or not awake:
                        continue
                    applicant.account.refresh_from_db()
                    try:
                        (application,) = accept_offer(offer_id=offer.pk, account=applicant.account, now=now)
                    except (AllocationError, QuotaError, AccountRestricted):
                        continue
                    result.offers_accepted += 1
                    applicant.application_id, applicant.pay_at = application.pk, now + TICK
                    continue
                slot = None if sold_out else earliest_free()
                sold_out = slot is None  # nothing frees up within the tick: the others look next tick
                applicant.account = applicant.account or new_account("pemohon")
                applicant.account.refresh_from_db()
                latest = latest_date(applicant)
                if slot is None or slot.date > latest:
                    today = now.astimezone(WIB).date()
                    try:
                        waiting = join_waiting_list(
                            account=applicant.account,
                            office_id=office.pk,
                            date_from=today,
                            date_to=max(latest, today),
                            people=[person(applicant.nik, "")],
                            now=now,
                        )
                    except (AllocationError, AccountRestricted):
                        continue
                    applicant.waiting_id = waiting.pk
                    result.applicants_waited += 1
                    continue
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
        result.offers_made = Offer.objects.filter(slot__office=office).count()
        result.moved_earlier = ApplicationEvent.objects.filter(
            application__slot__office=office, reason__startswith="moved_earlier"
        ).count()
        result.broker_accounts = len(broker_ids)
        flags = AccountFlag.objects.filter(raised_at__gte=start, raised_at__lte=end)
        result.flags = flags.count()
        result.restricted_broker_accounts = flags.filter(account_id__in=broker_ids).values("account").distinct().count()
        result.restricted_applicants = (
            flags.exclude(account_id__in=broker_ids).exclude(restricted_until=None).values("account").distinct().count()
        )
    return result


def report(results: list[Result]) -> str:
    by_name = {r.name: r for r in results}
    places = by_name["none"].places
    lines = [
        "# Hoarding simulation",
        "",
        "`python -m bench.hoarding` (see its docstring for the world it simulates). One office, "
        f"{places} places over {DAYS} working days, {APPLICANTS} applicants, a broker with "
        f"{BROKER_ACCOUNTS} accounts (5 people each) who never pays, up to {NEW_ACCOUNTS_PER_DAY} new accounts a "
        "day once refused. Applicants who find no free place on a date they accept join the waiting list and "
        "take its offers. Once paid for a later date than the first they could come, a share of them ask to "
        "come earlier (docs/earlier-visit.md). Same seed in every run; every run starts on a Monday at 09:00 WIB.",
        "",
        "| run | applicants accept | ask to come earlier | broker | hoarding rules | release rush "
        "| broker's share of places held "
        "| places lost to applicants | beyond the run without a broker | held by the broker at the start "
        "| empty at the start | broker bookings | broker accounts | flags | applicants flagged with a restriction "
        "| applicants who waited | offers made | offers accepted | paid from offers | asked to come earlier "
        "| moved earlier |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        run = RUNS[r.name]
        control = by_name[control_of(r.name)]
        beyond = r.lost - control.lost
        lines.append(
            f"| {r.name} | {APPLICANTS_ACCEPT[run.accept][1]} | {run.ask:.0%} | {'yes' if run.broker else 'no'} "
            f"| {'settings' if run.rules else 'none'} | {'60/30 min' if run.rush else 'off'} | {r.broker_share:.1%} "
            f"| {r.lost} of {r.places} ({r.lost / r.places:.1%}) | {beyond} ({beyond / r.places:.1%}) "
            f"| {r.broker_at_start} | {r.empty_at_start} | {r.broker_bookings} | {r.broker_accounts} | {r.flags} "
            f"| {r.restricted_applicants} | {r.applicants_waited} | {r.offers_made} | {r.offers_accepted} "
            f"| {r.paid_from_offers} | {r.asked_earlier} | {r.moved_earlier} |"
        )
    lines += ["", "Target after the rules: at most 1 % of the places lost to applicants because of the broker:", ""]
    for r in results:
        if RUNS[r.name].rules:
            target = (r.lost - by_name[control_of(r.name)].lost) / r.places
            lines.append(f"- `{r.name}`: {target:.1%}, {'met' if target <= 0.01 else 'NOT met'}.")
    lines += [
        "",
        "Runs: `none` (no broker), `before` (the broker, HOARDING_RULES empty), `after` (the broker and the "
        "portal's defaults: the rules of mpaspor/settings.py, the release rush off), `after-rush` (the same "
        "with the opt-in release rush: holds made in the first 60 minutes after the places opened paid within "
        "30 minutes, decision 29). Applicants accept the first date they could come and up to 0 to 4 working "
        "days later (drawn uniformly); in the `-flexible` runs any date (they wait only when everything is "
        "full); in the `-few-wait` runs one in ten only the first date, the others any date. Of the applicants "
        f"who paid for a later date than the first they could come, {ASK_EARLIER:.0%} ask to come earlier from "
        "that date (fewer in the runs named `-fewer-ask` and `-no-ask`); they are moved by the task a place "
        "given back enqueues, before the broker's bots look again, except in `-bots-first`, where the bots "
        "take what they can first each time. Places lost: places of sessions that "
        "started without a paid applicant of the world on them; the run without a broker of the same "
        "applicants is the baseline (it loses the places of the applicants who never paid and of those who "
        "wanted other dates).",
        "",
    ]
    return "\n".join(lines)


def control_of(name: str) -> str:
    """The run without a broker whose applicants accept the dates `name`'s accept."""
    return next(other for other, run in RUNS.items() if not run.broker and run.accept == RUNS[name].accept)


@dataclass(frozen=True)
class Run:
    broker: bool
    rules: bool  # settings.HOARDING_RULES, or none
    rush: bool  # the opt-in release rush
    accept: str  # what applicants accept: a key of APPLICANTS_ACCEPT
    ask: float  # who asks to come earlier
    start: dt.datetime  # a Monday 09:00 WIB; each run its own weeks of the calendar
    bots_first: bool = False  # the broker's bots act before the task that moves households earlier


RUNS = {
    "none": Run(False, False, False, "date-bound", ASK_EARLIER, dt.datetime(2028, 3, 6, 9, tzinfo=WIB)),
    "before": Run(True, False, False, "date-bound", ASK_EARLIER, dt.datetime(2028, 5, 8, 9, tzinfo=WIB)),
    "after": Run(True, True, False, "date-bound", ASK_EARLIER, dt.datetime(2028, 7, 10, 9, tzinfo=WIB)),
    "after-rush": Run(True, True, True, "date-bound", ASK_EARLIER, dt.datetime(2028, 9, 11, 9, tzinfo=WIB)),
    "none-flexible": Run(False, False, False, "flexible", ASK_EARLIER, dt.datetime(2028, 11, 13, 9, tzinfo=WIB)),
    "before-flexible": Run(True, False, False, "flexible", ASK_EARLIER, dt.datetime(2029, 1, 15, 9, tzinfo=WIB)),
    "after-flexible": Run(True, True, False, "flexible", ASK_EARLIER, dt.datetime(2029, 3, 19, 9, tzinfo=WIB)),
    "after-rush-flexible": Run(True, True, True, "flexible", ASK_EARLIER, dt.datetime(2029, 5, 21, 9, tzinfo=WIB)),
    "none-few-wait": Run(False, False, False, "few-wait", ASK_EARLIER, dt.datetime(2029, 7, 23, 9, tzinfo=WIB)),
    "after-few-wait": Run(True, True, False, "few-wait", ASK_EARLIER, dt.datetime(2029, 9, 24, 9, tzinfo=WIB)),
    "after-flexible-fewer-ask": Run(True, True, False, "flexible", FEWER_ASK, dt.datetime(2029, 11, 26, 9, tzinfo=WIB)),
    "after-flexible-no-ask": Run(True, True, False, "flexible", 0.0, dt.datetime(2030, 1, 28, 9, tzinfo=WIB)),
    "after-flexible-bots-first": Run(
        True, True, False, "flexible", ASK_EARLIER, dt.datetime(2030, 4, 1, 9, tzinfo=WIB), bots_first=True
    ),
}


def main(argv: list[str]) -> None:
    """`python -m bench.hoarding` recreates the database and runs every run one after the other;
    `python -m bench.hoarding --keep-db after` runs the named ones on the existing database, and
    `--report` only writes the report from the JSON files. Run them one at a time: the
    offer sweep, like the beat's, sees every office's offers, and would lapse another run's on its
    own clock."""
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
            result = simulate(name, RUNS[name])
            print(f"{name}: lost {result.lost} of {result.places}, broker share {result.broker_share:.1%}", flush=True)
            (ROOT / "bench" / f"hoarding-{name}.json").write_text(json.dumps(asdict(result), indent=1))
    files = {name: ROOT / "bench" / f"hoarding-{name}.json" for name in RUNS}
    if all(f.exists() for f in files.values()):
        results = [Result(**json.loads(files[name].read_text())) for name in RUNS]
        REPORT.write_text(report(results))
        print(f"written {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
