"""A release by draw in the browser (phone, Indonesian): the applicant sees the draw's demand,
enters a household of two with ranked sessions, the draw runs (as an operator would after the
close), the entry is won and the places are paid. Also the office's staff page of the release."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from allocation.models import Entry
from appointments.models import Application, Status
from appointments.nik import build_nik
from offices.models import StaffMembership
from tests.allocation.helpers import open_release
from tests.e2e.conftest import check_accessibility, log_in
from tests.factories import OfficeFactory, StaffMembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def t(text: str) -> str:
    with translation.override("id"):
        return gettext(text)


def fill_person(page, index: int, *, name: str, nik: str, birth: str, sex: str):
    prefix = f"person-{index}-"
    page.fill(f"input[name={prefix}nik]", nik)
    page.fill(f"input[name={prefix}full_name]", name)
    page.fill(f"input[name={prefix}birth_date]", birth)
    page.check(f"input[name={prefix}sex][value={sex}]")
    page.fill(f"input[name={prefix}phone]", "081234567890")
    page.check(f"input[name={prefix}passport_type][value=regular]")
    page.check(f"input[name={prefix}validity_years][value='5']")


def test_enter_draw_win_and_pay(page, screenshot):
    office = OfficeFactory(name="Kantor Imigrasi Surabaya", code="kanim-surabaya")
    release, (first, second) = open_release(office=office, places=(1, 4))
    user = UserFactory(email="ani@example.com", full_name="Ani Lestari")
    log_in(page, email=user.email)

    page.goto(f"/draws/offices/{office.code}/releases/")
    expect(page.locator(".demand")).to_contain_text("0")
    check_accessibility(page)
    screenshot("1-releases")

    page.get_by_role("button", name=t("Enter the draw")).click()
    page.get_by_role("link", name=t("Add a person")).click()
    ani_nik = build_nik(birth_date=dt.date(1990, 5, 17), sex="F", serial=11)
    budi_nik = build_nik(birth_date=dt.date(1988, 1, 2), sex="M", serial=12)
    fill_person(page, 0, name="Ani Lestari", nik=ani_nik, birth="1990-05-17", sex="F")
    fill_person(page, 1, name="Budi Lestari", nik=budi_nik, birth="1988-01-02", sex="M")
    # first choice: the session with one place (too small for two); second: room for both
    page.select_option("select[name=choice_1]", str(first.pk))
    page.select_option("select[name=choice_2]", str(second.pk))
    check_accessibility(page)
    screenshot("2-enter")
    page.get_by_role("button", name=t("Enter the draw")).click()
    expect(page.locator(f"#entry-{Entry.objects.get().pk}")).to_contain_text(t("Entered"))
    check_accessibility(page)
    screenshot("3-entered")

    call_command("draw", str(release.pk), "--close-now")

    page.goto("/draws/entries/")
    entry = Entry.objects.get()
    assert entry.status == Entry.Status.WON and entry.slot_id == second.pk
    expect(page.locator(f"#entry-{entry.pk}")).to_contain_text(t("Won"))
    check_accessibility(page)
    screenshot("4-won")

    for code in entry.booking_codes:
        page.goto("/draws/entries/")
        page.get_by_role("link", name=code).click()
        expect(page.locator(".status-pending_payment")).to_be_visible()
        page.get_by_role("button", name="Bayar", exact=True).click()
        page.locator("main form button[type=submit]").click()
        expect(page.locator(".ticket .status-booked")).to_be_visible()
    screenshot("5-paid")
    assert set(Application.objects.values_list("status", flat=True)) == {Status.BOOKED}

    staff = UserFactory(email="kepala@example.com", is_staff=True)
    StaffMembershipFactory(user=staff, office=office, role=StaffMembership.Role.HEAD)
    page.context.clear_cookies()
    log_in(page, email=staff.email)
    page.goto(f"/draws/staff/releases/{release.pk}/")
    expect(page.locator("main")).to_contain_text(release.entries_sha256)
    check_accessibility(page)
    screenshot("6-staff")
