"""The staff screens (Django's admin) on a 1280 px screen: every change list each staff role
opens fits without scrolling sideways, with rows in it; and an office head's walk through
the accounts, programme and release-schedule forms."""

import datetime as dt
import io
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.hoarding import Hit
from accounts.models import User
from accounts.services import raise_hoarding_flags
from allocation.draw import sha256_hex
from allocation.models import Offer, Release, Seeker, Waiting
from appointments.models import (
    Applicant,
    Application,
    DeletedDocuments,
    Notification,
    Payment,
    PriorityGroup,
    QueueState,
    Status,
)
from appointments.services.documents import record_document_view, upload_document
from offices.models import Incident, OfficeResources, PassportStock, StaffMembership, StockMessage, StockReceipt
from quotas.models import (
    DateOverride,
    ProgramSession,
    QuotaRule,
    ReleaseSchedule,
    SameDayService,
    ServiceProgram,
    SlotDrift,
    WalkInDay,
)
from reports.models import OfficeDay
from tests.documents import files
from tests.e2e.conftest import ARTIFACTS, capture, log_in
from tests.factories import ApplicationFactory, OfficeFactory, StaffMembershipFactory, UserFactory, applicant_data
from tests.staff_world import today_slot, world  # noqa: F401 - the offices and staff of the scoping tests

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}

# The change lists each role must find on the admin's index (each may see more).
OFFICE_LISTS = {
    "appointments/application",
    "appointments/applicant",
    "appointments/fee",
    "offices/office",
    "offices/officeresources",
    "offices/passportstock",
    "offices/region",
    "offices/incident",
    "offices/stockmessage",
    "quotas/quotarule",
    "quotas/serviceprogram",
    "quotas/dateoverride",
    "quotas/releaseschedule",
    "quotas/samedayservice",
    "quotas/slot",
    "quotas/slotdrift",
    "quotas/walkinday",
}
# What each kind of application asks, who of the staff opened which document, what retention deleted.
DOCUMENT_LISTS = {"appointments/requireddocument", "appointments/documentview", "appointments/deleteddocuments"}
EXPECTED_LISTS = {
    "kediri_officer": OFFICE_LISTS,
    "jatim_regional": OFFICE_LISTS | {"accounts/accountflag"},
    "kediri_head": OFFICE_LISTS | {"accounts/user", "offices/staffmembership"},
    "national": OFFICE_LISTS
    | {
        "accounts/user",
        "accounts/accountflag",
        "offices/staffmembership",
        "appointments/payment",
        "appointments/notification",
    }
    | DOCUMENT_LISTS,
    "superuser": OFFICE_LISTS
    | {
        "accounts/user",
        "accounts/accountflag",
        "offices/staffmembership",
        "appointments/payment",
        "appointments/notification",
        *DOCUMENT_LISTS,
        "reports/officeday",
        "auth/group",
        "axes/accessattempt",
        "axes/accesslog",
        "axes/accessfailurelog",
        "django_celery_beat/periodictask",
        "django_celery_beat/intervalschedule",
        "django_celery_beat/crontabschedule",
        "django_celery_beat/clockedschedule",
        "django_celery_beat/solarschedule",
    },
}

# How wide the results table is against the box that holds it, and how wide the page is.
MEASURE = """() => {
    const table = document.querySelector('#result_list');
    const box = table.closest('.results');
    return {table: table.scrollWidth, box: box.clientWidth, page: document.documentElement.scrollWidth,
            rows: table.querySelectorAll('tbody tr').length};
}"""


@pytest.fixture
def desktop(browser, live_server):
    """A 1280 x 800 page in Indonesian, as at an office desk."""
    context = browser.new_context(viewport=DESKTOP, locale="id-ID", base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def lists_with_rows(world):  # noqa: F811 - the fixture imported above
    """A few rows in every list, with the long names real offices and people have."""
    names = {
        world.kediri: "Kantor Imigrasi Kelas II Non-TPI Kediri",
        world.malang: "Kantor Imigrasi Kelas I TPI Malang",
        world.denpasar: "Kantor Imigrasi Kelas I Khusus TPI Denpasar",
    }
    for office, name in names.items():
        office.name = name
        office.save(update_fields=["name"])
    now = timezone.now()
    kediri = world.kediri

    # An incident every staff member sees: a flood closing Kediri, announced for tomorrow, and the
    # day after it served by walk-in, switched back.
    flood = Incident.objects.create(
        kind=Incident.Kind.OFFICE_CLOSED,
        scope=Incident.Scope.OFFICE,
        office=kediri,
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=2),
        message_id="Kantor tutup sementara karena banjir di sekitar gedung.",
        message_en="The office is closed for a flood around the building.",
        declared_by=world.kediri_head,
    )
    WalkInDay.objects.create(
        incident=flood,
        office=kediri,
        date=(now + dt.timedelta(days=1)).date(),
        switched_by=world.kediri_head,
        switched_back_at=now,
    )

    # Applications: a walk-in over 60 in the queue, a replacement awaiting payment, a listed person.
    priority = today_slot(kediri, pool="priority", capacity=5)
    elderly = applicant_data(birth_date=dt.date(1950, 3, 2), full_name="Raden Ajeng Sastrowardoyo Kusumaningrum")
    ApplicationFactory(
        slot=priority,
        nik=elderly.nik,
        full_name=elderly.full_name,
        birth_date=elderly.birth_date,
        kind="replacement_full",
        status=Status.CHECKED_IN,
        walk_in=True,
        priority_group=PriorityGroup.ELDERLY,
        queue_number="B-001",
        queue_state=QueueState.WAITING,
        checked_in_at=now,
    )
    ApplicationFactory(
        slot=world.kediri_slot, kind="replacement_expired", status=Status.PENDING_PAYMENT, full_name="Dewi Lestari"
    )
    person = Applicant.objects.create(
        account=world.kediri_app.account,
        nik=world.kediri_app.nik,
        full_name=world.kediri_app.full_name,
        birth_date=world.kediri_app.birth_date,
        sex=world.kediri_app.sex,
    )
    Application.objects.filter(pk=world.kediri_app.pk).update(applicant=person)
    messages = [  # a message sent, one not sent any more, one that failed
        {"template": "payment_received", "state": Notification.State.SENT, "sent_at": now},
        {"template": "booking_made", "state": Notification.State.SKIPPED, "skip_reason": "deadline_passed"},
        {"template": "reminder", "state": Notification.State.FAILED, "channel": Notification.Channel.WHATSAPP},
    ]
    applications = Application.objects.order_by("pk")[: len(messages)]
    for n, (application, message) in enumerate(zip(applications, messages, strict=True)):
        Payment.objects.create(
            application=application,
            transaction_id=f"dev-{uuid.uuid4().hex}",  # as the development gateway of `make run` names them
            gateway="simponi",
            amount=application.amount,
            paid_at=now,
            late=n == 1,
        )
        message.setdefault("channel", Notification.Channel.EMAIL)
        Notification.objects.create(
            application=application, recipient="pemohon.dengan.alamat.panjang@example.com", attempts=3, **message
        )

    # Quotas: rules, a Saturday programme, a closed day, one release schedule of each kind, drifts.
    for office in (kediri, world.malang, world.denpasar):
        for weekday in (0, 5):
            QuotaRule.objects.create(
                office=office,
                weekday=weekday,
                start_time=dt.time(8),
                end_time=dt.time(10),
                online_capacity=30,
                priority_capacity=5,
                valid_from=dt.date(2026, 1, 1),
                valid_to=dt.date(2026, 12, 31),
            )
        program = ServiceProgram.objects.create(
            office=office,
            name="Layanan Paspor Simpatik Akhir Pekan",
            date_from=dt.date(2026, 1, 1),
            date_to=dt.date(2026, 12, 31),
            weekdays=[5, 6],
            allowed_kinds=["new", "replacement_expired"],
        )
        ProgramSession.objects.create(program=program, start_time=dt.time(8), end_time=dt.time(12), online_capacity=30)
        DateOverride.objects.create(
            office=office, date=dt.date(2026, 8, 17), closed=True, reason="Hari Kemerdekaan Republik Indonesia"
        )
    kinds = (ReleaseSchedule.Kind.ROLLING, ReleaseSchedule.Kind.WEEKLY, ReleaseSchedule.Kind.MONTHLY)
    for office, kind in zip((kediri, world.malang, world.denpasar), kinds, strict=True):
        ReleaseSchedule.objects.create(office=office, kind=kind)
    ReleaseSchedule.objects.create(office=world.malang_ulp, kind=ReleaseSchedule.Kind.ROLLING)
    for office in (kediri, world.malang, world.denpasar):
        SameDayService.objects.create(office=office, places_per_day=35, check_in_by=dt.time(11, 30))
    for office in (kediri, world.malang, world.denpasar):  # a release by draw in each list
        Release.objects.create(
            office=office,
            entries_open_at=now - dt.timedelta(days=3),
            entries_close_at=now + dt.timedelta(days=1),
            sessions_from=dt.date(2026, 12, 1),
            sessions_to=dt.date(2026, 12, 31),
            opens_at=now + dt.timedelta(days=8),
            seed="0" * 64,
            seed_sha256=sha256_hex("0" * 64),
        )
    for slot in (world.kediri_slot, priority, world.malang_slot, world.denpasar_slot):
        SlotDrift.objects.create(slot=slot, recorded_taken=3, actual_taken=2, corrected=True)

    # Staff and facilities.
    for office in (kediri, world.malang, world.denpasar):
        OfficeResources.objects.create(
            office=office, verifiers=3, biometric_operators=4, biometric_stations=3, printers=1, saturday_ready=True
        )
    # Passport books: both types at each office, one not issued, a delivery, a low-stock alert.
    for office in (kediri, world.malang, world.denpasar):
        for passport_type in ("regular", "electronic"):
            stock = PassportStock.objects.create(
                office=office,
                passport_type=passport_type,
                on_hand=1250,
                booked_ahead=412,
                closed_from=dt.date(2026, 12, 14),
                issued=not (office == world.denpasar and passport_type == "electronic"),
            )
            StockReceipt.objects.create(
                stock=stock,
                books=1500,
                reference="SJ/DITJENIM/2026/11/004512",
                received_on=timezone.localdate(),
                recorded_by=world.kediri_officer,
            )
        StockMessage.objects.create(
            stock=stock,
            channel=StockMessage.Channel.EMAIL,
            recipient="kepala.kantor.dengan.alamat.panjang@example.com",
            template="low_stock",
            state=StockMessage.State.SENT,
            sent_at=now,
        )
    # Documents: a file sent, opened at the counter; a night's deletions.
    document = upload_document(
        application=world.kediri_app,
        requirement_code="birth_diploma_marriage",
        file=io.BytesIO(files.png()),
        file_name="Akta kelahiran Raden Ajeng Sastrowardoyo Kusumaningrum.png",
    )
    record_document_view(document=document, office_id=kediri.pk, viewer=world.kediri_officer)
    DeletedDocuments.objects.create(office=kediri, date=timezone.localdate(), reason="closed", count=12)
    # The waiting list: a household waiting, another offered a place given back.
    for _n in range(2):
        waiting = Waiting.objects.create(
            office=kediri,
            account=world.kediri_app.account,
            date_from=world.kediri_slot.date,
            date_to=world.kediri_slot.date + dt.timedelta(days=13),
        )
        Seeker.objects.create(
            waiting=waiting,
            **applicant_data(full_name="Raden Ajeng Sastrowardoyo Kusumaningrum").as_fields(),
            passport_type="electronic",
            validity_years=10,
            kind="replacement_expired",
        )
    Offer.objects.create(
        waiting=waiting,
        slot=world.kediri_slot,
        places=1,
        given_back_at=now - dt.timedelta(seconds=2),
        offered_at=now,
        expires_at=now + dt.timedelta(minutes=30),
    )

    # Reports: a few days of figures.
    for office in (kediri, world.malang, world.denpasar):
        for days in range(3):
            OfficeDay.objects.create(
                office=office,
                date=timezone.localdate() - dt.timedelta(days=days),
                online_offered=130,
                online_taken=124,
                booked=139,
                no_show=7,
                sellout_minutes=42,
                computed_at=now,
            )
    # Hoarding flags: a phone behind many NIKs (restricting), sign-ups from one address (a flag only).
    raise_hoarding_flags(
        hits={
            "niks_per_phone": [Hit(account_id=world.kediri_app.account_id, count=9, subject="081234567890")],
            "accounts_per_address": [
                Hit(account_id=world.denpasar_app.account_id, count=23, subject="2001:db8:85a3::8a2e:370:7334")
            ],
        }
    )
    _superuser_only_rows()
    return world


def _superuser_only_rows():
    """Rows in the lists of the libraries only a superuser opens: groups, sign-in logs, jobs."""
    from axes.models import AccessAttempt, AccessFailureLog
    from django.contrib.auth.models import Group
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    Group.objects.create(name="Petugas loket")
    browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/145.0.0.0 Safari/537.36"
    email = "petugas.kediri@example.com"
    AccessAttempt.objects.create(
        username=email,
        ip_address="10.20.30.40",
        user_agent=browser,
        path_info="/accounts/login/",
        failures_since_start=3,
    )
    AccessFailureLog.objects.create(
        username=email, ip_address="10.20.30.40", user_agent=browser, path_info="/accounts/login/"
    )
    every_15_s = IntervalSchedule.objects.create(every=15, period=IntervalSchedule.SECONDS)
    nightly = CrontabSchedule.objects.create(minute="30", hour="17")
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    SolarSchedule.objects.create(event="sunrise", latitude=-7.8, longitude=112.0)
    PeriodicTask.objects.create(
        name="appointments-deliver-outbox", task="appointments.tasks.deliver_outbox", interval=every_15_s
    )
    PeriodicTask.objects.create(
        name="reports-refresh-office-days",
        task="reports.tasks.refresh_office_days_task",
        crontab=nightly,
        last_run_at=timezone.now(),
    )


@pytest.mark.parametrize("role", list(EXPECTED_LISTS))
def test_every_change_list_fits_a_1280_px_screen(desktop, lists_with_rows, role):
    user = getattr(lists_with_rows, role)
    log_in(desktop, email=user.email)
    desktop.goto("/admin/")
    links = desktop.eval_on_selector_all("#content-main tr[class^=model-] th a", "links => links.map(a => a.pathname)")
    lists = {href.removeprefix("/admin/").strip("/") for href in links}
    assert EXPECTED_LISTS[role] <= lists, f"missing from {role}'s index: {EXPECTED_LISTS[role] - lists}"

    ARTIFACTS.mkdir(exist_ok=True)
    too_wide = {}
    for name in sorted(lists):
        desktop.goto(f"/admin/{name}/")
        figures = desktop.evaluate(MEASURE)
        capture(desktop, ARTIFACTS / f"admin-1280-{role}-{name.replace('/', '-')}.png")
        assert figures["rows"] >= 1, f"{name} is empty for {role}: nothing to measure"
        if figures["table"] > figures["box"] or figures["page"] > DESKTOP["width"]:
            too_wide[name] = figures
    assert not too_wide, f"change lists wider than a 1280 px screen for {role}: {too_wide}"


def test_an_office_head_manages_an_officer_a_programme_and_a_release_schedule(desktop, browser, live_server):
    shot = _screenshots(desktop, "admin-walk")
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kelas II Non-TPI Kediri")
    malang = OfficeFactory(code="kanim-malang", name="Kantor Imigrasi Kelas I TPI Malang", city="Malang")
    head = UserFactory(email="kepala.kediri@example.com", full_name="Hendro Wibisono", is_staff=True)
    StaffMembershipFactory(user=head, role=StaffMembership.Role.HEAD, office=kediri)
    today = timezone.localdate()
    program = ServiceProgram.objects.create(
        office=kediri,
        name="Layanan Paspor Simpatik Akhir Pekan",
        date_from=today + dt.timedelta(days=1),
        date_to=today + dt.timedelta(days=30),
        weekdays=[5],
    )
    ProgramSession.objects.create(program=program, start_time=dt.time(8), end_time=dt.time(12), online_capacity=30)
    ReleaseSchedule.objects.create(office=kediri, kind=ReleaseSchedule.Kind.ROLLING, days_before=14)

    # The head creates a counter officer's account for Kediri: the only office offered.
    log_in(desktop, email=head.email)
    desktop.goto("/admin/")
    desktop.get_by_role("link", name="Pengguna", exact=True).click()
    desktop.get_by_role("link", name="Tambahkan pengguna").click()
    expect(desktop.locator("select[name=office]")).to_be_visible()
    offered = desktop.locator("select[name=office] option").all_inner_texts()
    assert kediri.name in offered and malang.name not in offered
    desktop.fill("input[name=email]", "petugas.baru@example.com")
    desktop.fill("input[name=full_name]", "Sri Wahyuni")
    desktop.fill("input[name=phone]", "081234567891")
    desktop.select_option("select[name=office]", label=kediri.name)
    desktop.fill("input[name=password1]", "Loket-Kediri-2026")
    desktop.fill("input[name=password2]", "Loket-Kediri-2026")
    shot("1-new-officer")
    desktop.get_by_role("button", name="Simpan", exact=True).click()
    expect(desktop.locator(".messagelist .success")).to_be_visible()
    officer = User.objects.get(email="petugas.baru@example.com")
    assert officer.is_staff and officer.is_active and not officer.is_superuser
    assert [(m.role, m.office_id) for m in officer.memberships.all()] == [(StaffMembership.Role.OFFICER, kediri.pk)]

    # The new officer signs in and reaches the counter.
    context = browser.new_context(viewport=DESKTOP, locale="id-ID", base_url=live_server.url)
    officer_page = context.new_page()
    log_in(officer_page, email=officer.email, password="Loket-Kediri-2026")
    officer_page.goto("/staff/counter/")
    expect(officer_page.locator("input[name=code]")).to_be_visible()

    # The head disables the account: the officer's open session ends with it.
    expect(desktop.locator("#id_password")).to_have_count(0)  # heads never handle passwords
    expect(desktop.locator("#id_is_superuser")).to_have_count(0)
    desktop.uncheck("#id_is_active")
    shot("2-disable-officer")
    desktop.get_by_role("button", name="Simpan", exact=True).click()
    expect(desktop.locator("#result_list")).to_contain_text("petugas.baru@example.com")
    shot("3-officer-disabled")
    officer.refresh_from_db()
    assert not officer.is_active
    officer_page.goto("/staff/counter/")
    assert "/accounts/login/" in officer_page.url
    context.close()

    # The Saturday programme also opens on Sundays, for new passports and expired ones only.
    desktop.goto("/admin/quotas/serviceprogram/")
    desktop.get_by_role("link", name=program.name).click()
    expect(desktop.get_by_label("Sabtu", exact=True)).to_be_checked()
    desktop.get_by_label("Minggu", exact=True).check()
    desktop.get_by_label("Paspor baru", exact=True).check()
    desktop.get_by_label("Penggantian: habis masa berlaku", exact=True).check()
    shot("4-programme-checkboxes")
    desktop.get_by_role("button", name="Simpan", exact=True).click()
    expect(desktop.locator("#result_list")).to_contain_text("Sabtu, Minggu")
    shot("5-programme-saved")
    program.refresh_from_db()
    assert program.weekdays == [5, 6] and program.allowed_kinds == ["new", "replacement_expired"]

    # A rolling release schedule shows the rolling field only, and the rule in words.
    desktop.goto("/admin/quotas/releaseschedule/")
    expect(desktop.locator("#result_list")).to_contain_text("setiap tanggal 14 hari sebelumnya")
    desktop.locator("#result_list").get_by_role("link", name=kediri.name).click()
    desktop.wait_for_load_state()
    expect(desktop.locator("input[name=days_before]")).to_be_visible()
    expect(desktop.locator("select[name=weekday]")).to_be_hidden()
    expect(desktop.locator("input[name=day_of_month]")).to_be_hidden()
    shot("6-rolling-schedule")
    desktop.select_option("select[name=kind]", "weekly")  # another kind: its field instead
    expect(desktop.locator("select[name=weekday]")).to_be_visible()
    expect(desktop.locator("input[name=days_before]")).to_be_hidden()
    shot("7-weekly-fields")


def _screenshots(page, prefix):
    ARTIFACTS.mkdir(exist_ok=True)
    return lambda name: capture(page, ARTIFACTS / f"{prefix}-{name}.png", full_page=True)
