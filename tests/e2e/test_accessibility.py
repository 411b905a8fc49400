"""Every page an applicant or a counter officer uses passes axe-core without a serious or
critical violation, on a phone, and a booking can be made with the keyboard alone."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Application, Status
from appointments.nik import build_nik
from offices.models import StaffMembership
from tests.e2e.conftest import check_accessibility, log_in, press_until_focused
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, StaffMembershipFactory, UserFactory
from tests.staff_world import today_slot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def session(office, days, **fields):
    start = dt.datetime.combine(
        timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days), dt.time(9), tzinfo=office.tzinfo
    )
    return SlotFactory(office=office, starts_at=start, date=start.date(), capacity=5, **fields)


def test_the_applicants_pages_pass_axe(page, screenshot):
    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    slot = session(office, 3)
    not_open = session(office, 4, opens_at=timezone.now() + dt.timedelta(days=2))
    user = UserFactory(email="ani@example.com", full_name="Ani Lestari")
    paid = ApplicationFactory(account=user, slot=slot, status=Status.BOOKED, paid_at=timezone.now())
    unpaid = ApplicationFactory(account=user, slot=slot, status=Status.PENDING_PAYMENT, kind="replacement_expired")

    for path in ("/", "/offices/", f"/offices/{office.code}/", f"/offices/{office.code}/{slot.date:%Y-%m-%d}/"):
        page.goto(path)
        check_accessibility(page)
    page.goto("/accounts/signup/")
    page.get_by_role("button", name="Buat akun").click()  # every field's error shown
    check_accessibility(page)
    screenshot("signup-errors")
    log_in(page, email=user.email)
    pages = [
        f"/book/{slot.pk}/",
        f"/book/{not_open.pk}/",
        f"/applications/{paid.booking_code}/",
        f"/applications/{unpaid.booking_code}/",
        f"/applications/{unpaid.booking_code}/pay/",
        f"/applications/{paid.booking_code}/reschedule/",
        f"/applications/{paid.booking_code}/cancel/",
        "/applications/",
        "/people/",
    ]
    for path in pages:
        page.goto(path)
        check_accessibility(page)
    page.goto(f"/book/{slot.pk}/")
    page.get_by_role("button", name="Pesan sesi ini").click()  # errors on the booking form
    expect(page.locator(".field-error").first).to_be_visible()
    check_accessibility(page)
    # The error sits below its input, clear of the input's border.
    nik, error = page.locator("input[name=nik]").bounding_box(), page.locator("#id_nik_error").bounding_box()
    assert error["y"] >= nik["y"] + nik["height"]
    screenshot("book-errors")
    page.goto(f"/applications/{unpaid.booking_code}/")
    expect(page.locator(".copy-button")).to_be_visible()
    screenshot("ticket")
    page.goto(f"/applications/{paid.booking_code}/cancel/")
    screenshot("cancel-paid")
    page.goto("/people/")
    screenshot("people")


def test_the_counter_pages_pass_axe(page, screenshot):
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    malang = OfficeFactory(code="kanim-malang", name="Kantor Imigrasi Malang")
    officer = UserFactory(email="petugas@example.com", is_staff=True)
    for office in (kediri, malang):
        StaffMembershipFactory(user=officer, role=StaffMembership.Role.OFFICER, office=office)
    online = today_slot(kediri, capacity=20)
    today_slot(kediri, pool="priority", capacity=5, start=online.starts_at)
    ApplicationFactory(slot=online, full_name="Dewi Lestari")

    log_in(page, email=officer.email)
    page.goto("/staff/counter/")
    check_accessibility(page)  # the choice of office
    page.get_by_role("button", name="Kantor Imigrasi Kediri").click()
    expect(page.locator("input[name=code]")).to_be_visible()
    check_accessibility(page)
    page.fill("input[name=code]", "TIDAKADA99")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    check_accessibility(page)
    screenshot("counter")


def follow(page):
    """Enter on the focused link or button, and wait for the page it opens."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_booking_is_made_with_the_keyboard_alone(page, screenshot):
    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    slot = session(office, 3)
    user = UserFactory(email="ani@example.com", full_name="Ani Lestari")
    page.goto("/accounts/login/")
    press_until_focused(page, "input[name=username]")
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type("Rahasia-Kuat-123")
    follow(page)
    expect(page.get_by_role("link", name="Permohonan saya").first).to_be_visible()

    press_until_focused(page, "nav a[href='/offices/']")
    follow(page)
    press_until_focused(page, f"a[href='/offices/{office.code}/']")
    follow(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Kantor Imigrasi Kediri")
    if page.locator(f"a[data-date='{slot.date:%Y-%m-%d}']").count() == 0:
        press_until_focused(page, "a[rel=next]")
        follow(page)
    press_until_focused(page, f"a[data-date='{slot.date:%Y-%m-%d}']")
    follow(page)
    press_until_focused(page, f"a[href='/book/{slot.pk}/']")
    follow(page)

    press_until_focused(page, "input[name=birth_date]")
    page.keyboard.type("08031992")  # a date field takes the digits in the locale's order
    birth = dt.date.fromisoformat(page.evaluate("document.activeElement.value"))
    press_until_focused(page, "input[name=nik]", key="Shift+Tab")
    page.keyboard.type(build_nik(birth_date=birth, sex="F", serial=7))
    press_until_focused(page, "input[name=sex]")
    # A radio group: the arrow keys move between its choices, Space picks one.
    while page.evaluate("document.activeElement.value") != "F":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    press_until_focused(page, "input[name=passport_type]")
    while page.evaluate("document.activeElement.value") != "electronic":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    press_until_focused(page, "main button[type=submit]")
    screenshot("keyboard-form")
    follow(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Sudah dipesan: sekarang bayar biayanya")
    application = Application.objects.get()
    assert (application.full_name, application.birth_date, application.sex) == ("Ani Lestari", birth, "F")
    assert application.passport_type == "electronic" and application.status == Status.PENDING_PAYMENT
    # The focus is visible where the keyboard is.
    press_until_focused(page, "a[href$='calendar.ics']")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    shadow = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert outline != "none" or shadow != "none"
    screenshot("keyboard-booked")
