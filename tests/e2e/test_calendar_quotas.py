"""The applicant's calendar shows dates not open yet with their opening time and zone, and
holidays with their Indonesian names."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from quotas.calendar import holidays_between
from quotas.models import ReleaseSchedule, Slot
from quotas.services.generation import generate_slots
from tests.e2e.conftest import check_accessibility
from tests.factories import OfficeFactory
from tests.quotas.helpers import rule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def calendar_url(office, day: dt.date) -> str:
    return reverse("appointments:calendar", args=[office.code]) + f"?month={day:%Y-%m}"


def test_calendar_shows_opening_time_with_zone_and_holiday_names(page, screenshot):
    office = OfficeFactory(
        code="kanim-denpasar", name="Kantor Imigrasi Denpasar", city="Denpasar", timezone="Asia/Makassar"
    )
    ReleaseSchedule.objects.create(office=office, kind="weekly", weekday=4, release_time=dt.time(14), horizon_days=90)
    for weekday in range(7):
        rule(office, weekday, start=8, end=12, online=20, priority=0, valid_from=dt.date(2020, 1, 1))
    today = timezone.now().astimezone(office.tzinfo).date()
    generate_slots(office=office, date_from=today, date_to=today + dt.timedelta(days=90))

    # The week after next opens on next Friday at 14:00 WITA at the earliest: not open yet.
    later = today + dt.timedelta(days=14 - today.weekday())
    slot = Slot.objects.filter(office=office, date__gte=later, opens_at__gt=timezone.now()).order_by("date").first()
    assert slot is not None
    with translation.override("id"):
        opening = formats.date_format(slot.opens_at.astimezone(office.tzinfo), "l, j F, H:i") + " WITA"

    page.goto(calendar_url(office, slot.date))
    expected = f"Kuota dibuka {opening}"
    assert page.get_by_text(expected).first.is_visible(), expected
    cell = page.locator(f'a[data-date="{slot.date:%Y-%m-%d}"]')
    assert "Belum dibuka" in (cell.get_attribute("aria-label") or "")
    check_accessibility(page)
    screenshot("not-open")

    # The nearest national holiday or cuti bersama the calendar can show (three months ahead).
    last_month_shown = dt.date(today.year + (today.month + 2) // 12, (today.month + 2) % 12 + 1, 1)
    ahead = holidays_between(today + dt.timedelta(days=1), last_month_shown.replace(day=28))
    if not ahead:
        pytest.skip("no national holiday within the months the calendar shows (late August)")
    holiday, name = min(ahead.items())
    assert not Slot.objects.filter(office=office, date=holiday, capacity__gt=0).exists()

    page.goto(calendar_url(office, holiday))
    assert page.get_by_text("Hari libur dan penutupan").is_visible()
    assert page.locator(".notes li", has_text=name).first.is_visible(), name
    assert page.locator(f'td.day-holiday[title="{name}"]').count() == 1
    check_accessibility(page)
    screenshot("holiday")
