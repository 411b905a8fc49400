"""A Kediri counter officer's morning: check in a booked applicant by code (as a QR scanner
types it), register a walk-in from the priority pool, and find Malang's data out of reach."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from appointments.models import Application, Status
from offices.models import StaffMembership
from quotas.models import Slot
from tests.e2e.conftest import log_in
from tests.factories import ApplicationFactory, OfficeFactory, StaffMembershipFactory, UserFactory, applicant_data
from tests.staff_world import today_slot


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_kediri_officer_checks_in_registers_a_walk_in_and_cannot_open_malang(page, screenshot):
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    malang = OfficeFactory(code="kanim-malang", name="Kantor Imigrasi Malang", city="Malang")
    officer = UserFactory(email="petugas.kediri@example.com", full_name="Petugas Kediri", is_staff=True)
    StaffMembershipFactory(user=officer, role=StaffMembership.Role.OFFICER, office=kediri)
    online = today_slot(kediri, capacity=20)
    priority = today_slot(kediri, pool="priority", capacity=5, start=online.starts_at)
    booked = ApplicationFactory(slot=online, full_name="Dewi Lestari")
    malang_app = ApplicationFactory(slot=today_slot(malang), full_name="Rahasia Malang")

    log_in(page, email=officer.email)
    expect(page.get_by_role("link", name="Loket")).to_be_visible()  # logged in; staff see the counter link
    page.goto("/staff/counter/")
    code_input = page.locator("input[name=code]")
    expect(code_input).to_be_focused()
    expect(page.locator("table.counter-sessions tbody tr")).to_have_count(1)
    screenshot("1-counter")

    # The scanner types the code and presses Enter; htmx shows the queue number in place.
    page.keyboard.type(booked.booking_code.lower())
    page.keyboard.press("Enter")
    expect(page.locator("#check-in-result")).to_contain_text("A-001")
    expect(page.locator("#check-in-result")).to_contain_text("Dewi Lestari")
    expect(code_input).to_have_value("")
    expect(code_input).to_be_focused()
    screenshot("2-checked-in")
    booked.refresh_from_db()
    assert booked.status == Status.CHECKED_IN and booked.queue_number == "A-001"

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
    screenshot("3-walk-in-form")
    page.click("#walk-in button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("B-001")
    expect(page.locator("table.counter-sessions tbody tr td").nth(4)).to_have_text("4 / 5")
    screenshot("4-walk-in-registered")
    walk_in = Application.objects.get(nik=person.nik)
    assert walk_in.walk_in and walk_in.slot_id == priority.pk
    assert Slot.objects.get(pk=online.pk).taken == 1  # only the booked applicant's place

    # Malang's application, opened by editing the address: not found, nothing shown.
    response = page.goto(f"/admin/appointments/application/{malang_app.pk}/change/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Rahasia Malang")
    screenshot("5-malang-refused")
    # Its own application is there, with the full NIK for the office's staff.
    page.goto(f"/admin/appointments/application/{booked.pk}/change/")
    expect(page.locator("body")).to_contain_text(booked.nik)
    screenshot("6-own-application")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
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
    screenshot("1-lost-passport")
    page.click("#walk-in button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text(
        "Yang dibayar: Rp1.350.000 (biaya Rp350.000 dan denda Rp1.000.000)."
    )
    screenshot("2-fine-to-pay")
    application = Application.objects.get(nik=lost.nik)
    assert (application.amount, application.fine, application.force_majeure) == (1_350_000, 1_000_000, False)

    # A passport damaged in a flood: force majeure, no fine.
    fill_walk_in(flooded, "damaged")
    page.get_by_label("Keadaan kahar (force majeure): tanpa denda").check()
    page.click("#walk-in button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("Yang dibayar: Rp350.000 (keadaan kahar: tanpa denda).")
    screenshot("3-force-majeure")
    assert Application.objects.get(nik=flooded.nik).fine == 0

    # The application in the admin shows the fine beside the amount.
    page.goto(f"/admin/appointments/application/{application.pk}/change/")
    expect(page.locator(".field-fine")).to_contain_text("1000000")
    screenshot("4-application")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/staff/counter/#walk-in")
    screenshot("5-desktop-counter")
