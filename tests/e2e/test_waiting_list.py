"""The waiting list in the browser (phone, Indonesian): a full office shows the nearest office with
places; a household joins the list; a household that lost a draw waits, is offered a place given
back, accepts it and pays."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from allocation.models import Entry, Offer, Seeker, Waiting
from appointments.models import Application, Status
from appointments.nik import build_nik
from appointments.services.lifecycle import cancel_application
from tests.allocation.helpers import closed_release, lose
from tests.e2e.conftest import check_accessibility, log_in
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory, applicant_data

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def session(office, days, capacity=2):
    start = dt.datetime.combine(
        timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=days), dt.time(9), tzinfo=office.tzinfo
    )
    return SlotFactory(office=office, starts_at=start, date=start.date(), capacity=capacity)


def test_a_full_office_shows_a_nearby_office_and_a_household_joins_its_list(page, screenshot):
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri", latitude=-7.8166, longitude=112.0114)
    blitar = OfficeFactory(code="kanim-blitar", name="Kantor Imigrasi Blitar", latitude=-8.0983, longitude=112.1681)
    full = session(kediri, 3, capacity=1)
    ApplicationFactory(slot=full)
    session(blitar, 3, capacity=4)
    user = UserFactory(email="ani@example.com", full_name="Ani Lestari")

    log_in(page, email=user.email)
    page.goto(f"/offices/{kediri.code}/{full.date.isoformat()}/")
    page.get_by_role("link", name="Masuk daftar tunggu, atau lihat kantor terdekat").click()
    expect(page.get_by_role("heading", name="Tidak ada tempat kosong di sini")).to_be_visible()
    nearby = page.locator(".nearby-offices li")
    expect(nearby).to_have_count(1)
    expect(nearby).to_contain_text("Kantor Imigrasi Blitar")
    expect(nearby).to_contain_text("4 tempat kosong")
    check_accessibility(page)
    screenshot("1-full-with-nearby")

    # A household of two joins the list at the full office.
    page.get_by_role("link", name="Tambah anggota keluarga").click()
    expect(page.locator("fieldset.household-person")).to_have_count(2)
    page.goto(f"/waiting/{kediri.code}/join/?from={full.date}&to={full.date}&people=2")
    for i, (name, birth, sex) in enumerate(
        [("Ani Lestari", dt.date(1990, 3, 4), "F"), ("Bima Lestari", dt.date(2015, 6, 2), "M")]
    ):
        page.fill(f"input[name=person-{i}-nik]", build_nik(birth_date=birth, sex=sex, serial=7 + i))
        page.fill(f"input[name=person-{i}-full_name]", name)
        page.fill(f"input[name=person-{i}-birth_date]", birth.isoformat())
        page.check(f"input[name=person-{i}-sex][value={sex}]")
        page.fill(f"input[name=person-{i}-phone]", "081234567890")
        page.check(f"input[name=person-{i}-validity_years][value='5']")
    screenshot("2-join-form")
    page.get_by_role("button", name="Masuk daftar tunggu").click()
    expect(page.get_by_text("Anda masuk daftar tunggu")).to_be_visible()
    expect(page.get_by_text("Urutan ke-1")).to_be_visible()
    expect(page.get_by_text("Ani Lestari, Bima Lestari")).to_be_visible()
    check_accessibility(page)
    screenshot("3-waiting")
    assert Seeker.objects.filter(waiting__account=user, is_open=True).count() == 2

    # The nearby office from the list: its calendar.
    page.goto(f"/waiting/{kediri.code}/join/?from={full.date}&to={full.date}")
    page.locator(".nearby-offices").get_by_role("link", name="Kantor Imigrasi Blitar").click()
    expect(page.get_by_role("heading", name="Kantor Imigrasi Blitar")).to_be_visible()


def test_a_household_that_lost_the_draw_is_offered_a_place_accepts_and_pays(page, screenshot):
    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri")
    slot = session(office, 4, capacity=1)
    someone = ApplicationFactory(slot=slot, status=Status.BOOKED)
    user = UserFactory(email="budi@example.com", full_name="Budi Santoso")
    release = closed_release(office)
    entry = Entry.objects.create(release=release, account=user)
    person = applicant_data(full_name="Budi Santoso")
    Seeker.objects.create(entry=entry, **person.as_fields(), passport_type="regular", validity_years=5, kind="new")
    lose(entry, [slot])

    log_in(page, email=user.email)
    page.goto("/waiting/")
    expect(page.get_by_text("Urutan ke-1")).to_be_visible()
    expect(page.get_by_text("Budi Santoso")).to_be_visible()
    screenshot("1-lost-and-waiting")

    # Someone cancels: the place is held for the list and offered (the task runs on commit).
    cancel_application(application_id=someone.pk)
    assert Offer.objects.filter(waiting__account=user, status=Offer.Status.OPEN).exists()
    page.reload()
    expect(page.get_by_text("Ada tempat yang ditawarkan kepada Anda")).to_be_visible()
    expect(page.locator(".offer")).to_contain_text("WIB")
    check_accessibility(page)
    screenshot("2-offer")

    page.get_by_role("button", name="Terima dan pesan").click()
    expect(page.get_by_text("Tempat ini milik Anda")).to_be_visible()
    expect(page.locator(".status-pending_payment")).to_be_visible()
    screenshot("3-accepted")
    application = Application.objects.get(account=user)
    assert application.slot_id == slot.pk and Waiting.objects.get(account=user).status == Waiting.Status.BOOKED

    page.get_by_role("button", name="Bayar", exact=True).click()
    page.get_by_role("button", name="Bayar Rp").click()
    expect(page.locator(".ticket .status-booked")).to_be_visible()
    check_accessibility(page)
    screenshot("4-paid")
    application.refresh_from_db()
    assert application.status == Status.BOOKED
