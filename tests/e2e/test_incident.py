"""An incident in the browser (phone, Indonesian): an office head closes the office tomorrow for
a flood from the staff screens; the banner tells everyone; an applicant with a session tomorrow
is told on the application's page and moves to another day, onto a place kept ahead of the
public, without using the one change of date. And after a portal outage, the head serves
tomorrow by walk-in from the incident's page (on a laptop): the applicant's booking stands, and
the calendar shows the day as a walk-in day with the places at the door."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Application, Notification, Status
from offices.models import Incident, StaffMembership
from quotas.models import Pool, Slot, WalkInDay
from tests.e2e.conftest import ARTIFACTS, PHONE, capture, check_accessibility, log_in
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, StaffMembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}  # office staff work the staff screens on laptops


def session(office, day: dt.date, *, pool="online", capacity=5, hour=9):
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=office.tzinfo)
    return SlotFactory(
        office=office, pool=pool, capacity=capacity, starts_at=start, ends_at=start + dt.timedelta(hours=2), date=day
    )


def phone_page(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="id-ID", base_url=live_server.url, is_mobile=True)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def test_a_head_closes_tomorrow_for_a_flood_and_an_applicant_moves_to_another_day(browser, live_server):
    ARTIFACTS.mkdir(exist_ok=True)

    def shot(page, name):
        capture(page, ARTIFACTS / f"incident-{name}.png", full_page=True)

    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kelas II Non-TPI Kediri")
    head = UserFactory(email="kepala.kediri@example.com", full_name="Hendro Wibisono", is_staff=True)
    StaffMembershipFactory(user=head, role=StaffMembership.Role.HEAD, office=office)
    tomorrow = timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=1)
    day_after = tomorrow + dt.timedelta(days=1)
    closed = session(office, tomorrow)
    full_online = session(office, day_after, capacity=1)
    ApplicationFactory(slot=full_online)  # the public's places of the day after are gone
    kept = session(office, day_after, pool="priority", capacity=3)
    applicant = UserFactory(email="ani@example.com", full_name="Ani Lestari")
    application = ApplicationFactory(slot=closed, account=applicant, full_name="Ani Lestari", reschedule_count=0)

    # The head declares the closure for tomorrow in the staff screens.
    context, page = phone_page(browser, live_server)
    log_in(page, email=head.email)
    page.goto("/admin/offices/incident/add/")
    page.select_option("select[name=kind]", "office_closed")
    page.select_option("select[name=scope]", "office")
    expect(page.locator("select[name=office] option")).to_have_count(2)  # "---------" and Kediri only
    page.select_option("select[name=office]", str(office.pk))
    page.fill("input[name=starts_at_0]", tomorrow.isoformat())
    page.fill("input[name=starts_at_1]", "00:00:00")
    page.fill("input[name=ends_at_0]", day_after.isoformat())
    page.fill("input[name=ends_at_1]", "00:00:00")
    page.fill("textarea[name=message_id]", "Kantor tutup sementara karena banjir di sekitar gedung.")
    page.fill("textarea[name=message_en]", "The office is closed for a flood around the building.")
    shot(page, "1-head-declares")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    shot(page, "2-head-list")
    incident = Incident.objects.get()
    assert (incident.kind, incident.office_id, incident.declared_by_id) == ("office_closed", office.pk, head.pk)
    assert Slot.objects.get(pk=closed.pk).closed_by_id == incident.pk
    assert Notification.objects.filter(application=application, template="office_closed").exists()
    context.close()

    # The applicant sees the banner, the notice on the application's page, and moves.
    context, page = phone_page(browser, live_server)
    log_in(page, email=applicant.email)
    page.goto("/")
    expect(page.locator(".incident-banner")).to_contain_text("Kantor tutup sementara karena banjir")
    check_accessibility(page)
    shot(page, "3-banner")
    page.goto(f"/applications/{application.booking_code}/")
    expect(page.get_by_text("Kantor tutup untuk sesi ini.")).to_be_visible()
    check_accessibility(page)
    shot(page, "4-application-notice")
    page.get_by_role("button", name="Ubah tanggal").click()
    expect(page.locator(f"input[name=slot][value='{full_online.pk}']")).to_have_count(0)
    page.check(f"input[name=slot][value='{kept.pk}']")
    check_accessibility(page)
    shot(page, "5-choose-another-day")
    page.get_by_role("button", name="Pindahkan jadwal saya").click()
    expect(page.get_by_text("Jadwal Anda telah dipindahkan")).to_be_visible()
    # The move used no change of date: the applicant may still change it once.
    expect(page.get_by_role("button", name="Ubah tanggal")).to_be_visible()
    check_accessibility(page)
    shot(page, "6-moved")
    context.close()

    application.refresh_from_db()
    assert (application.slot_id, application.status) == (kept.pk, Status.BOOKED)
    assert (application.reschedule_count, application.displaced_by_id) == (0, None)
    assert Slot.objects.get(pk=closed.pk).taken == 0 and Slot.objects.get(pk=kept.pk).taken == 1
    assert Application.objects.filter(slot=closed).count() == 0


def test_after_a_portal_outage_the_head_serves_tomorrow_by_walk_in_and_the_applicant_sees_it(browser, live_server):
    ARTIFACTS.mkdir(exist_ok=True)

    def shot(page, name):
        capture(page, ARTIFACTS / f"incident-walk-in-{name}.png", full_page=True)

    office = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kelas II Non-TPI Kediri")
    head = UserFactory(email="kepala.kediri@example.com", full_name="Hendro Wibisono", is_staff=True)
    StaffMembershipFactory(user=head, role=StaffMembership.Role.HEAD, office=office)
    tomorrow = timezone.now().astimezone(office.tzinfo).date() + dt.timedelta(days=1)
    online = session(office, tomorrow, capacity=5)
    applicant = UserFactory(email="ani@example.com", full_name="Ani Lestari")
    application = ApplicationFactory(slot=online, account=applicant, full_name="Ani Lestari")
    incident = Incident.objects.create(
        kind=Incident.Kind.PORTAL_DOWN,
        scope=Incident.Scope.ALL,
        starts_at=timezone.now() - dt.timedelta(hours=3),
        message_id="Portal M-Paspor gangguan sejak pagi; pemesanan online belum bisa dilakukan.",
        message_en="The M-Paspor portal has been down since the morning; online booking is not possible.",
    )

    # The head opens the incident, reads the choice, and serves tomorrow by walk-in.
    context = browser.new_context(viewport=LAPTOP, locale="id-ID", base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, email=head.email)
    page.goto(f"/admin/offices/incident/{incident.pk}/change/")
    expect(page.locator(".field-days_it_touches")).to_contain_text("datang langsung")
    shot(page, "1-incident-page")
    page.click("#serve-by-walk-in")
    expect(page.locator("select[name=incident]")).to_have_value(str(incident.pk))
    expect(page.locator("fieldset .description")).to_contain_text("tetap memegang sesinya")
    expect(page.locator("select[name=office] option")).to_have_count(2)  # "---------" and Kediri only
    page.select_option("select[name=office]", str(office.pk))
    page.fill("input[name=date]", tomorrow.isoformat())
    shot(page, "2-switch-form")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    shot(page, "3-switched")
    switched = WalkInDay.objects.get()
    assert (switched.office_id, switched.date, switched.switched_by_id) == (office.pk, tomorrow, head.pk)
    assert Slot.objects.get(pk=online.pk).walk_in_by_id == switched.pk
    assert Slot.objects.get(office=office, starts_at=online.starts_at, pool=Pool.WALK_IN).capacity == 4
    context.close()

    # The applicant: the booking stands, and the calendar shows a walk-in day.
    context, page = phone_page(browser, live_server)
    log_in(page, email=applicant.email)
    page.goto(f"/applications/{application.booking_code}/")
    expect(page.locator("#walk-in-day-notice")).to_contain_text("Kantor melayani hari itu secara datang langsung.")
    expect(page.locator("#walk-in-day-notice")).to_contain_text("dilayani sesuai jadwal")
    check_accessibility(page)
    shot(page, "4-application-notice")
    page.goto(f"/offices/{office.code}/?month={tomorrow:%Y-%m}")
    cell = page.locator(f'a[data-date="{tomorrow:%Y-%m-%d}"]')
    expect(cell).to_contain_text("walk-in")
    expect(page.locator("section.walk-in-days")).to_contain_text("4")
    check_accessibility(page)
    shot(page, "5-calendar-walk-in-day")
    context.close()

    application.refresh_from_db()
    assert (application.slot_id, application.status, application.displaced_by_id) == (online.pk, Status.BOOKED, None)
    assert Notification.objects.filter(application=application, template="walk_in_day").count() == 1
