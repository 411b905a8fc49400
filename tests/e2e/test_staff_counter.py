"""A Kediri counter officer's morning: check in a booked applicant by code (as a QR scanner
types it), see every refusal in red in place of the last answer, register a walk-in (a wrong
priority group refused at its field), find Malang's data out of reach; then call the queue to
a desk while the waiting-room screen follows."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from appointments.models import Application, Status
from appointments.services.counter import check_in_application, register_walk_in
from appointments.services.queue import mark_served
from offices.models import StaffMembership
from quotas.models import Slot
from tests.e2e.conftest import ARTIFACTS, capture, check_accessibility, log_in
from tests.factories import ApplicationFactory, OfficeFactory, StaffMembershipFactory, UserFactory, applicant_data
from tests.staff_world import today_slot

DESKTOP = {"width": 1280, "height": 800}
TV = {"width": 1920, "height": 1080}


def kediri_with_officer():
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri", counter_count=3)
    officer = UserFactory(email="petugas.kediri@example.com", full_name="Petugas Kediri", is_staff=True)
    StaffMembershipFactory(user=officer, role=StaffMembership.Role.OFFICER, office=kediri)
    return kediri, officer


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_kediri_officer_checks_in_sees_each_refusal_registers_a_walk_in_and_cannot_open_malang(page, screenshot):
    kediri, officer = kediri_with_officer()
    malang = OfficeFactory(code="kanim-malang", name="Kantor Imigrasi Malang", city="Malang")
    online = today_slot(kediri, capacity=20)
    priority = today_slot(kediri, pool="priority", capacity=5, start=online.starts_at)
    booked = ApplicationFactory(slot=online, full_name="Dewi Lestari")
    in_three_days = ApplicationFactory(slot__office=kediri, full_name="Rina Wati")
    malang_app = ApplicationFactory(slot=today_slot(malang), full_name="Rahasia Malang")

    log_in(page, email=officer.email)
    expect(page.get_by_role("link", name="Loket")).to_be_visible()  # logged in; staff see the counter link
    page.goto("/staff/counter/")
    code_input = page.locator("input[name=code]")
    result = page.locator("#check-in-result")
    expect(code_input).to_be_focused()
    expect(page.locator("table.counter-sessions tbody tr")).to_have_count(1)
    check_accessibility(page)
    screenshot("1-counter")

    # The scanner types the code and presses Enter; htmx shows the queue number in place.
    page.keyboard.type(booked.booking_code.lower())
    page.keyboard.press("Enter")
    expect(result.locator(".message-success[role=status]")).to_contain_text("A-001")
    expect(result).to_contain_text("Dewi Lestari")
    expect(code_input).to_have_value("")
    expect(code_input).to_be_focused()
    expect(page.locator("table.counter-sessions tbody td").nth(2)).to_have_text("1")  # present
    check_accessibility(page)
    screenshot("2-checked-in")
    booked.refresh_from_db()
    assert booked.status == Status.CHECKED_IN and booked.queue_number == "A-001"

    # Each refusal replaces the green box with its own red one, and the next scan can follow.
    refusals = [
        (booked.booking_code, "Dewi Lestari sudah check-in, nomor antrean A-001.", "3-second-check-in"),
        ("TIDAKADA99", "Tidak ada pemesanan dengan kode TIDAKADA99 di kantor ini.", "4-unknown-code"),
        (in_three_days.booking_code, "bukan hari ini", "5-another-day"),
    ]
    for code, reason, name in refusals:
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        expect(result.locator(".message-error[role=alert]")).to_contain_text(reason)
        expect(result.locator(".message-success")).to_have_count(0)
        expect(code_input).to_have_value("")
        expect(code_input).to_be_focused()
        check_accessibility(page)
        screenshot(name)
    assert Application.objects.get(pk=in_three_days.pk).status == Status.BOOKED

    # A man born in 1990 is not "over 60": refused at the field, nothing registered.
    young = applicant_data(birth_date=dt.date(1990, 1, 1), full_name="Bukan Lansia")
    page.select_option("select[name=priority_group]", "elderly")
    page.select_option("select[name=kind]", "new")
    page.fill("input[name=full_name]", young.full_name)
    page.fill("input[name=nik]", young.nik)
    page.fill("input[name=birth_date]", "1990-01-01")
    page.select_option("select[name=sex]", "M")
    page.click("#walk-in button[type=submit]")
    expect(page.locator("#walk-in small.field-error")).to_contain_text("60 tahun ke atas")
    page.locator("#walk-in small.field-error").scroll_into_view_if_needed()
    check_accessibility(page)
    screenshot("6-walk-in-wrong-group")
    assert not Application.objects.filter(nik=young.nik).exists()

    # A walk-in over 60, from the priority pool.
    person = applicant_data(birth_date=dt.date(1950, 3, 2), full_name="Mbah Sastro")
    page.select_option("select[name=priority_group]", "elderly")
    page.select_option("select[name=kind]", "new")
    page.fill("input[name=full_name]", person.full_name)
    page.fill("input[name=nik]", person.nik)
    page.fill("input[name=birth_date]", "1950-03-02")
    page.select_option("select[name=sex]", "M")
    page.select_option("select[name=passport_type]", "regular")
    page.select_option("select[name=validity_years]", "5")
    screenshot("7-walk-in-form")
    page.click("#walk-in button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("B-001")
    cells = page.locator("table.counter-sessions tbody td")
    expect(cells.nth(2)).to_have_text("2")  # present: the booked applicant and the walk-in
    expect(cells.nth(3)).to_have_text("1")  # of whom walk-ins
    expect(cells.nth(5)).to_have_text("4 / 5")
    check_accessibility(page)
    screenshot("8-walk-in-registered")
    walk_in = Application.objects.get(nik=person.nik)
    assert walk_in.walk_in and walk_in.slot_id == priority.pk
    assert Slot.objects.get(pk=online.pk).taken == 1  # only the booked applicant's place

    # Malang's application, opened by editing the address: not found, nothing shown.
    response = page.goto(f"/admin/appointments/application/{malang_app.pk}/change/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Rahasia Malang")
    check_accessibility(page)  # the portal's own 404 page
    screenshot("9-malang-refused")
    # Its own application is there, with the full NIK for the office's staff.
    page.goto(f"/admin/appointments/application/{booked.pk}/change/")
    expect(page.locator("body")).to_contain_text(booked.nik)
    screenshot("10-own-application")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_desk_calls_the_queue_while_the_waiting_room_screen_follows(page, browser, live_server, screenshot, request):
    kediri, officer = kediri_with_officer()
    online = today_slot(kediri, capacity=20)
    priority = today_slot(kediri, pool="priority", capacity=5, start=online.starts_at)
    for name in ("Dewi Lestari", "Rina Wati", "Sri Rahayu"):
        check_in_application(application_id=ApplicationFactory(slot=online, full_name=name).pk)
    register_walk_in(
        office_id=kediri.pk,
        slot_id=priority.pk,
        applicant=applicant_data(birth_date=dt.date(1950, 3, 2), full_name="Mbah Sastro"),
        kind="new",
        priority_group="elderly",
        passport_type="regular",
        validity_years=5,
    )

    # The officer's phone first: the queue as it stands.
    log_in(page, email=officer.email)
    page.goto("/staff/counter/queue/")
    expect(page.locator("#queue-live")).to_contain_text("Menunggu: 4")
    check_accessibility(page)
    screenshot("1-queue-phone")
    screen_url = page.locator("a.screen-link").get_attribute("href")

    # The waiting-room TV: no login, numbers only.
    tv_context = browser.new_context(viewport=TV, locale="id-ID")
    tv = tv_context.new_page()
    tv.goto(screen_url)
    expect(tv.locator(".screen-now")).to_contain_text("Mohon menunggu")
    expect(tv.locator(".screen-waiting")).to_contain_text("4 orang menunggu")
    check_accessibility(tv)
    capture(tv, ARTIFACTS / f"{request.node.name}-2-screen-idle.png")

    # The desk, on a desktop browser.
    desk_context = browser.new_context(viewport=DESKTOP, locale="id-ID", base_url=live_server.url)
    desk = desk_context.new_page()
    log_in(desk, email=officer.email)
    desk.goto("/staff/counter/queue/")
    check_accessibility(desk)
    result = desk.locator("#queue-result")
    desk.select_option("#desk", "2")
    desk.click("#call-next-form button")
    expect(result.locator(".message-success[role=status]")).to_contain_text("A-001 dipanggil ke loket 2: Dewi Lestari")
    expect(desk.locator(".queue-called")).to_contain_text("A-001")
    check_accessibility(desk)
    capture(desk, ARTIFACTS / f"{request.node.name}-3-desk-called.png", full_page=True)

    # The screen follows by itself (it asks every 4 s).
    expect(tv.locator(".screen-now")).to_contain_text("A-001", timeout=10_000)
    expect(tv.locator(".screen-now")).to_contain_text("Loket 2")
    expect(tv.locator("body")).not_to_contain_text("Dewi")
    check_accessibility(tv)
    capture(tv, ARTIFACTS / f"{request.node.name}-4-screen-a001.png")

    # Dewi does not come: set aside; the next one in arrival order comes and is served.
    desk.get_by_role("button", name="Tidak menjawab A-001").click()
    expect(result).to_contain_text("A-001 tidak menjawab")
    desk.click("#call-next-form button")
    expect(result).to_contain_text("A-002 dipanggil ke loket 2: Rina Wati")
    desk.get_by_role("button", name="Selesai dilayani A-002").click()
    expect(result).to_contain_text("A-002 selesai dilayani")
    assert Application.objects.get(queue_number="A-002").status == Status.IN_PROCESS

    # Dewi is back: called again to this desk.
    desk.get_by_role("button", name="Panggil ke loket saya A-001").click()
    expect(result).to_contain_text("A-001 dipanggil lagi ke loket 2")
    expect(tv.locator(".screen-now")).to_contain_text("A-001", timeout=10_000)
    expect(tv.locator(".screen-before")).to_contain_text("A-002")
    expect(tv.locator(".screen-waiting")).to_contain_text("2 orang menunggu")
    capture(tv, ARTIFACTS / f"{request.node.name}-5-screen-recalled.png")
    check_accessibility(tv)

    # Another desk served her meanwhile: the stale button answers in red, in place.
    dewi = Application.objects.get(queue_number="A-001")
    mark_served(application_id=dewi.pk, office_id=kediri.pk)
    desk.get_by_role("button", name="Selesai dilayani A-001").click()
    expect(result.locator(".message-error[role=alert]")).to_contain_text("A-001 sedang tidak dipanggil")
    expect(result.locator(".message-success")).to_have_count(0)
    capture(desk, ARTIFACTS / f"{request.node.name}-6-desk-refused.png", full_page=True)
    check_accessibility(desk)

    desk_context.close()
    tv_context.close()


def test_walk_in_for_a_lost_passport_pays_its_fine_unless_force_majeure(page, screenshot):
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    officer = UserFactory(email="petugas.kediri@example.com", full_name="Petugas Kediri", is_staff=True)
    StaffMembershipFactory(user=officer, role=StaffMembership.Role.OFFICER, office=kediri)
    online = today_slot(kediri, capacity=20)
    today_slot(kediri, pool="priority", capacity=5, start=online.starts_at)
    lost, flooded = applicant_data(full_name="Hendra Gunawan"), applicant_data(full_name="Sri Rahayu", sex="F")

    def fill_walk_in(person, kind):
        page.select_option("select[name=priority_group]", "")
        page.select_option("select[name=kind]", kind)
        page.fill("input[name=full_name]", person.full_name)
        page.fill("input[name=nik]", person.nik)
        page.fill("input[name=birth_date]", person.birth_date.isoformat())
        page.select_option("select[name=sex]", person.sex)
        page.select_option("select[name=passport_type]", "regular")
        page.select_option("select[name=validity_years]", "5")

    log_in(page, email=officer.email)
    page.goto("/staff/counter/#walk-in")
    fill_walk_in(lost, "lost")
    expect(page.get_by_label("Keadaan kahar (force majeure): tanpa denda")).not_to_be_checked()
    check_accessibility(page)
    screenshot("1-lost-passport")
    page.click("#walk-in button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text(
        "Yang dibayar: Rp1.350.000 (biaya Rp350.000 dan denda Rp1.000.000)."
    )
    check_accessibility(page)
    screenshot("2-fine-to-pay")
    application = Application.objects.get(nik=lost.nik)
    assert (application.amount, application.fine, application.force_majeure) == (1_350_000, 1_000_000, False)

    # A passport damaged in a flood: force majeure, no fine.
    fill_walk_in(flooded, "damaged")
    page.get_by_label("Keadaan kahar (force majeure): tanpa denda").check()
    page.click("#walk-in button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("Yang dibayar: Rp350.000 (keadaan kahar: tanpa denda).")
    check_accessibility(page)
    screenshot("3-force-majeure")
    assert Application.objects.get(nik=flooded.nik).fine == 0

    # The application in the admin shows the fine beside the amount.
    page.goto(f"/admin/appointments/application/{application.pk}/change/")
    expect(page.locator(".field-fine")).to_contain_text("1000000")
    screenshot("4-application")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/staff/counter/#walk-in")
    check_accessibility(page)
    screenshot("5-desktop-counter")
