"""Coming earlier in the browser (phone, Indonesian): an applicant booked on a later date asks to
come earlier from tomorrow; nothing is free, so the household waits; someone else's earlier
booking is cancelled, the place given back moves the household, and the page shows the new date,
the move in the history, and no request left to stop."""

import datetime as dt

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from appointments.models import Application, Notification, Status
from appointments.services.lifecycle import cancel_application
from quotas.models import Slot
from tests.e2e.conftest import check_accessibility, log_in
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def session(office, days, capacity):
    start = dt.datetime.combine(
        timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days), dt.time(9), tzinfo=office.tzinfo
    )
    return SlotFactory(office=office, starts_at=start, date=start.date(), capacity=capacity)


def indonesian(value, fmt):
    with translation.override("id"):
        return formats.date_format(value, fmt)


def test_a_household_asks_to_come_earlier_waits_and_is_moved_when_a_place_comes_back(page, screenshot):
    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri", timezone="Asia/Jakarta")
    early, late = session(office, 2, capacity=1), session(office, 6, capacity=5)
    someone = ApplicationFactory(slot=early, status=Status.BOOKED)  # the only earlier place is taken
    user = UserFactory(email="ani@example.com", full_name="Ani Lestari")
    mine = ApplicationFactory(slot=late, account=user, status=Status.BOOKED, full_name="Ani Lestari")
    tomorrow = timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=1)

    log_in(page, email=user.email)
    page.goto(f"/applications/{mine.booking_code}/")
    section = page.locator("#earlier")
    expect(section.get_by_role("heading", name="Ingin datang lebih awal?")).to_be_visible()
    expect(section).to_contain_text("tidak memakai jatah satu kali ubah tanggal")
    date_input = section.get_by_label("Saya bisa datang mulai")
    expect(date_input).to_have_value(tomorrow.isoformat())  # the first date it may ask for
    expect(date_input).to_have_attribute("max", (late.date - dt.timedelta(days=1)).isoformat())
    check_accessibility(page)
    screenshot("1-ask")

    date_input.fill(tomorrow.isoformat())
    section.get_by_role("button", name="Minta jadwal lebih awal").click()
    expect(page.get_by_text("Permintaan diterima")).to_be_visible()
    expect(section.get_by_role("heading", name="Menunggu jadwal lebih awal")).to_be_visible()
    expect(section).to_contain_text(f"mulai {indonesian(tomorrow, 'j F Y')}")
    expect(section.get_by_role("button", name="Berhenti")).to_be_visible()
    expect(page.locator(".ticket")).to_contain_text(indonesian(late.date, "j F Y"))  # nothing was free
    check_accessibility(page)
    screenshot("2-waiting")
    assert Application.objects.get(pk=mine.pk).earlier_from == tomorrow

    # Someone cancels the earlier booking: the place given back moves the household (the give-back's
    # task runs on commit, eagerly here).
    cancel_application(application_id=someone.pk)
    page.reload()
    expect(page.locator(".ticket")).to_contain_text(indonesian(early.date, "j F Y"))
    expect(page.locator(".timeline li").last).to_contain_text("Dimajukan ke tanggal lebih awal sesuai permintaan Anda")
    expect(section.get_by_role("button", name="Berhenti")).to_have_count(0)  # the request is fulfilled
    check_accessibility(page)
    screenshot("3-moved")

    mine.refresh_from_db()
    assert (mine.slot_id, mine.earlier_from, mine.reschedule_count) == (early.pk, None, 0)
    assert [Slot.objects.get(pk=s.pk).taken for s in (early, late)] == [1, 0]
    assert Notification.objects.filter(application=mine, template="moved_earlier").exists()
