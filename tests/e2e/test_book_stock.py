"""Blank passport books in the browser (docs/book-stock.md): an applicant filters the offices by
passport type, finds Kediri's e-paspor closed from a day with the reason on the calendar and on
the booking form; Kediri's officer records a delivery on the counter's books page; the type
reopens and the applicant books it."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Application, Status
from appointments.services.stock import refresh_stock_outlook
from offices.models import PassportStock, StaffMembership
from offices.services import set_type_issued
from tests.e2e.conftest import ARTIFACTS, PHONE, capture, check_accessibility, log_in
from tests.factories import (
    ApplicationFactory,
    OfficeFactory,
    SlotFactory,
    StaffMembershipFactory,
    UserFactory,
    applicant_data,
)


def fill_booking(page, person):
    page.fill("input[name=nik]", person.nik)
    page.fill("input[name=full_name]", person.full_name)
    page.fill("input[name=birth_date]", person.birth_date.isoformat())
    page.check(f"input[name=sex][value={person.sex}]")
    page.select_option("select[name=application_kind]", "new")
    page.check("input[name=passport_type][value=electronic]")
    page.check("input[name=validity_years][value='10']")
    page.get_by_role("button", name="Pesan sesi ini").click()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_closed_type_reopens_when_the_office_records_a_delivery(page, browser, live_server, screenshot):
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    blitar = OfficeFactory(code="kanim-blitar", name="Kantor Imigrasi Blitar", city="Blitar")
    set_type_issued(office=blitar, passport_type="electronic", issued=False)
    officer = UserFactory(email="petugas.kediri@example.com", full_name="Sri Wahyuni", is_staff=True)
    StaffMembershipFactory(user=officer, role=StaffMembership.Role.OFFICER, office=kediri)
    start = timezone.now().astimezone(kediri.tzinfo).replace(hour=9, minute=0, second=0, microsecond=0)
    start += dt.timedelta(days=4)
    slot = SlotFactory(
        office=kediri, starts_at=start, ends_at=start + dt.timedelta(hours=2), date=start.date(), capacity=20
    )
    # One e-paspor book left, and one e-paspor booking on the day: closed from that day.
    PassportStock.objects.create(office=kediri, passport_type="electronic", on_hand=1)
    ApplicationFactory(slot=slot, passport_type="electronic")
    refresh_stock_outlook(office_id=kediri.pk, passport_type="electronic")
    applicant = UserFactory(email="siti@example.com", full_name="Siti Aminah")

    # The office list, filtered by e-paspor, hides Blitar, which issues none.
    page.goto("/offices/")
    names = page.locator(".office-name")
    expect(names).to_have_text(["Kantor Imigrasi Blitar", "Kantor Imigrasi Kediri"])
    page.select_option("select[name=passport_type]", "electronic")
    page.get_by_role("button", name="Tampilkan kantor").click()
    expect(names).to_have_text(["Kantor Imigrasi Kediri"])
    check_accessibility(page)
    screenshot("1-offices-electronic")

    # Kediri's calendar says from when e-paspor cannot be booked, and why.
    names.first.click()
    note = page.locator(".type-note")
    expect(note).to_contain_text("Elektronik (e-paspor)")
    expect(note).to_contain_text("habis dipesan")
    check_accessibility(page)
    screenshot("2-calendar-note")

    # The booking form refuses e-paspor on that day, at the passport type, and stores nothing.
    log_in(page, email=applicant.email)
    page.goto(f"/book/{slot.pk}/")
    person = applicant_data(full_name="Siti Aminah", sex="F", birth_date=dt.date(1992, 3, 4))
    fill_booking(page, person)
    expect(page.locator("main")).to_contain_text("tidak lagi memiliki blangko buku paspor")
    assert not Application.objects.filter(nik=person.nik).exists()
    screenshot("3-booking-refused")

    # The officer records a delivery of 50 books on the counter's books page.
    desk = browser.new_context(viewport=PHONE, locale="id-ID", base_url=live_server.url, is_mobile=True)
    desk.set_default_timeout(15_000)
    staff_page = desk.new_page()
    try:
        log_in(staff_page, email=officer.email)
        staff_page.goto("/staff/counter/stock/")
        electronic = staff_page.locator(".stock-line[data-type=electronic]")
        expect(electronic.locator(".stock-state")).to_contain_text("ditutup mulai")
        staff_page.select_option("select[name=passport_type]", "electronic")
        staff_page.fill("input[name=books]", "50")
        staff_page.fill("input[name=reference]", "SJ-KDR/2026/041")
        staff_page.get_by_role("button", name="Catat pengiriman").click()
        expect(staff_page.locator(".message-success")).to_contain_text("SJ-KDR/2026/041")
        expect(electronic.locator(".on-hand")).to_have_text("51")
        expect(electronic.locator(".stock-state")).to_have_text("terbuka")
        expect(staff_page.locator("table.stock-receipts")).to_contain_text("Sri Wahyuni")
        check_accessibility(staff_page)
        capture(staff_page, _artifact("4-delivery-recorded"), full_page=True)
        # The same delivery note twice is refused at its field and adds nothing.
        staff_page.select_option("select[name=passport_type]", "electronic")
        staff_page.fill("input[name=books]", "50")
        staff_page.fill("input[name=reference]", "SJ-KDR/2026/041")
        staff_page.get_by_role("button", name="Catat pengiriman").click()
        expect(staff_page.locator("main")).to_contain_text("sudah dicatat")
        assert PassportStock.objects.get(office=kediri, passport_type="electronic").on_hand == 51
    finally:
        desk.close()

    # The type has reopened: the calendar has no note, and the booking goes through.
    page.goto(f"/offices/{kediri.code}/")
    expect(page.locator(".type-note")).to_have_count(0)
    page.goto(f"/book/{slot.pk}/")
    fill_booking(page, person)
    page.wait_for_url(lambda url: "/book/" not in url)
    booked = Application.objects.get(nik=person.nik)
    assert (booked.passport_type, booked.status) == ("electronic", Status.PENDING_PAYMENT)
    screenshot("5-booked-after-delivery")


def _artifact(name):
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"test_a_closed_type_reopens_when_the_office_records_a_delivery-{name}.png"
