"""An application's life in the browser (phone, Indonesian): the account's person is picked on
the booking form, paid through the development gateway, moved once, refused a second move,
and cancelled."""

import datetime as dt

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from appointments.models import Applicant, Application, Payment, Status
from appointments.nik import build_nik
from quotas.models import Slot
from tests.e2e.conftest import check_accessibility, log_in
from tests.factories import OfficeFactory, SlotFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def session(office, days):
    start = dt.datetime.combine(
        timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days), dt.time(9), tzinfo=office.tzinfo
    )
    return SlotFactory(office=office, starts_at=start, date=start.date(), capacity=5)


def test_person_books_pays_reschedules_once_and_cancels(page, screenshot):
    office = OfficeFactory(name="Kantor Imigrasi Kediri", timezone="Asia/Jakarta")
    first, second, third = session(office, 3), session(office, 5), session(office, 6)
    user = UserFactory(email="ani@example.com", full_name="Ani Lestari")
    child_birth = dt.date(2015, 6, 2)

    log_in(page, email=user.email)
    # The account's people: add a child.
    page.goto("/people/")
    page.fill("input[name=full_name]", "Bima Lestari")
    page.fill("input[name=nik]", build_nik(birth_date=child_birth, sex="M", serial=3))
    page.fill("input[name=birth_date]", child_birth.isoformat())
    page.check("input[name=sex][value=M]")
    page.get_by_role("button", name="Tambah orang").click()
    expect(page.get_by_text("Bima Lestari", exact=True)).to_be_visible()
    check_accessibility(page)
    screenshot("1-people")

    # The booking form: pick the person, the form fills in.
    page.goto(f"/book/{first.pk}/")
    page.locator(".person-picker").get_by_role("link", name="Bima Lestari").click()
    expect(page.locator("input[name=full_name]")).to_have_value("Bima Lestari")
    page.fill("input[name=phone]", "081234567890")
    page.check("input[name=passport_type][value=electronic]")
    page.check("input[name=validity_years][value='5']")
    check_accessibility(page)
    screenshot("2-book-for-person")
    page.get_by_role("button", name="Pesan sesi ini").click()

    application = Application.objects.get()
    assert application.applicant == Applicant.objects.get(full_name="Bima Lestari")
    expect(page.locator(".status-pending_payment")).to_be_visible()
    check_accessibility(page)
    screenshot("3-pending")

    page.get_by_role("button", name="Bayar", exact=True).click()
    expect(page.get_by_role("button", name="Bayar Rp650.000")).to_be_visible()
    check_accessibility(page)
    screenshot("4-pay")
    page.get_by_role("button", name="Bayar Rp650.000").click()
    expect(page.locator(".ticket .status-booked")).to_be_visible()
    expect(page.locator(".timeline li")).to_have_count(2)
    check_accessibility(page)
    screenshot("5-booked")

    page.get_by_role("button", name="Ubah tanggal").click()
    page.check(f"input[name=slot][value='{second.pk}']")
    check_accessibility(page)
    screenshot("6-reschedule")
    page.get_by_role("button", name="Pindahkan jadwal saya").click()
    expect(page.get_by_text("Jadwal Anda telah dipindahkan")).to_be_visible()
    expect(page.get_by_role("button", name="Ubah tanggal")).to_have_count(0)  # the one change is used
    check_accessibility(page)
    screenshot("7-moved")

    page.goto(f"/applications/{application.booking_code}/reschedule/")  # a second try, by hand
    with translation.override("id"):
        refusal = gettext("The date of an application can be changed only once.")
    expect(page.get_by_text(refusal)).to_be_visible()
    check_accessibility(page)
    screenshot("8-second-reschedule-refused")

    page.get_by_role("link", name="Batalkan permohonan ini").click()
    check_accessibility(page)
    page.get_by_role("button", name="Ya, batalkan").click()
    expect(page.get_by_role("link", name=application.booking_code)).to_be_visible()
    expect(page.locator(".status-cancelled")).to_be_visible()
    check_accessibility(page)
    screenshot("9-cancelled")

    application.refresh_from_db()
    assert application.status == Status.CANCELLED and application.slot_id == second.pk
    assert Payment.objects.get(application=application).gateway == "dev"
    assert [Slot.objects.get(pk=s.pk).taken for s in (first, second, third)] == [0, 0, 0]
    assert list(application.events.values_list("to_status", flat=True)) == [
        "pending_payment",
        "booked",
        "booked",
        "cancelled",
    ]
