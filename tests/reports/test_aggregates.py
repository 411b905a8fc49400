import datetime as dt

import pytest

from appointments.models import Status
from quotas.services.searches import flush_search_counts, record_availability_search
from reports.models import OfficeDay
from reports.services import refresh_office_days, refresh_recent_office_days
from tests.factories import ApplicationFactory, SlotFactory

from .conftest import NOW

FIGURES = [f.name for f in OfficeDay._meta.concrete_fields if f.name not in ("id", "computed_at")]


def figures(office, day):
    return OfficeDay.objects.filter(office=office, date=day).values(*FIGURES).get()


def test_monday_figures_equal_hand_counts(world):
    row = figures(world["surabaya"], dt.date(2026, 3, 2))
    assert row["is_weekend"] is False
    assert (row["online_offered"], row["priority_offered"]) == (5, 2)
    # Kept their place: s1 collected, no-show, issued; s2 collected, no-show; p1 the walk-in.
    assert (row["online_taken"], row["priority_taken"]) == (5, 1)
    assert row["booked"] == 7  # every online application, whatever became of it
    assert row["paid"] == 6  # the cancelled one had paid too; the expired one and the walk-in not
    assert (row["expired_unpaid"], row["cancelled"], row["no_show"], row["walk_ins"]) == (1, 1, 2, 1)
    assert row["checked_in"] == 4  # three online (collected, issued, collected) and the walk-in
    assert row["released_at"] == dt.datetime(2026, 2, 25, 2, 0, tzinfo=dt.UTC)
    # s1 filled with its third kept booking at +30 min, s2 with its second at +40 min.
    assert row["sold_out_at"] == dt.datetime(2026, 2, 25, 2, 40, tzinfo=dt.UTC)
    assert row["sellout_minutes"] == 40
    # At the end of 2 March the first date released and not sold out was Saturday 7 March.
    assert row["lead_time_days"] == 5 and row["nothing_free"] is False
    assert (row["searches"], row["searches_unmet"]) == (3, 2)


def test_saturday_is_weekend_and_never_sold_out(world):
    row = figures(world["surabaya"], dt.date(2026, 3, 7))
    assert row["is_weekend"] is True
    assert (row["online_offered"], row["online_taken"], row["booked"], row["checked_in"]) == (4, 2, 2, 2)
    assert row["sold_out_at"] is None and row["sellout_minutes"] is None
    assert row["lead_time_days"] is None and row["nothing_free"] is True  # nothing later is offered
    assert OfficeDay.objects.filter(office=world["malang"]).count() == 0


def test_rerun_gives_the_same_rows(world):
    before = list(OfficeDay.objects.order_by("office_id", "date").values("id", *FIGURES))
    refresh_office_days(date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 3, 31), now=NOW)
    refresh_office_days(date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 2), now=NOW)
    assert list(OfficeDay.objects.order_by("office_id", "date").values("id", *FIGURES)) == before


def test_a_change_is_picked_up_and_an_emptied_day_removed(world):
    day = dt.date(2026, 3, 7)
    saturday_slot = world["surabaya"].slots.get(date=day)
    ApplicationFactory(slot=saturday_slot, status=Status.NO_SHOW)
    refresh_office_days(date_from=day, date_to=day, now=NOW)
    assert figures(world["surabaya"], day)["no_show"] == 1
    saturday_slot.applications.all().delete()
    saturday_slot.delete()
    refresh_office_days(date_from=day, date_to=day, now=NOW)
    assert not OfficeDay.objects.filter(office=world["surabaya"], date=day).exists()
    assert OfficeDay.objects.filter(office=world["surabaya"], date=dt.date(2026, 3, 2)).exists()


def test_lead_time_of_today_is_seen_now(world):
    """A run for Sunday 1 March before 7 March's release (09:00 WIB) finds nothing free; a
    run after it sees 7 March, six days ahead. (A search gives 1 March a row.)"""
    surabaya, day = world["surabaya"], dt.date(2026, 3, 1)
    searched = dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.UTC)
    record_availability_search(office=surabaya, date_from=day, date_to=day, found_free=False, now=searched)
    flush_search_counts(now=searched)
    refresh_office_days(date_from=day, date_to=day, now=dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC))
    assert figures(surabaya, day)["lead_time_days"] is None
    refresh_office_days(date_from=day, date_to=day, now=dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC))
    assert figures(surabaya, day)["lead_time_days"] == 6


def test_nightly_task_is_scheduled_and_runs(world, settings):
    from reports.tasks import refresh_recent_office_days_task

    entry = settings.CELERY_BEAT_SCHEDULE["reports-office-days-nightly"]
    assert entry["task"] == refresh_recent_office_days_task.name
    malang = world["malang"]
    yesterday = dt.datetime.now(malang.tzinfo).date() - dt.timedelta(days=1)
    starts = dt.datetime.combine(yesterday, dt.time(8), tzinfo=malang.tzinfo)
    SlotFactory(office=malang, date=yesterday, starts_at=starts, ends_at=starts + dt.timedelta(hours=2), capacity=7)
    assert refresh_recent_office_days_task.delay(days_back=1).get() >= 1
    assert figures(malang, yesterday)["online_offered"] == 7


def test_recent_refresh_flushes_searches_first(world):
    now = dt.datetime.now(dt.UTC)
    record_availability_search(
        office=world["malang"], date_from=now.date(), date_to=now.date(), found_free=False, now=now
    )
    refresh_recent_office_days(days_back=0, now=now)
    local_today = now.astimezone(world["malang"].tzinfo).date()
    row = figures(world["malang"], local_today)
    assert (row["searches"], row["searches_unmet"], row["online_offered"]) == (1, 1, 0)


pytestmark = pytest.mark.django_db
