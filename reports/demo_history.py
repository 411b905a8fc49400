"""The demo's lived-in past: about 90 days of applications with realistic outcomes, today's
counter, bookings on the dates already open, availability searches, and the daily figures.

Built for `manage.py seed_demo` with bulk inserts (a service per row would take minutes), so
the rows are made consistent here, by construction:
- a slot's `taken` is the number of its applications that hold a place (every status but
  cancelled, expired and no-show), so the reconciliation finds no drift;
- sessions that are over carry only final statuses (collected, rejected, no-show, cancelled,
  expired); only today's and later sessions carry active ones (booked, checked in);
- every NIK matches its birth date and sex, and no NIK has two active applications;
- walk-ins belong to a priority group that fits their birth date and sex;
- an account has at most five people with active applications.
History rows get no status-change events or outbox messages: nothing was ever sent.

Deterministic: each slot's applications come from a random generator seeded with the slot's
office, start and pool. A slot that already has applications is left alone, so a second run
adds nothing, and a run on a later day fills only the days that are new since.
"""

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from appointments.models import (
    ONLINE_KINDS,
    RELEASED_STATUSES,
    Application,
    ApplicationKind,
    PassportType,
    PriorityGroup,
    QueueCounter,
    Status,
    Step,
    StepRecord,
)
from appointments.nik import build_nik
from appointments.selectors import fees_in_force
from appointments.services.booking import BOOKING_CODE_ALPHABET
from offices.models import Office
from quotas.models import Pool, SearchTally, Slot
from quotas.services.generation import generate_slots

from .services import refresh_recent_office_days

HISTORY_DAYS = 90
# How much of an office's online quota is taken (1.0: every session sells out) and how fast:
# the big Surabaya and Malang offices sell out within the hour of a release, small ones fill
# over days. Offices not listed get the default.
DEMAND = {
    "kanim-surabaya": (1.0, 0.4),
    "kanim-tanjung-perak": (0.98, 1.5),
    "kanim-malang": (0.97, 2),
    "kanim-denpasar": (0.95, 3),
    "mpp-sidoarjo": (0.95, 6),
    "ulp-gresik": (0.9, 12),
}
DEFAULT_DEMAND = (0.8, 48)  # share of places taken, mean hours from release to booking
# Of the applications that kept their place up to a session that is over.
NO_SHOW_SHARE = 0.08
REJECTED_SHARE = 0.01
# Applications that gave their place back, per application that kept one.
CANCELLED_SHARE = 0.04
EXPIRED_UNPAID_SHARE = 0.09
CANCELLED_PAID_SHARE = 0.3  # of the cancelled ones: paid first (the fee is forfeited)
WALK_IN_SHARE = (0.3, 0.9)  # of a session's priority places, used by walk-ins
PEOPLE_PER_DEMO_ACCOUNT = 4  # active applications per generated account (the limit is five)
DEMO_ACCOUNT_EMAIL = "warga{:05d}@demo.mpaspor.example"
FIRST_NAMES = (
    "Agus Ahmad Ani Bambang Budi Dewi Eko Fitri Hadi Indah Joko Kartika Lestari Made Nur Putu Rina Rudi Sari "
    "Siti Slamet Sri Teguh Wahyu Wayan Yanti Yohana Yusuf"
).split()
LAST_NAMES = (
    "Santoso Wijaya Rahayu Hidayat Saputra Kusuma Wulandari Setiawan Pratama Susanti Nugroho Lestari Purnomo "
    "Handayani Gunawan Siregar Wibowo Ananda Permata Sembiring"
).split()
# A regency/city and district of Jawa Timur per generated person (NIK digits 1-6).
REGENCIES = ("357801", "357101", "357301", "350701", "350901", "357201", "350201", "352701", "351501", "352401")


@dataclass
class Seeded:
    slots: int = 0
    applications: int = 0
    accounts: int = 0
    search_days: int = 0
    office_days: int = 0


def seed_history(*, offices: list[Office], now: dt.datetime | None = None, days: int = HISTORY_DAYS) -> Seeded:
    """Past sessions, applications on past, today's and open future sessions, search tallies,
    then the daily figures. Idempotent (see the module's docstring)."""
    now = now or timezone.now()
    seeded = Seeded()
    with transaction.atomic():
        for office in offices:
            seeded.slots += _past_slots(office=office, days=days, now=now)
        plans = _plan_applications(offices=offices, days=days, now=now)
        seeded.applications, seeded.accounts = _insert_applications(plans, now=now)
        seeded.search_days = _insert_search_tallies(offices=offices, days=days, now=now)
    if seeded.applications or seeded.search_days:
        # The nightly job's refresh over the whole history (and a new run only when rows came).
        seeded.office_days = refresh_recent_office_days(days_back=days + 1, now=now)
    return seeded


def _past_slots(*, office: Office, days: int, now: dt.datetime) -> int:
    """The sessions of the past `days` days and today's (those already started included), made
    by the quota generator as it would have made them then."""
    today = now.astimezone(office.tzinfo).date()
    first = today - dt.timedelta(days=days)
    then = dt.datetime.combine(first, dt.time(0), tzinfo=office.tzinfo)
    plan = generate_slots(office=office, date_from=first, date_to=today, now=then)
    return len(plan.create)


@dataclass
class _Planned:
    row: dict  # the application's column values (attnames), inserted by _insert_rows
    slot: Slot
    active: bool


def _plan_applications(*, offices: list[Office], days: int, now: dt.datetime) -> list[_Planned]:
    """Unsaved applications for every slot in the range that has none yet."""
    by_id = {office.pk: office for office in offices}
    earliest = min(now.astimezone(o.tzinfo).date() for o in offices) - dt.timedelta(days=days)
    slots = list(
        Slot.objects.filter(
            office__in=offices,
            date__gte=earliest,
            capacity__gt=0,
            opens_at__lte=now,
            pool__in=[Pool.ONLINE, Pool.PRIORITY],  # the history has no walk-in sessions or express days
        )
        .exclude(applications__isnull=False)
        .order_by("office_id", "starts_at", "pool")
    )
    fees: dict[dt.date, dict[str, int]] = {}
    queue: dict[tuple[int, dt.date, str], int] = defaultdict(int)
    planned: list[_Planned] = []
    for slot in slots:
        slot.office = by_id[slot.office_id]
        rng = random.Random(f"{slot.office.code}|{slot.starts_at.isoformat()}|{slot.pool}")
        if slot.date not in fees:
            fees[slot.date] = fees_in_force(on=slot.date)
        day_fees = fees[slot.date]
        maker = _SlotHistory(slot=slot, rng=rng, now=now, fees=day_fees, queue=queue)
        planned += maker.walk_ins() if slot.pool == Pool.PRIORITY else maker.bookings()
    _number_queues(planned, queue)
    return planned


class _SlotHistory:
    """The applications of one slot, drawn from its own random generator."""

    def __init__(self, *, slot: Slot, rng: random.Random, now: dt.datetime, fees: dict, queue: dict):
        self.slot, self.rng, self.now, self.fees, self.queue = slot, rng, now, fees, queue
        self.over = slot.ends_at <= now
        self.started = slot.starts_at <= now

    def bookings(self) -> list[_Planned]:
        slot, rng = self.slot, self.rng
        share, mean_hours = DEMAND.get(slot.office.code, DEFAULT_DEMAND)
        if not self.started:
            # Dates further ahead have filled less so far; the ones about to come, nearly all.
            days_ahead = (slot.starts_at - self.now).total_seconds() / 86400
            share *= max(0.15, 1 - days_ahead / 12)
        kept = min(slot.capacity, round(slot.capacity * min(1.0, share * rng.uniform(0.85, 1.1))))
        gave_back = round(kept * rng.uniform(0.5, 1.5) * (CANCELLED_SHARE + EXPIRED_UNPAID_SHARE))
        rows = [self._kept(mean_hours) for _ in range(kept)]
        for _ in range(gave_back):
            status = (
                Status.CANCELLED
                if rng.random() < CANCELLED_SHARE / (CANCELLED_SHARE + EXPIRED_UNPAID_SHARE)
                else Status.EXPIRED
            )
            rows.append(self._gave_back(status, mean_hours))
        return self._counted(rows)

    def walk_ins(self) -> list[_Planned]:
        slot, rng = self.slot, self.rng
        if not self.started:
            return []
        share = rng.uniform(*WALK_IN_SHARE)
        if not self.over:  # a session under way: its first hour's walk-ins
            share *= min(1.0, (self.now - slot.starts_at) / (slot.ends_at - slot.starts_at))
        count = min(slot.capacity, math.floor(slot.capacity * share))
        rows = []
        for _ in range(count):
            group = rng.choice(PriorityGroup.values)
            birth_date, sex = _person_of_group(group, rng, on=slot.date)
            arrived = self._during_session()
            status = (
                (Status.REJECTED if rng.random() < REJECTED_SHARE else Status.COLLECTED)
                if self.over
                else Status.CHECKED_IN
            )
            application = self._application(
                status=status,
                birth_date=birth_date,
                sex=sex,
                created_at=arrived,
                walk_in=True,
                priority_group=group,
                checked_in_at=arrived,
                paid_at=arrived,
            )
            rows.append(_Planned(application, slot, active=status == Status.CHECKED_IN))
        return self._counted(rows)

    def _counted(self, rows: list[_Planned]) -> list[_Planned]:
        """The slot's `taken`: its applications that hold a place (a no-show gave it back)."""
        self.slot.taken = sum(1 for p in rows if p.row["status"] not in RELEASED_STATUSES)
        return rows

    # -- one application ------------------------------------------------------------------
    def _kept(self, mean_hours: float) -> _Planned:
        """An application that kept its place: paid, then seen at the counter or not."""
        rng = self.rng
        created = self._booked_at(mean_hours)
        paid = created + dt.timedelta(minutes=rng.randint(3, 110))
        fields = {"paid_at": paid}
        birth_date, sex = _adult(rng, on=self.slot.date)
        if self.over:
            draw = rng.random()
            if draw < NO_SHOW_SHARE:
                status = Status.NO_SHOW
            else:
                status = Status.REJECTED if draw < NO_SHOW_SHARE + REJECTED_SHARE else Status.COLLECTED
                fields["checked_in_at"] = self._during_session()
        elif self.started and rng.random() < 0.6:
            status = Status.CHECKED_IN
            fields["checked_in_at"] = self._during_session()
        else:
            status = Status.BOOKED
        application = self._application(status=status, birth_date=birth_date, sex=sex, created_at=created, **fields)
        return _Planned(application, self.slot, active=status in (Status.BOOKED, Status.CHECKED_IN))

    def _gave_back(self, status: str, mean_hours: float) -> _Planned:
        rng = self.rng
        created = self._booked_at(mean_hours)
        birth_date, sex = _adult(rng, on=self.slot.date)
        paid_at = None
        if status == Status.CANCELLED and rng.random() < CANCELLED_PAID_SHARE:
            paid_at = created + dt.timedelta(minutes=rng.randint(3, 110))
        application = self._application(
            status=status, birth_date=birth_date, sex=sex, created_at=created, paid_at=paid_at
        )
        return _Planned(application, self.slot, active=False)

    def _application(self, *, status, birth_date, sex, created_at, **fields) -> dict:
        """One application's column values; the codes are drawn from the slot's generator too."""
        rng, slot = self.rng, self.slot
        walk_in = fields.get("walk_in", False)
        if walk_in:
            kind = rng.choice((ApplicationKind.NEW, ApplicationKind.REPLACEMENT_EXPIRED))
        else:
            kind = rng.choices(ONLINE_KINDS, weights=(55, 35, 10))[0]
        passport_type = PassportType.ELECTRONIC if rng.random() < 0.45 else PassportType.REGULAR
        years = 10 if _age(birth_date, slot.date) >= 17 and rng.random() < 0.8 else 5
        express = not walk_in and rng.random() < 0.05
        amount = self.fees.get(f"{passport_type}_{years}", 0) + (self.fees.get("express", 0) if express else 0)
        return {
            "booking_code": "".join(rng.choices(BOOKING_CODE_ALPHABET, k=10)),
            "billing_code": str(rng.randrange(10**14, 10**15)),
            "nik": build_nik(birth_date=birth_date, sex=sex, region=rng.choice(REGENCIES), serial=rng.randint(1, 9999)),
            "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "birth_date": birth_date,
            "sex": sex,
            "phone": f"08{rng.randint(11, 99)}{rng.randint(10**7, 10**8 - 1)}",
            "passport_type": passport_type,
            "validity_years": years,
            "kind": kind,
            "express": express,
            "slot_id": slot.pk,
            "status": status,
            "amount": amount,
            "payment_due_at": None if walk_in else created_at + dt.timedelta(hours=2),
            "created_at": created_at,
            "updated_at": max(created_at, fields.get("checked_in_at") or created_at, min(slot.ends_at, self.now)),
            **fields,
        }

    def _booked_at(self, mean_hours: float) -> dt.datetime:
        """After the date opened, before the session (and before now)."""
        opened, latest = self.slot.opens_at, min(self.slot.starts_at - dt.timedelta(hours=3), self.now)
        if latest <= opened:
            return opened
        return min(opened + dt.timedelta(hours=self.rng.expovariate(1 / mean_hours)), latest)

    def _during_session(self) -> dt.datetime:
        start, end = self.slot.starts_at, min(self.slot.ends_at, self.now)
        return start + (end - start) * self.rng.random()


def _age(birth_date: dt.date, on: dt.date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def _birth_date(rng: random.Random, *, on: dt.date, youngest: int, oldest: int) -> dt.date:
    """A birth date of someone aged `youngest` to `oldest` (inclusive) on `on`."""
    first = on.replace(year=on.year - oldest - 1) + dt.timedelta(days=1)
    last = (
        on.replace(year=on.year - youngest) if on.month != 2 or on.day != 29 else on - dt.timedelta(days=366 * youngest)
    )
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _adult(rng: random.Random, *, on: dt.date) -> tuple[dt.date, str]:
    """Most applicants are of working age; some are children travelling with family."""
    youngest, oldest = (5, 16) if rng.random() < 0.12 else (17, 70)
    return _birth_date(rng, on=on, youngest=youngest, oldest=oldest), rng.choice("MF")


def _person_of_group(group: str, rng: random.Random, *, on: dt.date) -> tuple[dt.date, str]:
    """A birth date and sex that fit the priority group."""
    if group == PriorityGroup.ELDERLY:
        return _birth_date(rng, on=on, youngest=61, oldest=85), rng.choice("MF")
    if group == PriorityGroup.CHILD:
        return _birth_date(rng, on=on, youngest=0, oldest=4), rng.choice("MF")
    if group == PriorityGroup.PREGNANT:
        return _birth_date(rng, on=on, youngest=20, oldest=40), "F"
    return _birth_date(rng, on=on, youngest=17, oldest=70), rng.choice("MF")


def _number_queues(planned: list[_Planned], queue: dict) -> None:
    """Queue numbers in check-in order per office and day: A for bookings, B for walk-ins."""
    seen = sorted(
        (p for p in planned if p.row.get("checked_in_at")),
        key=lambda p: (p.slot.office_id, p.row["checked_in_at"]),
    )
    for p in seen:
        day = p.row["checked_in_at"].astimezone(p.slot.office.tzinfo).date()
        series = "B" if p.row.get("walk_in") else "A"
        queue[(p.slot.office_id, day, series)] += 1
        p.row["queue_number"] = f"{series}-{queue[(p.slot.office_id, day, series)]:03d}"


def _insert_rows(model, rows: list[dict], *, batch_size: int = 500) -> None:
    """INSERT rows given as column values, many per statement: bulk_create's model instances
    and per-value compilation took most of the demo's time. Columns a row leaves out get the
    field's default; dates and times are adapted for the database as the ORM would."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    adapt = [_adapter(f) for f in fields]
    defaults = [f.get_default() for f in fields]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = []
    for row in rows:
        for field, convert, default in zip(fields, adapt, defaults, strict=True):
            value = row.get(field.attname, default)
            values.append(convert(value) if convert and value is not None else value)
    width = len(fields) * batch_size
    full, rest = divmod(len(rows), batch_size)
    # executemany: the debug cursor of `make run` would otherwise spell out every statement's values.
    with connection.cursor() as cursor:
        if full:
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * batch_size)}"
            cursor.executemany(sql, [values[n * width : (n + 1) * width] for n in range(full)])
        if rest:
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * rest)}"
            cursor.executemany(sql, [values[full * width :]])


def _count_express_places(slots) -> None:
    """The days' express slots hold their express applications (a few percent of bookings, far
    below the day's places), as the claim would have counted them."""
    held = (
        Application.objects.filter(slot__office_id=OuterRef("office_id"), slot__date=OuterRef("date"), express=True)
        .exclude(status__in=RELEASED_STATUSES)
        .order_by()
        .values("slot__office_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    days = {(slot.office_id, slot.date) for slot in slots}
    for office_id in {office_id for office_id, _day in days}:
        dates = [day for o, day in days if o == office_id]
        Slot.objects.filter(pool=Pool.EXPRESS, office_id=office_id, date__in=dates).update(
            taken=Coalesce(Subquery(held), 0)
        )


def _adapter(field):
    """How a value of this field goes to the database, where Python's own value will not do."""
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(field, models.JSONField | models.DecimalField):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def _insert_applications(planned: list[_Planned], *, now: dt.datetime) -> tuple[int, int]:
    """Insert the applications with their accounts, then the slots' counts and queue counters."""
    if not planned:
        return 0, 0
    _unique_active_niks(planned)
    accounts = _demo_accounts(planned)
    online = [p for p in planned if not p.row.get("walk_in")]
    active = [p for p in online if p.active]
    for index, p in enumerate(active):
        p.row["account_id"] = accounts[index // PEOPLE_PER_DEMO_ACCOUNT].pk
    for index, p in enumerate(p for p in online if not p.active):
        p.row["account_id"] = accounts[index % len(accounts)].pk
    _insert_rows(Application, [p.row for p in planned])
    slots = {p.slot.pk: p.slot for p in planned}
    Slot.objects.bulk_update(list(slots.values()), ["taken"], batch_size=500)
    _count_express_places(slots.values())
    counters = defaultdict(int)
    for p in planned:
        number = p.row.get("queue_number")
        if number:
            day = p.row["checked_in_at"].astimezone(p.slot.office.tzinfo).date()
            key = (p.slot.office_id, day, number[0])
            counters[key] = max(counters[key], int(number[2:]))
    QueueCounter.objects.bulk_create(
        [QueueCounter(office_id=o, date=d, series=s, last_number=n) for (o, d, s), n in counters.items()],
        ignore_conflicts=True,
    )
    return len(planned), len(accounts)


def _unique_active_niks(planned: list[_Planned]) -> None:
    """No NIK twice among active applications (the database allows one), nor one already active."""
    taken = set(Application.objects.filter(status__in=(Status.BOOKED, Status.CHECKED_IN)).values_list("nik", flat=True))
    for p in planned:
        if not p.active:
            continue
        row = p.row
        serial = int(row["nik"][12:])
        while row["nik"] in taken:
            serial = serial % 9999 + 1
            row["nik"] = row["nik"][:12] + f"{serial:04d}"
        taken.add(row["nik"])


def _demo_accounts(planned: list[_Planned]) -> list[User]:
    """Applicant accounts for the new bookings: enough that none has more than
    PEOPLE_PER_DEMO_ACCOUNT active applications. They cannot log in (no usable password)."""
    active = sum(1 for p in planned if p.active and not p.row.get("walk_in"))
    needed = max(1, math.ceil(active / PEOPLE_PER_DEMO_ACCOUNT))
    start = User.objects.filter(email__endswith="@demo.mpaspor.example").count()
    rng = random.Random(start)
    users = []
    for number in range(start + 1, start + needed + 1):
        user = User(
            email=DEMO_ACCOUNT_EMAIL.format(number),
            full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            email_verified=True,
        )
        user.set_unusable_password()
        users.append(user)
    return User.objects.bulk_create(users, batch_size=2000)


def _insert_search_tallies(*, offices: list[Office], days: int, now: dt.datetime) -> int:
    """Availability searches of each past day: several per place offered, and more of them
    finding nothing where the quota sells out fast. Days that already have a tally keep it."""
    offered = defaultdict(int)
    for office_id, day, capacity in Slot.objects.filter(office__in=offices, pool=Pool.ONLINE).values_list(
        "office_id", "date", "capacity"
    ):
        offered[(office_id, day)] += capacity
    tallies = []
    for office in offices:
        today = now.astimezone(office.tzinfo).date()
        share, mean_hours = DEMAND.get(office.code, DEFAULT_DEMAND)
        for back in range(1, days + 1):
            day = today - dt.timedelta(days=back)
            rng = random.Random(f"{office.code}|search|{day.isoformat()}")
            places = offered.get((office.pk, day)) or offered.get((office.pk, day + dt.timedelta(days=7)), 0)
            searches = round(max(places, 20) * rng.uniform(2, 5) * share)
            unmet = min(searches, round(searches * rng.uniform(0.3, 0.6) / math.sqrt(mean_hours)))
            tallies.append(
                SearchTally(
                    office=office,
                    day=day,
                    searches=searches,
                    found_nothing=unmet,
                    days_asked=searches * rng.randint(20, 35),
                )
            )
    existing = set(
        SearchTally.objects.filter(office__in=offices, day__in={t.day for t in tallies}).values_list("office_id", "day")
    )
    new = [t for t in tallies if (t.office.pk, t.day) not in existing]
    SearchTally.objects.bulk_create(new, batch_size=2000)
    return len(new)


# --- Timed steps at the counter (the capacity model's input) ---------------------------------

# Median minutes per step at a typical office; each office gets its own factor per step, so the
# demo's bottlenecks differ between offices.
DEMO_STEP_MINUTES = {
    Step.DOCUMENT_CHECK: 6.0,
    Step.BIOMETRICS: 7.5,
    Step.INTERVIEW: 9.0,
    Step.APPROVAL: 3.0,
    Step.PRINTING: 4.0,
    Step.COLLECTION: 2.0,
}
TIMED_PER_OFFICE_DAY = 8
WAIT_MINUTES = (5, 10, 15, 20, 25, 30, 40, 50)
DONE_AT_THE_OFFICE = (Status.IN_PROCESS, Status.APPROVED, Status.ISSUED, Status.COLLECTED)


def seed_step_history(*, offices: list[Office], now: dt.datetime | None = None, days: int = 28) -> int:
    """Timed steps, and the wait before the first call, for a few applications served on each
    office's recent days. An office that already has step records is left alone (idempotent)."""
    now = now or timezone.now()
    timed = 0
    with transaction.atomic():
        done = set(StepRecord.objects.values_list("application__slot__office_id", flat=True).distinct())
        for office in offices:
            if office.pk in done:
                continue
            rng = random.Random(f"steps-{office.code}")
            factors = {step: rng.uniform(0.7, 1.5) for step in DEMO_STEP_MINUTES}
            served = Application.objects.filter(
                slot__office=office,
                slot__date__gte=(now - dt.timedelta(days=days)).date(),
                checked_in_at__lt=now - dt.timedelta(hours=6),
                status__in=DONE_AT_THE_OFFICE,
            ).order_by("slot__date", "pk")
            per_day: dict[dt.date, int] = defaultdict(int)
            waits: dict[int, list[int]] = defaultdict(list)  # minutes before the call: application ids
            records = []
            for pk, day, checked_in in served.values_list("pk", "slot__date", "checked_in_at"):
                if per_day[day] >= TIMED_PER_OFFICE_DAY:
                    continue
                per_day[day] += 1
                wait = rng.choice(WAIT_MINUTES)
                waits[wait].append(pk)
                at = checked_in + dt.timedelta(minutes=wait)
                for step, minutes in DEMO_STEP_MINUTES.items():
                    length = dt.timedelta(minutes=max(rng.gauss(minutes * factors[step], minutes * 0.2), 1))
                    records.append({"application_id": pk, "step": step, "started_at": at, "finished_at": at + length})
                    at += length + dt.timedelta(minutes=rng.uniform(0, 10))
            # One UPDATE per wait, not one per application.
            for wait, ids in waits.items():
                Application.objects.filter(pk__in=ids).update(called_at=F("checked_in_at") + dt.timedelta(minutes=wait))
            _insert_rows(StepRecord, records)
            timed += sum(len(ids) for ids in waits.values())
    return timed
