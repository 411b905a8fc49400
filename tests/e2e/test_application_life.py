"""An applicant's application from booking to cancellation, in the browser (phone, Indonesian)."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Application, Payment, Status
from appointments.services import book_application
from quotas.models import Slot
from tests.e2e.conftest import log_in
from tests.factories import OfficeFactory, SlotFactory, UserFactory, applicant_data


def session(office, days):
    start = dt.datetime.combine(timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days),
                                dt.time(9), tzinfo=office.tzinfo)
    return SlotFactory(office=office, starts_at=start, date=start.date(), capacity=5)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.PAYMENT_DEV_GATEWAY = True


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_book_pay_reschedule_once_cancel(page, screenshot):
    office = OfficeFactory(name="Kantor Imigrasi Kediri", timezone="Asia/Jakarta")
    first, second, third = session(office, 3), session(office, 5), session(office, 6)
    user = UserFactory(email="ani@example.com")
    # The booking itself (the web flow's form is not on this branch yet): through the service.
    application = book_application(account=user, slot_id=first.pk, applicant=applicant_data(full_name="Ani Lestari"),
                                   passport_type="electronic", validity_years=5, kind="new")

    log_in(page, email=user.email)
    page.goto("/applications/")
    screenshot("0-list")
    page.click(f"text={application.booking_code}")
    assert page.locator("[data-status]").get_attribute("data-status") == "pending_payment"
    assert "WIB" in page.inner_text("main")
    screenshot("1-detail-pending")

    page.get_by_role("button", name="Bayar", exact=True).click()
    screenshot("2-pay")
    page.get_by_role("button", name="Bayar Rp650.000").click()
    page.wait_for_selector("[data-status=booked]")
    assert "Pembayaran diterima" in page.inner_text("main")
    screenshot("3-booked")

    page.get_by_role("button", name="Ubah tanggal").click()
    page.check(f"input[name=slot][value='{second.pk}']")
    screenshot("4-reschedule")
    page.get_by_role("button", name="Pindahkan jadwal saya").click()
    page.wait_for_selector("text=Jadwal Anda telah dipindahkan")
    assert page.get_by_role("button", name="Ubah tanggal").count() == 0  # the only change is used
    screenshot("5-moved")

    page.goto(f"/applications/{application.booking_code}/reschedule/")  # a second try, by hand
    page.wait_for_selector("text=Tanggal permohonan hanya dapat diubah sekali")
    screenshot("6-second-reschedule-refused")

    page.get_by_role("button", name="Batalkan jadwal").click()
    page.get_by_role("button", name="Ya, batalkan").click()
    page.wait_for_selector("[data-status=cancelled]")
    screenshot("7-cancelled")

    application.refresh_from_db()
    assert application.status == Status.CANCELLED and application.slot_id == second.pk
    assert Payment.objects.get(application=application).gateway == "dev"
    assert [Slot.objects.get(pk=s.pk).taken for s in (first, second, third)] == [0, 0, 0]
    assert list(application.events.values_list("to_status", flat=True)) == [
        "pending_payment", "booked", "booked", "cancelled"]
