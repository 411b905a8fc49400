"""A draw-mode office: its slots say so and open to everyone at the next release; its entry
windows open with a committed seed; the admin previews the coming releases."""

import datetime as dt

import pytest
from django.utils import timezone

from allocation.draw import sha256_hex
from allocation.models import Release
from allocation.services.releases import open_entry_windows
from quotas import calendar
from quotas.models import Pool, ReleaseMode, ReleaseSchedule, Slot
from quotas.services.generation import generate_slots
from tests.factories import OfficeFactory
from tests.quotas.helpers import WIB, weekday_rules

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 2, 13, 10, 0, tzinfo=WIB)  # inside the window of the 15 February release


@pytest.fixture
def batam():
    office = OfficeFactory(code="batam")
    weekday_rules(office, valid_from=dt.date(2027, 1, 1))
    ReleaseSchedule.objects.create(
        office=office, kind=ReleaseSchedule.Kind.TWICE_MONTHLY, mode=ReleaseMode.DRAW, entry_window_hours=72
    )
    return office


def test_draw_slots_open_to_everyone_at_the_next_release(batam):
    generate_slots(office=batam, date_from=dt.date(2027, 3, 1), date_to=dt.date(2027, 3, 31), now=NOW)
    online = Slot.objects.filter(office=batam, pool=Pool.ONLINE)
    assert set(online.values_list("mode", flat=True)) == {ReleaseMode.DRAW}
    assert set(Slot.objects.filter(office=batam, pool=Pool.PRIORITY).values_list("mode", flat=True)) == {
        ReleaseMode.FIRST_COME
    }
    first_half = online.filter(date__lte=dt.date(2027, 3, 15)).values_list("opens_at", flat=True)
    assert set(first_half) == {dt.datetime(2027, 2, 28, 9, tzinfo=WIB)}


def test_an_entry_window_opens_once_with_its_seed_committed(batam):
    opened = open_entry_windows(now=NOW)
    assert len(opened) == 1
    release = Release.objects.get()
    assert release.entries_close_at == dt.datetime(2027, 2, 15, 9, tzinfo=WIB)
    assert (release.sessions_from, release.sessions_to) == (dt.date(2027, 3, 1), dt.date(2027, 3, 15))
    assert release.opens_at == dt.datetime(2027, 2, 28, 9, tzinfo=WIB)
    assert len(release.seed) == 64 and release.seed_sha256 == sha256_hex(release.seed)
    assert open_entry_windows(now=NOW + dt.timedelta(minutes=1)) == []


def test_a_first_come_office_has_no_entry_windows(batam):
    ReleaseSchedule.objects.filter(office=batam).update(mode=ReleaseMode.FIRST_COME)
    assert open_entry_windows(now=NOW) == []


def test_the_admin_previews_six_releases(batam, admin_client):
    schedule = ReleaseSchedule.objects.get(office=batam)
    page = admin_client.get(f"/admin/quotas/releaseschedule/{schedule.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    coming = calendar.coming_releases(schedule, timezone.now(), WIB)
    assert len(coming) == 6
    for release in coming:
        assert f"{release.at:%Y-%m-%d %H:%M} WIB" in text
        assert release.first_day.isoformat() in text and release.last_day.isoformat() in text
