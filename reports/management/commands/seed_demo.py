"""Demo data: the offices of Jawa Timur plus one WITA and one WIT office with their staff and
counters, 30 days of sessions ahead, about 90 days of history (reports.demo_history), the demo
accounts, and the daily report figures. Idempotent: a second run adds only what is missing.

It lives in reports, the top app, because it fills every app's tables."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from allocation.services.releases import open_entry_windows
from appointments.models import Applicant, Application, Status
from appointments.nik import build_nik
from appointments.services.booking import new_application
from appointments.services.people import ApplicantData
from appointments.services.stock import refresh_stock_outlooks
from offices.models import (
    Office,
    OfficeResources,
    PassportStock,
    PassportType,
    Region,
    StaffMembership,
    StockReceipt,
    StockUse,
)
from quotas.models import Pool, ReleaseMode, ReleaseSchedule, Slot
from quotas.services.setup import SessionSpec, set_up_office_quotas
from reports.demo_history import HISTORY_DAYS, seed_history, seed_step_history

K = Office.Kind
C = Office.OfficeClass

# (email, password, full name, role description): printed by `manage.py demo_banner`.
DEMO_ACCOUNTS = [
    ("pemohon@mpaspor.example", "Demo-Pemohon-2026", "Budi Santoso", "applicant"),
    ("petugas.kediri@mpaspor.example", "Demo-Petugas-2026", "Sri Wahyuni", "staff, Kanim Kediri (officer)"),
    ("kepala.kediri@mpaspor.example", "Demo-Kepala-2026", "Hendro Wibisono", "head of Kanim Kediri"),
    ("kanwil.jatim@mpaspor.example", "Demo-Kanwil-2026", "Agus Prasetyo", "regional division, Jawa Timur"),
    ("admin@mpaspor.example", "Demo-Admin-2026", "Admin mpaspor", "superuser"),
]

REGIONS = [
    # code, name, province code, time zone of its offices
    ("JATIM", "Jawa Timur", "35", "Asia/Jakarta"),
    ("BALI", "Bali", "51", "Asia/Makassar"),
    ("PAPUA", "Papua", "91", "Asia/Jayapura"),
]


# Where each demo office is (latitude, longitude; the city's centre, near enough for "nearby offices").
COORDINATES = {
    "kanim-surabaya": (-7.3797, 112.7870),
    "kanim-tanjung-perak": (-7.2090, 112.7340),
    "kanim-malang": (-7.9666, 112.6326),
    "kanim-jember": (-8.1724, 113.7000),
    "kanim-kediri": (-7.8166, 112.0114),
    "kanim-blitar": (-8.0983, 112.1681),
    "kanim-madiun": (-7.6298, 111.5239),
    "kanim-ponorogo": (-7.8651, 111.4696),
    "kanim-pamekasan": (-7.1568, 113.4746),
    "mpp-sidoarjo": (-7.4478, 112.7183),
    "ulp-gresik": (-7.1554, 112.6540),
    "ukk-bojonegoro": (-7.1502, 111.8817),
    "ukk-pasuruan": (-7.6453, 112.9075),
    "mpp-kediri": (-7.8200, 112.0150),
    "kanim-denpasar": (-8.6705, 115.2126),
    "kanim-jayapura": (-2.5337, 140.7181),
}


@dataclass
class Session:
    start: str
    end: str
    capacity: int
    kinds: list = field(default_factory=list)  # empty: every online kind
    walk_in: bool = False  # the capacity is for walk-ins without booking, registered at the counter


def weekdays(*sessions):
    return {day: list(sessions) for day in range(5)}


# Weekday sessions per office; Saturday (5) / Sunday (6) only where the office serves then.
# Capacities follow the public figures: Surabaya ~200 online a day, Malang ~150 (+30 at its UKK).
SATURDAY_KINDS = ["new", "replacement_expired"]  # the national Saturday service's rule (Aug 2023)
# Passport books (seed_book_stock): a booth that prints no e-paspor, an office short of them.
NOT_ISSUED = {("mpp-sidoarjo", "electronic")}
SHORT_STOCK = {("kanim-kediri", "electronic"): 6}  # books left on hand (others: about five weeks' use)

OFFICES = [
    # code, name, kind, class, parent, region, city, sessions
    (
        "kanim-surabaya",
        "Kantor Imigrasi Kelas I Khusus TPI Surabaya",
        K.KANIM,
        C.KHUSUS_TPI,
        None,
        "JATIM",
        "Sidoarjo",
        weekdays(Session("08:00", "10:00", 70), Session("10:00", "12:00", 70), Session("13:00", "15:00", 60))
        | {5: [Session("08:00", "12:00", 50, SATURDAY_KINDS)]},
    ),
    (
        "kanim-tanjung-perak",
        "Kantor Imigrasi Kelas I TPI Tanjung Perak",
        K.KANIM,
        C.I_TPI,
        None,
        "JATIM",
        "Surabaya",
        weekdays(Session("08:00", "10:00", 60), Session("10:00", "12:00", 60), Session("13:00", "15:00", 40)),
    ),
    (
        "kanim-malang",
        "Kantor Imigrasi Kelas I TPI Malang",
        K.KANIM,
        C.I_TPI,
        None,
        "JATIM",
        "Malang",
        weekdays(Session("08:00", "10:00", 55), Session("10:00", "12:00", 55), Session("13:00", "15:00", 40)),
    ),
    (
        "kanim-jember",
        "Kantor Imigrasi Kelas I TPI Jember",
        K.KANIM,
        C.I_TPI,
        None,
        "JATIM",
        "Jember",
        weekdays(Session("08:00", "10:00", 40), Session("10:00", "12:00", 40), Session("13:00", "15:00", 30)),
    ),
    (
        "kanim-kediri",
        "Kantor Imigrasi Kelas II Non-TPI Kediri",
        K.KANIM,
        C.II_NON_TPI,
        None,
        "JATIM",
        "Kediri",
        weekdays(Session("08:00", "10:00", 30), Session("10:00", "12:00", 30), Session("13:00", "15:00", 20))
        | {5: [Session("08:00", "10:00", 30, walk_in=True)]},  # Saturday walk-ins (Jan 2024)
    ),
    (
        "kanim-blitar",
        "Kantor Imigrasi Kelas II Non-TPI Blitar",
        K.KANIM,
        C.II_NON_TPI,
        None,
        "JATIM",
        "Blitar",
        weekdays(Session("08:00", "10:00", 25), Session("10:00", "12:00", 25), Session("13:00", "15:00", 20)),
    ),
    (
        "kanim-madiun",
        "Kantor Imigrasi Kelas II Non-TPI Madiun",
        K.KANIM,
        C.II_NON_TPI,
        None,
        "JATIM",
        "Madiun",
        weekdays(Session("08:00", "10:00", 30), Session("10:00", "12:00", 30), Session("13:00", "15:00", 20)),
    ),
    (
        "kanim-ponorogo",
        "Kantor Imigrasi Kelas II Non-TPI Ponorogo",
        K.KANIM,
        C.II_NON_TPI,
        None,
        "JATIM",
        "Ponorogo",
        weekdays(Session("08:00", "10:00", 25), Session("10:00", "12:00", 25), Session("13:00", "15:00", 15)),
    ),
    (
        "kanim-pamekasan",
        "Kantor Imigrasi Kelas II Non-TPI Pamekasan",
        K.KANIM,
        C.II_NON_TPI,
        None,
        "JATIM",
        "Pamekasan",
        weekdays(Session("08:00", "10:00", 20), Session("10:00", "12:00", 20), Session("13:00", "15:00", 15)),
    ),
    # Outlets, each with its own daily quota.
    (
        "mpp-sidoarjo",
        "MPP Sidoarjo (Kanim Surabaya)",
        K.MPP,
        "",
        "kanim-surabaya",
        "JATIM",
        "Sidoarjo",
        weekdays(Session("08:00", "12:00", 40)),
    ),
    (
        "ulp-gresik",
        "ULP Gresik (Kanim Tanjung Perak)",
        K.ULP,
        "",
        "kanim-tanjung-perak",
        "JATIM",
        "Gresik",
        weekdays(Session("09:00", "12:00", 40))
        | {5: [Session("10:00", "14:00", 40, SATURDAY_KINDS)], 6: [Session("10:00", "14:00", 40, SATURDAY_KINDS)]},
    ),
    (
        "ukk-bojonegoro",
        "UKK Bojonegoro (Kanim Tanjung Perak)",
        K.UKK,
        "",
        "kanim-tanjung-perak",
        "JATIM",
        "Bojonegoro",
        weekdays(Session("08:00", "12:00", 25)),
    ),
    (
        "ukk-pasuruan",
        "UKK Pasuruan (Kanim Malang)",
        K.UKK,
        "",
        "kanim-malang",
        "JATIM",
        "Pasuruan",
        weekdays(Session("08:00", "12:00", 30)),
    ),
    (
        "mpp-kediri",
        "MPP Kota Kediri (Kanim Kediri)",
        K.MPP,
        "",
        "kanim-kediri",
        "JATIM",
        "Kediri",
        weekdays(Session("08:00", "12:00", 15)),
    ),
    # One office in WITA and one in WIT: their sessions are in their own zone.
    (
        "kanim-denpasar",
        "Kantor Imigrasi Kelas I TPI Denpasar",
        K.KANIM,
        C.I_TPI,
        None,
        "BALI",
        "Denpasar",
        weekdays(Session("08:00", "10:00", 50), Session("10:00", "12:00", 50), Session("13:00", "15:00", 30)),
    ),
    (
        "kanim-jayapura",
        "Kantor Imigrasi Kelas I TPI Jayapura",
        K.KANIM,
        C.I_TPI,
        None,
        "PAPUA",
        "Jayapura",
        weekdays(Session("08:00", "10:00", 30), Session("10:00", "12:00", 30)),
    ),
]

# The capacity evaluation's figures (staff, counters), in proportion to each office's quota:
# a counter serves about 40 applications a day (REPORTS_APPLICATIONS_PER_COUNTER_PER_DAY).
STAFF_AND_COUNTERS = {
    "kanim-surabaya": (64, 6),
    "kanim-tanjung-perak": (52, 5),
    "kanim-malang": (48, 4),
    "kanim-jember": (36, 3),
    "kanim-kediri": (24, 2),
    "kanim-blitar": (20, 2),
    "kanim-madiun": (22, 2),
    "kanim-ponorogo": (18, 2),
    "kanim-pamekasan": (16, 1),
    "mpp-sidoarjo": (5, 1),
    "ulp-gresik": (6, 1),
    "ukk-bojonegoro": (4, 1),
    "ukk-pasuruan": (5, 1),
    "mpp-kediri": (3, 1),
    "kanim-denpasar": (40, 3),
    "kanim-jayapura": (18, 2),
}

DAYS_AHEAD = 30
# Kanim Surabaya releases weekly, the old national way: Friday 14:00 for the following week,
# by a draw among entries; its entry window is the whole week before, so one is always open.
WEEKLY_RELEASE = {"kanim-surabaya"}
DRAW_RELEASE = {"kanim-surabaya"}
# Kanim Tanjung Perak releases twice a month, as Batam does: mid-month and at month end.
TWICE_MONTHLY_RELEASE = {"kanim-tanjung-perak"}
ROLLING_DAYS_BEFORE = 14  # the others: each date opens 14 days before, at 09:00 office time


class Command(BaseCommand):
    help = "Load demo offices, sessions, about 90 days of history, demo accounts and report figures (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")
        parser.add_argument("--days", type=int, default=DAYS_AHEAD, help="Days of sessions from today.")
        parser.add_argument("--history-days", type=int, default=HISTORY_DAYS, help="Days of past applications.")

    def handle(self, *args, force=False, days=DAYS_AHEAD, history_days=HISTORY_DAYS, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo adds demo accounts with known passwords; it runs only with DJANGO_DEBUG=1, or with --force."
            )
        with transaction.atomic():
            regions = self.seed_regions()
            offices = self.seed_offices(regions)
            self.seed_accounts(regions, offices)
        created = create_demo_slots(offices=offices, days=days, history_days=history_days, stdout=self.stdout)
        open_entry_windows()
        self.stdout.write("History...")
        history = seed_history(offices=[office for office, _sessions in offices.values()], days=history_days)
        self.seed_office_resources(offices)
        self.stdout.write("Timed steps...")
        seed_step_history(offices=[office for office, _sessions in offices.values()])
        self.seed_demo_applicant()
        self.stdout.write("Passport books...")
        self.seed_book_stock(offices)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(offices)} offices, {created} new sessions ahead, {history.slots} past"
                f" sessions, {history.applications} applications, {history.search_days} days of searches,"
                f" {history.office_days} office days of figures."
            )
        )

    def seed_regions(self) -> dict[str, Region]:
        self.stdout.write("Regions...")
        regions = {}
        for code, name, province, _tz in REGIONS:
            regions[code], _ = Region.objects.get_or_create(
                code=code, defaults={"name": name, "province_code": province}
            )
        return regions

    def seed_offices(self, regions) -> dict[str, tuple[Office, dict]]:
        self.stdout.write("Offices...")
        tz_of = {code: tz for code, _n, _p, tz in REGIONS}
        offices: dict[str, tuple[Office, dict]] = {}
        for code, name, kind, office_class, parent, region, city, sessions in OFFICES:
            office, created = Office.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "kind": kind,
                    "office_class": office_class,
                    "parent": offices[parent][0] if parent else None,
                    "region": regions[region],
                    "city": city,
                    "timezone": tz_of[region],
                    "staff_count": STAFF_AND_COUNTERS[code][0],
                    "counter_count": STAFF_AND_COUNTERS[code][1],
                },
            )
            if office.latitude is None and code in COORDINATES:
                office.latitude, office.longitude = COORDINATES[code]
                office.save(update_fields=["latitude", "longitude"])
            offices[code] = (office, sessions)
            self.stdout.write(f"  {'+' if created else '='} {office.name} ({office.timezone_label})")
        return offices

    def seed_office_resources(self, offices) -> None:
        """Staff on duty by role and facilities, in proportion to the counters, with a short
        supply somewhere in each office so that the capacity model names a bottleneck."""
        for code, (office, _sessions) in offices.items():
            counters = STAFF_AND_COUNTERS[code][1]
            OfficeResources.objects.get_or_create(
                office=office,
                defaults={
                    "verifiers": counters + 1,
                    "biometric_operators": counters,
                    "interviewers": max(counters - 1, 1),
                    "approvers": max(counters // 2, 1),
                    "printing_staff": max(counters // 2, 1),
                    "biometric_stations": max(counters - 1, 1),
                    "printers": 2 if counters >= 4 else 1,
                    "opens_at": dt.time(8),
                    "closes_at": dt.time(15),
                    "saturday_ready": counters >= 3,
                },
            )

    def seed_book_stock(self, offices) -> None:
        """Blank books per office and type (docs/book-stock.md): a delivery of about five weeks of
        the office's use, the books its last four weeks of history printed, and the outlook. The MPP
        booth in Sidoarjo prints no e-paspor, so the office list's filter hides it for that type;
        Kediri is short of e-paspor books, so its calendar closes that type from a day and the
        office and the division get the low-stock alert. Offices with stock already are left alone."""
        recorder = User.objects.get(email=DEMO_ACCOUNTS[4][0])
        now = timezone.now()
        for code, (office, _sessions) in offices.items():
            for passport_type in PassportType.values:
                if PassportStock.objects.filter(office=office, passport_type=passport_type).exists():
                    continue
                if (code, passport_type) in NOT_ISSUED:
                    PassportStock.objects.create(office=office, passport_type=passport_type, issued=False)
                    continue
                with transaction.atomic():
                    stock = PassportStock.objects.create(office=office, passport_type=passport_type)
                    today = now.astimezone(office.tzinfo).date()
                    printed = list(
                        Application.objects.filter(
                            slot__office=office,
                            passport_type=passport_type,
                            status__in=[Status.ISSUED, Status.COLLECTED],
                            slot__date__gte=today - dt.timedelta(days=28),
                            slot__date__lt=today,
                        ).values_list("pk", "slot__date")
                    )
                    StockUse.objects.bulk_create(
                        [
                            StockUse(
                                stock=stock,
                                application_id=pk,
                                used_on=day,
                                used_at=dt.datetime.combine(day, dt.time(14), tzinfo=office.tzinfo),
                            )
                            for pk, day in printed
                        ],
                        batch_size=2000,
                        ignore_conflicts=True,
                    )
                    spare = SHORT_STOCK.get((code, passport_type), max(len(printed) // 4, 20) * 5)
                    books = len(printed) + spare
                    StockReceipt.objects.create(
                        stock=stock,
                        books=books,
                        reference=f"DEMO-{code.upper()}-{passport_type[:3].upper()}-1",
                        received_on=today - dt.timedelta(days=30),
                        recorded_by=recorder,
                    )
                    PassportStock.objects.filter(pk=stock.pk).update(on_hand=spare)
        refresh_stock_outlooks(now=now)

    def seed_accounts(self, regions, offices):
        self.stdout.write("Demo accounts...")
        applicant, staff, head, regional, admin = DEMO_ACCOUNTS
        self._user(applicant, phone="081234567890")
        officer = self._user(staff, is_staff=True)
        StaffMembership.objects.get_or_create(
            user=officer, role=StaffMembership.Role.OFFICER, office=offices["kanim-kediri"][0], region=None
        )
        kepala = self._user(head, is_staff=True)
        StaffMembership.objects.get_or_create(
            user=kepala, role=StaffMembership.Role.HEAD, office=offices["kanim-kediri"][0], region=None
        )
        kanwil = self._user(regional, is_staff=True)
        StaffMembership.objects.get_or_create(
            user=kanwil, role=StaffMembership.Role.REGIONAL, office=None, region=regions["JATIM"]
        )
        self._user(admin, is_staff=True, is_superuser=True)

    def seed_demo_applicant(self):
        """The demo applicant's own past: a passport collected last month, and his wife's
        appointment at Kanim Kediri next week, both listed with their son on the account.
        Only on the first run (an account with applications keeps what it has)."""
        user = User.objects.get(email=DEMO_ACCOUNTS[0][0])
        if user.applications.exists():
            return
        kediri = Office.objects.get(code="kanim-kediri")
        today = timezone.now().astimezone(kediri.tzinfo).date()
        online = Slot.objects.filter(office=kediri, pool=Pool.ONLINE)
        past = (
            online.filter(date__lte=today - dt.timedelta(days=30), taken__lt=F("capacity"))
            .order_by("-starts_at")
            .first()
        )
        ahead = (
            online.filter(date__gte=today + dt.timedelta(days=5), opens_at__lte=timezone.now(), taken__lt=F("capacity"))
            .order_by("starts_at")
            .first()
        )
        wife = Applicant.objects.create(
            account=user,
            nik=build_nik(birth_date=dt.date(1990, 4, 17), sex="F", region="357101", serial=44),
            full_name="Ratna Santoso",
            birth_date=dt.date(1990, 4, 17),
            sex="F",
            phone="081234567891",
        )
        Applicant.objects.create(
            account=user,
            nik=build_nik(birth_date=dt.date(2016, 9, 3), sex="M", region="357101", serial=45),
            full_name="Dimas Santoso",
            birth_date=dt.date(2016, 9, 3),
            sex="M",
        )
        budi = {
            "nik": build_nik(birth_date=dt.date(1986, 1, 12), sex="M", region="357101", serial=43),
            "full_name": user.full_name,
            "birth_date": dt.date(1986, 1, 12),
            "sex": "M",
            "phone": user.phone,
        }
        ratna = {f: getattr(wife, f) for f in ("nik", "full_name", "birth_date", "sex", "phone")}
        for slot, person, status, applicant in (
            (past, budi, Status.COLLECTED, None),
            (ahead, ratna, Status.BOOKED, wife),
        ):
            if slot is None:
                continue
            booked_at = min(slot.opens_at + dt.timedelta(hours=5), timezone.now())
            new_application(
                slot=slot,
                applicant=ApplicantData(**person),
                passport_type="electronic",
                validity_years=10,
                kind="new" if status == Status.BOOKED else "replacement_expired",
                express=False,
                status=status,
                account=user,
                applicant_id=applicant.pk if applicant else None,
                payment_due_at=booked_at + dt.timedelta(hours=2),
                paid_at=booked_at + dt.timedelta(minutes=20),
                checked_in_at=slot.starts_at + dt.timedelta(minutes=25) if status == Status.COLLECTED else None,
                queue_number="A-012" if status == Status.COLLECTED else "",
            ).save(force_insert=True)
            Slot.objects.filter(pk=slot.pk).update(taken=F("taken") + 1)
        self.stdout.write(f"  + {user.email}: two applications, three people")

    def _user(self, account, **extra) -> User:
        email, password, full_name, _role = account
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name, email_verified=True, **extra
            )
            self.stdout.write(f"  + {email}")
        else:
            self.stdout.write(f"  = {email}")
        return user


# Same-day service (percepatan) places per day and the latest check-in for same-day issue, as
# Batam keeps 35 a day beside its regular and priority places.
SAME_DAY_SERVICE = {"kanim-surabaya": (35, dt.time(11, 0))}


def create_demo_slots(
    *, offices: dict[str, tuple[Office, dict]], days: int, history_days: int = HISTORY_DAYS, stdout=None
) -> int:
    """Give each office its weekday rules (a programme for the kind-limited weekend sessions),
    its release schedule, and generate its slots for `days` days with the quota generator.
    The rules are in force from `history_days` back, so the history has its sessions too.
    Holidays close the offices as they would in production. Idempotent."""
    created = 0
    for office, sessions in offices.values():
        week = {
            weekday: [
                SessionSpec(
                    dt.time.fromisoformat(s.start),
                    dt.time.fromisoformat(s.end),
                    0 if s.walk_in else s.capacity,
                    0 if s.walk_in else max(5, s.capacity // 10),  # the priority groups' own places
                    tuple(s.kinds),
                    walk_in=s.capacity if s.walk_in else 0,
                )
                for s in day_sessions
            ]
            for weekday, day_sessions in sessions.items()
        }
        weekly = office.code in WEEKLY_RELEASE
        if weekly:
            kind = ReleaseSchedule.Kind.WEEKLY
        elif office.code in TWICE_MONTHLY_RELEASE:
            kind = ReleaseSchedule.Kind.TWICE_MONTHLY
        else:
            kind = ReleaseSchedule.Kind.ROLLING
        plan = set_up_office_quotas(
            office=office,
            week=week,
            release_kind=kind,
            release_weekday=4,  # Friday 14:00 for the next week
            release_time=dt.time(14) if weekly else dt.time(9),
            release_mode=ReleaseMode.DRAW if office.code in DRAW_RELEASE else ReleaseMode.FIRST_COME,
            entry_window_hours=7 * 24,
            days_before=ROLLING_DAYS_BEFORE,
            horizon_days=days,
            valid_from=timezone.now().astimezone(office.tzinfo).date() - dt.timedelta(days=history_days + 1),
            same_day=SAME_DAY_SERVICE.get(office.code),
        )
        created += len(plan.create)
        if stdout:
            stdout.write(f"  sessions {office.code}: +{len(plan.create)}")
    return created
