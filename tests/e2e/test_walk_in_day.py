"""A walk-in day at Kediri, walked as its people would: an applicant's calendar shows the day as
"walk-in, no booking" with its hours and places left today; the day's page says to come without
booking; an officer registers a walk-in from that pool at the counter, with its own queue
number; the calendar then shows one place fewer. And an express booking's ticket shows the
latest check-in for same-day issue."""

import datetime as dt
import time

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from appointments.models import Application
from offices.models import StaffMembership
from quotas.models import Pool, Slot
from tests.e2e.conftest import check_accessibility, log_in
from tests.factories import OfficeFactory, SlotFactory, StaffMembershipFactory, UserFactory, applicant_data, book_one
from tests.staff_world import today_slot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def reload_until(page, locator, text: str, seconds: float = 6.0):
    """The availability pages may be cached for a second or two: reload until the text shows."""
    deadline = time.monotonic() + seconds
    while text not in (locator.inner_text() or "") and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    expect(locator).to_contain_text(text)


def test_the_calendar_shows_the_walk_in_day_and_the_counter_registers_from_its_pool(page, screenshot):
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    officer = UserFactory(email="petugas.kediri@example.com", full_name="Petugas Kediri", is_staff=True)
    StaffMembershipFactory(user=officer, role=StaffMembership.Role.OFFICER, office=kediri)
    pool = today_slot(kediri, pool=Pool.WALK_IN, capacity=30, hours=2)
    start, end = pool.local_start, pool.local_end
    hours = f"{start:%H:%M}–{end:%H:%M} WIB"

    page.goto(reverse("appointments:calendar", args=[kediri.code]) + f"?month={pool.date:%Y-%m}")
    cell = page.locator(f'a[data-date="{pool.date:%Y-%m-%d}"]')
    expect(cell).to_contain_text("walk-in")
    assert "Datang langsung, tanpa pemesanan" in (cell.get_attribute("aria-label") or "")
    notes = page.locator("section.walk-in-days")
    expect(notes).to_contain_text(hours)
    expect(notes).to_contain_text("sisa 30 tempat hari ini")
    check_accessibility(page)
    screenshot("1-calendar")

    cell.click()
    expect(page.locator("h2#walk-in-title")).to_have_text("Datang langsung, tanpa pemesanan")
    expect(page.locator(".walk-in-sessions")).to_contain_text(hours)
    expect(page.locator(".walk-in-sessions")).to_contain_text("sisa 30 tempat hari ini")
    expect(page.locator("a.session-link")).to_have_count(0)  # nothing to book
    check_accessibility(page)
    screenshot("2-day")

    # The officer registers a walk-in from the walk-in session's pool: no priority group needed.
    log_in(page, email=officer.email)
    page.goto("/staff/counter/")
    expect(page.locator("table.counter-sessions")).to_contain_text("30 / 30")
    person = applicant_data(full_name="Budi Santoso")
    slot_choice = page.locator("select[name=slot] option:checked")
    expect(slot_choice).to_contain_text("sesi datang langsung (sisa 30 tempat)")
    page.select_option("select[name=priority_group]", "")
    page.select_option("select[name=kind]", "new")
    page.fill("input[name=full_name]", person.full_name)
    page.fill("input[name=nik]", person.nik)
    page.fill("input[name=birth_date]", person.birth_date.isoformat())
    page.select_option("select[name=sex]", "M")
    page.select_option("select[name=passport_type]", "regular")
    page.select_option("select[name=validity_years]", "5")
    page.locator("#walk-in button[type=submit]").scroll_into_view_if_needed()
    screenshot("3-walk-in-form")
    page.click("#walk-in button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("C-001")
    expect(page.locator("table.counter-sessions")).to_contain_text("29 / 30")
    check_accessibility(page)
    screenshot("4-registered")
    application = Application.objects.get(nik=person.nik)
    assert application.walk_in and application.slot_id == pool.pk and application.queue_number == "C-001"
    assert Slot.objects.get(pk=pool.pk).taken == 1

    page.goto(reverse("appointments:calendar", args=[kediri.code]) + f"?month={pool.date:%Y-%m}")
    reload_until(page, page.locator("section.walk-in-days"), "sisa 29 tempat hari ini")
    screenshot("5-calendar-after")


def test_an_express_booking_shows_its_check_in_cut_off_on_the_ticket(page, screenshot):
    office = OfficeFactory(code="kanim-surabaya", name="Kantor Imigrasi Surabaya")
    session = SlotFactory(office=office, capacity=10)
    tz = office.tzinfo
    SlotFactory(
        office=office,
        pool=Pool.EXPRESS,
        capacity=35,
        starts_at=dt.datetime.combine(session.date, dt.time(0), tzinfo=tz),
        ends_at=dt.datetime.combine(session.date, dt.time(11, 30), tzinfo=tz),
        date=session.date,
    )
    applicant = UserFactory(email="budi@example.com")
    application = book_one(account=applicant, slot_id=session.pk, express=True)
    log_in(page, email=applicant.email)
    page.goto(reverse("appointments:confirmation", args=[application.booking_code]))
    expect(page.locator(".express-cut-off")).to_have_text(
        "Check-in paling lambat pukul 11:30 WIB agar paspor selesai hari yang sama."
    )
    check_accessibility(page)
    screenshot("ticket")
