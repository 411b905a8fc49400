"""Supporting documents, walked as the people who use them: an applicant on a phone sends the
e-KTP photo with the file chooser, sees a renamed program refused, and sends again after the
connection drops without choosing the file anew; at the counter the officer checks the booking
in, opens the documents, rejects the photo with a reason; the applicant reads it and sends a new
one, which the officer accepts."""

import pytest
from playwright.sync_api import expect

from appointments.models import ApplicationDocument, DocumentStatus, DocumentView
from offices.models import StaffMembership
from tests.documents import files
from tests.e2e.conftest import ARTIFACTS, capture, check_accessibility, log_in
from tests.factories import ApplicationFactory, OfficeFactory, StaffMembershipFactory, UserFactory
from tests.staff_world import today_slot

DESKTOP = {"width": 1280, "height": 800}


def choose_file(page, label: str, path) -> None:
    """Tap the field's label and pick the file in the chooser, as a person does on a phone."""
    with page.expect_file_chooser() as chooser:
        page.locator("#requirement-e_ktp").get_by_text(label).click()
    chooser.value.set_files(str(path))


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_applicant_sends_documents_by_phone_and_the_officer_rejects_one_and_accepts_the_new_one(
    page, browser, live_server, screenshot, tmp_path
):
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    officer = UserFactory(email="petugas.kediri@example.com", full_name="Petugas Kediri", is_staff=True)
    StaffMembershipFactory(user=officer, role=StaffMembership.Role.OFFICER, office=kediri)
    applicant = UserFactory(email="pemohon@example.com")
    application = ApplicationFactory(account=applicant, slot=today_slot(kediri), full_name="Dewi Lestari", kind="new")
    blurred, sharp, program = tmp_path / "ktp-buram.jpg", tmp_path / "ktp-jelas.jpg", tmp_path / "foto.jpg"
    blurred.write_bytes(files.jpeg(size=(1600, 1200), noisy=True))
    sharp.write_bytes(files.jpeg(size=(1200, 900)))
    program.write_bytes(files.windows_program())

    # The applicant's phone: the application's page lists what a new passport needs.
    log_in(page, email=applicant.email)
    page.goto(f"/applications/{application.booking_code}/")
    documents = page.locator("#documents")
    expect(documents.locator(".document-item")).to_have_count(3)
    expect(documents).to_contain_text("e-KTP (kartu tanda penduduk elektronik)")
    ktp = page.locator("#requirement-e_ktp")
    ktp.scroll_into_view_if_needed()
    check_accessibility(page)
    screenshot("1-documents-asked")

    # A program renamed .jpg: refused in place, nothing stored.
    choose_file(page, "Pilih foto atau PDF", program)
    ktp.get_by_role("button", name="Kirim", exact=True).click()
    expect(ktp.locator(".upload-outcome[role=alert]")).to_contain_text("apa pun namanya")
    assert not ApplicationDocument.objects.exists()
    screenshot("2-renamed-program-refused")

    # The connection drops during the upload: the file stays chosen and "Coba lagi" sends it.
    page.route("**/documents/", lambda route: route.abort("connectionreset"))
    choose_file(page, "Pilih foto atau PDF", blurred)
    ktp.get_by_role("button", name="Kirim", exact=True).click()
    retry = ktp.get_by_role("button", name="Coba lagi")
    expect(retry).to_be_visible()
    expect(ktp.locator(".upload-message")).to_contain_text("koneksi mungkin terputus")
    screenshot("3-connection-dropped")
    page.unroute("**/documents/")
    retry.click()
    ktp = page.locator("#requirement-e_ktp")
    expect(ktp.locator(".upload-outcome[role=status]")).to_contain_text("Terkirim")
    expect(ktp.locator(".document-file")).to_contain_text("ktp-buram.jpg")
    expect(ktp.locator(".doc-status")).to_have_text("Menunggu pemeriksaan loket")
    check_accessibility(page)
    screenshot("4-sent")
    first = ApplicationDocument.objects.get()
    assert first.original_name == "ktp-buram.jpg" and first.status == DocumentStatus.PENDING

    # The counter, on a laptop: check in by code, then the documents from the answer's link.
    desk = browser.new_context(viewport=DESKTOP, locale="id-ID", base_url=live_server.url)
    counter = desk.new_page()
    log_in(counter, email=officer.email)
    counter.goto("/staff/counter/")
    expect(counter.locator("input[name=code]")).to_be_focused()  # the scanner types only once the field has focus
    counter.keyboard.type(application.booking_code)
    counter.keyboard.press("Enter")
    result = counter.locator("#check-in-result")
    expect(result).to_contain_text("A-001")
    result.get_by_role("link", name="Periksa dokumen").click()
    expect(counter.locator("h1")).to_have_text("Dokumen")
    with counter.expect_popup() as opened:
        counter.get_by_role("link", name="ktp-buram.jpg").click()
    opened.value.close()
    assert DocumentView.objects.get().viewer == officer
    counter.get_by_label("Alasan penolakan").fill("Foto buram, NIK tidak terbaca")
    counter.get_by_role("button", name="Tolak ktp-buram.jpg").click()
    expect(counter.locator(".message-success")).to_contain_text("ktp-buram.jpg ditolak")
    expect(counter.locator(".doc-reason")).to_contain_text("Foto buram, NIK tidak terbaca")
    check_accessibility(counter)
    capture(counter, ARTIFACTS / "documents-5-counter-rejected.png", full_page=True)

    # The applicant reads why and sends a sharper photo.
    page.reload()
    ktp = page.locator("#requirement-e_ktp")
    expect(ktp.locator(".doc-reason")).to_contain_text("Foto buram, NIK tidak terbaca")
    expect(ktp.locator(".message-error")).to_contain_text("silakan kirim ulang")
    ktp.scroll_into_view_if_needed()
    screenshot("6-rejection-read")
    choose_file(page, "Kirim berkas lain", sharp)
    ktp.get_by_role("button", name="Kirim", exact=True).click()
    expect(page.locator("#requirement-e_ktp .document-file")).to_have_count(2)
    screenshot("7-sent-again")

    # The officer accepts the new one.
    counter.reload()
    counter.get_by_role("button", name="Terima ktp-jelas.jpg").click()
    expect(counter.locator(".message-success")).to_contain_text("ktp-jelas.jpg diterima")
    capture(counter, ARTIFACTS / "documents-8-counter-accepted.png", full_page=True)
    desk.close()
    statuses = dict(ApplicationDocument.objects.values_list("original_name", "status"))
    assert statuses == {"ktp-buram.jpg": DocumentStatus.REJECTED, "ktp-jelas.jpg": DocumentStatus.ACCEPTED}
