"""A contested NIK in the browser, on phones: its owner is refused a booking because someone else
booked with the NIK, follows the refusal to the dispute page and sends the birth date and a photo
of the e-KTP; an officer of the office that holds the application compares the photo with it and
upholds the dispute, flagging the account that booked; the owner reads the outcome and books."""

import pytest
from playwright.sync_api import expect

from accounts.models import AccountFlag, AccountMessage
from appointments.models import DocumentView, NikDispute, Status
from offices.models import StaffMembership
from tests.documents import files
from tests.e2e.conftest import ARTIFACTS, PHONE, capture, check_accessibility, log_in
from tests.factories import (
    ApplicationFactory,
    OfficeFactory,
    SlotFactory,
    StaffMembershipFactory,
    UserFactory,
    applicant_data,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_squatted_owner_contests_and_the_office_upholds(page, browser, live_server, screenshot):
    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    slot = SlotFactory(office=office, capacity=10)
    owner = UserFactory(email="dewi@example.com", full_name="Dewi Lestari")
    owner_data = applicant_data(full_name="Dewi Lestari", sex="F")
    broker = UserFactory(email="calo@example.com", full_name="Akun Calo")
    squatted = ApplicationFactory(
        account=broker, slot=slot, nik=owner_data.nik, full_name="Dewi L", birth_date=owner_data.birth_date, sex="F"
    )
    officer = UserFactory(email="petugas.kediri@example.com", full_name="Petugas Kediri", is_staff=True)
    StaffMembershipFactory(user=officer, role=StaffMembership.Role.OFFICER, office=office)

    # The owner, on a phone: the booking is refused, and the refusal says how to contest.
    log_in(page, email=owner.email)
    page.goto(f"/book/{slot.pk}/")
    page.fill("input[name=nik]", owner_data.nik)
    page.fill("input[name=full_name]", owner_data.full_name)
    page.fill("input[name=birth_date]", owner_data.birth_date.isoformat())
    page.check("input[name=sex][value=F]")
    page.get_by_role("button", name="Pesan sesi ini").click()
    expect(page.locator("main")).to_contain_text("Sengketakan NIK")
    expect(page.locator("main")).not_to_contain_text(squatted.booking_code)
    screenshot("01-refused-with-the-way-to-contest")
    page.locator("#contest-nik a").click()

    # The dispute page: a wrong birth date is refused on its field, then the claim goes through.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sengketakan NIK")
    check_accessibility(page)
    page.fill("input[name=nik]", owner_data.nik)
    page.fill("input[name=birth_date]", owner_data.birth_date.replace(day=owner_data.birth_date.day + 1).isoformat())
    photo = {"name": "ktp-dewi.jpg", "mimeType": "image/jpeg", "buffer": files.jpeg(size=(1200, 760))}
    page.set_input_files("input[name=photo]", files=photo)
    page.get_by_role("button", name="Kirim sengketa").click()
    expect(page.locator(".field-error")).to_contain_text("Tanggal lahir tidak cocok")
    assert not NikDispute.objects.exists()
    screenshot("02-wrong-birth-date")
    page.fill("input[name=birth_date]", owner_data.birth_date.isoformat())
    page.set_input_files("input[name=photo]", files=photo)
    page.get_by_role("button", name="Kirim sengketa").click()
    expect(page.locator("#my-disputes")).to_contain_text("Menunggu pemeriksaan kantor")
    expect(page.locator("#my-disputes")).to_contain_text(squatted.masked_nik)
    check_accessibility(page)
    screenshot("03-dispute-sent")

    # The officer, on a phone too: the queue, the claim beside the application, the photo.
    staff = browser.new_context(viewport=PHONE, locale="id-ID", base_url=live_server.url, is_mobile=True)
    staff_page = staff.new_page()
    log_in(staff_page, email=officer.email)
    staff_page.goto("/staff/disputes/")
    expect(staff_page.locator("#open-disputes")).to_contain_text(squatted.masked_nik)
    check_accessibility(staff_page)
    capture(staff_page, shot("04-review-queue"), full_page=True)
    staff_page.locator("#open-disputes a").first.click()
    expect(staff_page.locator("main")).to_contain_text(squatted.booking_code)
    photo_shown = staff_page.locator("img.dispute-photo")
    expect(photo_shown).to_be_visible()
    staff_page.wait_for_function("() => document.querySelector('img.dispute-photo').complete")
    assert staff_page.evaluate("() => document.querySelector('img.dispute-photo').naturalWidth") > 0
    check_accessibility(staff_page)
    capture(staff_page, shot("05-the-claim"), full_page=True)
    expect(staff_page.locator("#flag-account")).to_be_checked()
    staff_page.fill("#uphold-note", "Foto e-KTP cocok dengan data kependudukan.")
    staff_page.get_by_role("button", name="Terima: NIK ini milik pengaju").click()
    expect(staff_page.locator(".message-success")).to_contain_text("Sengketa diterima")
    capture(staff_page, shot("06-upheld"), full_page=True)
    staff.close()

    squatted.refresh_from_db()
    assert squatted.status == Status.CANCELLED
    assert AccountFlag.objects.filter(account=broker, rule="disputed_niks").exists()
    assert AccountMessage.objects.filter(user=owner, template="nik_dispute_upheld").exists()
    assert DocumentView.objects.filter(viewer=officer, booking_code=squatted.booking_code).exists()

    # The owner reads the outcome and books with the NIK.
    page.goto("/nik-disputes/")
    expect(page.locator("#my-disputes")).to_contain_text("Diterima")
    screenshot("07-outcome")
    page.goto(f"/book/{slot.pk}/")
    page.fill("input[name=nik]", owner_data.nik)
    page.fill("input[name=full_name]", owner_data.full_name)
    page.fill("input[name=birth_date]", owner_data.birth_date.isoformat())
    page.check("input[name=sex][value=F]")
    page.get_by_role("button", name="Pesan sesi ini").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Data pemohon")
    assert owner.applications.filter(nik=owner_data.nik, status=Status.PENDING_PAYMENT).exists()


def shot(name: str):
    """Where the screenshot of a page of another browser context (the officer's) goes."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"nik-dispute-{name}.png"


def test_the_waiting_list_and_the_draw_refuse_a_squatted_nik_with_the_way_to_contest(page, screenshot):
    """The owner of a NIK that a broker booked tries the waiting list, then a draw: both refuse in
    the booking's words, with the button to the dispute page, and nothing about the booking."""
    from tests.allocation.helpers import open_release

    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    full = SlotFactory(office=office, capacity=1)
    owner_data = applicant_data(full_name="Dewi Lestari", sex="F")
    squatted = ApplicationFactory(
        slot=full, nik=owner_data.nik, full_name="Dewi L", birth_date=owner_data.birth_date, sex="F"
    )
    release, _slots = open_release(office=OfficeFactory(code="kanim-blitar", name="Kantor Imigrasi Blitar"))
    owner = UserFactory(email="dewi@example.com", full_name="Dewi Lestari")

    def fill_person():
        page.fill("input[name=person-0-nik]", owner_data.nik)
        page.fill("input[name=person-0-full_name]", owner_data.full_name)
        page.fill("input[name=person-0-birth_date]", owner_data.birth_date.isoformat())
        page.check("input[name=person-0-sex][value=F]")
        page.fill("input[name=person-0-phone]", "081234567890")
        page.check("input[name=person-0-validity_years][value='5']")

    def refused_with_the_way_to_contest(name: str):
        expect(page.locator("main")).to_contain_text("Sengketakan NIK")
        expect(page.locator("#contest-nik a")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text(squatted.booking_code)
        check_accessibility(page)
        screenshot(name)

    log_in(page, email=owner.email)
    page.goto(f"/waiting/{office.code}/join/?from={full.date}&to={full.date}")
    fill_person()
    page.get_by_role("button", name="Masuk daftar tunggu").click()
    refused_with_the_way_to_contest("01-waiting-list-refused")

    page.goto(f"/draws/releases/{release.pk}/enter/")
    fill_person()
    page.select_option("select[name=choice_1]", index=1)
    page.get_by_role("button", name="Ikut undian").click()
    refused_with_the_way_to_contest("02-draw-entry-refused")
    page.locator("#contest-nik a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sengketakan NIK")
