"""One walk through the applicant's whole path on a phone, in Indonesian."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Application, Status
from appointments.nik import build_nik
from quotas.models import Slot
from tests.e2e.conftest import check_accessibility, log_in
from tests.factories import OfficeFactory, RegionFactory, SlotFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_up_log_in_verify_book_and_see_the_confirmation(page, screenshot, mailoutbox):
    region = RegionFactory()
    office = OfficeFactory(
        code="kanim-kediri", name="Kantor Imigrasi Kelas II Non-TPI Kediri", city="Kediri", region=region
    )
    OfficeFactory(
        code="kanim-denpasar",
        name="Kantor Imigrasi Kelas I TPI Denpasar",
        city="Denpasar",
        timezone="Asia/Makassar",
        region=RegionFactory(code="BALI", name="Bali", province_code="51"),
    )
    slot = SlotFactory(office=office, capacity=30)
    SlotFactory(office=office, capacity=30, starts_at=slot.starts_at + dt.timedelta(hours=2))
    # A date further away whose quota is not open yet.
    later = SlotFactory(
        office=office, starts_at=slot.starts_at + dt.timedelta(days=1), opens_at=timezone.now() + dt.timedelta(days=2)
    )

    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "id"
    check_accessibility(page)
    screenshot("01-home")
    page.get_by_role("button", name="Mulai booking").click()

    expect_heading(page, "Pilih kantor")
    check_accessibility(page)
    screenshot("02-offices")
    page.get_by_role("link", name=re.compile("Kantor Imigrasi Kelas II Non-TPI Kediri")).click()

    # The calendar opens on this month; the session may be in the next one.
    if page.locator(f"a[data-date='{slot.date:%Y-%m-%d}']").count() == 0:
        page.locator("a[rel=next]").click()
    day_link = page.locator(f"a[data-date='{slot.date:%Y-%m-%d}']")
    assert "day-free" in day_link.locator("xpath=..").get_attribute("class")
    if later.date.month == slot.date.month:
        assert page.get_by_text("Kuota dibuka").first.is_visible()
    check_accessibility(page)
    screenshot("03-calendar")
    day_link.click()

    check_accessibility(page)
    screenshot("04-day")
    page.locator(f"a[href='/book/{slot.pk}/']").click()

    # Not logged in: the login page, from which the applicant signs up.
    expect_heading(page, "Masuk")
    check_accessibility(page)
    page.get_by_role("link", name="Daftar").last.click()
    expect_heading(page, "Buat akun")
    check_accessibility(page)
    page.fill("input[name=email]", "siti@example.com")
    page.fill("input[name=full_name]", "Siti Aminah")
    page.fill("input[name=phone]", "0812-3456-7890")
    page.fill("input[name=password1]", "Rahasia-Kuat-123")
    page.fill("input[name=password2]", "Rahasia-Kuat-123")
    screenshot("05-signup")
    page.get_by_role("button", name="Buat akun").click()

    # The same page whether or not the address had an account: the next step is in the e-mail.
    expect_heading(page, "Periksa e-mail Anda")
    assert page.get_by_text("siti@example.com").is_visible()
    check_accessibility(page)
    screenshot("06-check-email")
    assert len(mailoutbox) == 1
    page.locator("main").get_by_role("button", name="Masuk").click()
    expect_heading(page, "Masuk")
    page.fill("input[name=username]", "siti@example.com")
    page.fill("input[name=password]", "Rahasia-Kuat-123")
    page.locator("main form button[type=submit]").click()

    expect_heading(page, "Verifikasi e-mail Anda")
    code = re.search(r"\b(\d{6})\b", mailoutbox[0].body).group(1)
    page.fill("input[name=code]", "000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Verifikasi").click()
    assert page.locator(".field-error").is_visible()
    check_accessibility(page)
    screenshot("07-verify-wrong-code")
    page.fill("input[name=code]", code)
    page.get_by_role("button", name="Verifikasi").click()

    # Back at the chosen session's form.
    expect_heading(page, "Data pemohon")
    check_accessibility(page)
    birth = dt.date(1992, 3, 8)
    page.fill("input[name=nik]", build_nik(birth_date=birth, sex="F", serial=7))
    page.fill("input[name=full_name]", "Siti Aminah")
    page.fill("input[name=birth_date]", birth.isoformat())
    page.check("input[name=sex][value=F]")
    page.select_option("select[name=application_kind]", "new")
    page.check("input[name=passport_type][value=electronic]")
    page.check("input[name=validity_years][value='10']")
    screenshot("08-form")
    page.get_by_role("button", name="Pesan sesi ini").click()

    expect_heading(page, "Sudah dipesan: sekarang bayar biayanya")
    application = Application.objects.get()
    assert application.status == Status.PENDING_PAYMENT
    assert page.locator(".booking-code").inner_text() == application.booking_code
    qr = page.locator("img.qr")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.get_by_text("Rp950.000").is_visible()
    assert "WIB" in page.locator(".deadline").inner_text()
    assert Slot.objects.get(pk=slot.pk).taken == 1
    check_accessibility(page)
    screenshot("09-confirmation")

    page.get_by_role("link", name="Permohonan saya").first.click()
    screenshot("10-my-applications")
    assert page.get_by_text(application.booking_code).is_visible()
    check_accessibility(page)
    screenshot("09-my-applications")


def test_a_married_minor_may_choose_ten_years(page, screenshot):
    """The booking form asks whether the applicant is married: a 16-year-old gets 10 years only
    when married (the counter checks the marriage book)."""
    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri", city="Kediri")
    slot = SlotFactory(office=office, capacity=5)
    user = UserFactory(email="rina@example.com", full_name="Rina Wati")
    born = dt.date(slot.date.year - 16, 2, 14)
    log_in(page, email=user.email)

    page.goto(f"/book/{slot.pk}/")
    page.fill("input[name=nik]", build_nik(birth_date=born, sex="F", serial=9))
    page.fill("input[name=full_name]", "Rina Wati")
    page.fill("input[name=birth_date]", born.isoformat())
    page.check("input[name=sex][value=F]")
    page.fill("input[name=phone]", "081234567890")
    page.check("input[name=passport_type][value=electronic]")
    page.check("input[name=validity_years][value='10']")
    expect(page.get_by_text("kecuali sudah menikah")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Pesan sesi ini").click()

    refusal = "Pemohon di bawah 17 tahun yang belum menikah hanya bisa mendapat paspor 5 tahun."
    expect(page.locator(".field-error", has_text=refusal)).to_be_visible()
    assert not Application.objects.exists()
    check_accessibility(page)
    screenshot("1-unmarried-minor-refused")

    married = page.get_by_label("Sudah menikah")
    expect(married).not_to_be_checked()
    married.check()
    screenshot("2-married-ticked")
    page.get_by_role("button", name="Pesan sesi ini").click()

    expect_heading(page, "Sudah dipesan: sekarang bayar biayanya")
    application = Application.objects.get()
    assert (application.validity_years, application.married) == (10, True)
    assert page.get_by_text("Rp950.000").is_visible()
    expect(page.get_by_text("Menyatakan sudah menikah: bawa buku nikah.")).to_be_visible()
    check_accessibility(page)
    screenshot("3-booked")


def expect_heading(page, text):
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
