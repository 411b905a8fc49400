"""Hoarding in the browser: an applicant whose holds expired again and again reads on the booking
page, on a phone, until when and why the account may not book; the Jawa Timur division opens
the review queue at its desk, inspects the flag and lifts it with a note; the applicant books."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AccountFlag
from appointments.services.hoarding import evaluate_hoarding
from appointments.services.lifecycle import release_expired_holds
from offices.models import StaffMembership
from tests.e2e.conftest import ARTIFACTS, capture, check_accessibility, log_in
from tests.factories import OfficeFactory, SlotFactory, StaffMembershipFactory, UserFactory, applicant_data, book_one

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_restricted_applicant_reads_why_and_a_regional_reviewer_lifts_the_flag(
    page, browser, live_server, screenshot
):
    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    slot = SlotFactory(office=office, capacity=10)
    applicant = UserFactory(email="sari@example.com", full_name="Sari Wulandari")
    for _ in range(3):  # three bookings left unpaid until they expired
        book_one(account=applicant, slot_id=slot.pk, now=timezone.now() - dt.timedelta(hours=3))
    release_expired_holds()
    (flag,) = evaluate_hoarding()
    reviewer = UserFactory(email="kanwil.jatim@example.com", is_staff=True)
    StaffMembershipFactory(user=reviewer, role=StaffMembership.Role.REGIONAL, office=None, region=office.region)

    # The applicant, on a phone: the booking page says until when and why, and shows no form.
    log_in(page, email=applicant.email)
    page.goto(f"/book/{slot.pk}/")
    restriction = page.locator("#restriction")
    expect(restriction).to_contain_text("WIB")
    expect(restriction).to_contain_text("30 hari")
    expect(page.get_by_role("button", name="Pesan sesi ini")).to_have_count(0)
    check_accessibility(page)
    screenshot("01-restricted-booking-page")

    # The regional division, at a desk: the queue, the flag, the decision.
    desk = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID", base_url=live_server.url)
    staff_page = desk.new_page()
    log_in(staff_page, email=reviewer.email)
    staff_page.goto("/admin/accounts/accountflag/")
    expect(staff_page.locator("#result_list tbody tr")).to_have_count(1)
    capture(staff_page, ARTIFACTS / "hoarding-02-review-queue.png", full_page=True)
    staff_page.locator("#result_list tbody tr a").first.click()
    expect(staff_page.locator("body")).to_contain_text(applicant.email)
    staff_page.fill("#id_note", "Sudah ditelepon: pembayaran gagal karena bank, bukan calo.")
    capture(staff_page, ARTIFACTS / "hoarding-03-flag.png", full_page=True)
    staff_page.locator("input[name=_lift]").click()
    expect(staff_page.locator(".messagelist")).to_be_visible()
    capture(staff_page, ARTIFACTS / "hoarding-04-lifted.png", full_page=True)
    desk.close()
    flag.refresh_from_db()
    assert (flag.state, flag.decided_by_id) == (AccountFlag.State.LIFTED, reviewer.pk)

    # The applicant books again.
    person = applicant_data()
    page.goto(f"/book/{slot.pk}/")
    page.fill("input[name=nik]", person.nik)
    page.fill("input[name=full_name]", person.full_name)
    page.fill("input[name=birth_date]", person.birth_date.isoformat())
    page.check(f"input[name=sex][value={person.sex}]")
    page.get_by_role("button", name="Pesan sesi ini").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Data pemohon")
    screenshot("05-booked-again")
    assert applicant.applications.filter(status="pending_payment").count() == 1
