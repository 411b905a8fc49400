"""A small known world: Jawa Timur with two offices, Bali with one, figures computed by hand
in the tests (March 2026; "now" is 20 March 2026)."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Application, Status
from offices.models import StaffMembership
from quotas.services.searches import flush_search_counts, record_availability_search
from reports.services import refresh_office_days
from tests.factories import ApplicationFactory, OfficeFactory, RegionFactory, SlotFactory, StaffMembershipFactory

UTC = dt.UTC
WIB = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2026, 3, 20, 5, 0, tzinfo=UTC)
R1 = dt.datetime(2026, 2, 25, 2, 0, tzinfo=UTC)  # release of 2 March (09:00 WIB)
R2 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # release of 7 March


def session(office, day, hour, capacity, opens_at, pool="online"):
    starts = dt.datetime.combine(day, dt.time(hour), tzinfo=WIB)
    return SlotFactory(
        office=office,
        date=day,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        capacity=capacity,
        opens_at=opens_at,
        pool=pool,
    )


def application(slot, status, created_at, *, paid=False, checked_in=False, **extra):
    app = ApplicationFactory(
        slot=slot,
        status=status,
        paid_at=created_at + dt.timedelta(minutes=15) if paid else None,
        checked_in_at=dt.datetime.combine(slot.date, dt.time(8, 30), tzinfo=WIB) if checked_in else None,
        **extra,
    )
    Application.objects.filter(pk=app.pk).update(created_at=created_at)
    return app


@pytest.fixture
def world(db):
    jatim = RegionFactory()
    bali = RegionFactory(code="BALI", name="Bali", province_code="51")
    surabaya = OfficeFactory(
        code="kanim-surabaya", name="Kanim Surabaya", region=jatim, staff_count=10, counter_count=2
    )
    malang = OfficeFactory(code="kanim-malang", name="Kanim Malang", region=jatim, staff_count=6, counter_count=3)
    denpasar = OfficeFactory(code="kanim-denpasar", name="Kanim Denpasar", region=bali, timezone="Asia/Makassar")

    monday, saturday = dt.date(2026, 3, 2), dt.date(2026, 3, 7)
    m = lambda minutes, base=R1: base + dt.timedelta(minutes=minutes)  # noqa: E731
    # Surabaya, Monday 2 March: two online sessions (3 + 2 places) and a priority one (2).
    s1 = session(surabaya, monday, 8, 3, R1)
    s2 = session(surabaya, monday, 10, 2, R1)
    p1 = session(surabaya, monday, 8, 2, R1, pool="priority")
    application(s1, Status.COLLECTED, m(5), paid=True, checked_in=True)
    application(s1, Status.NO_SHOW, m(10), paid=True)
    application(s1, Status.EXPIRED, m(1))
    application(s1, Status.ISSUED, m(30), paid=True, checked_in=True)  # fills s1: 30 min
    application(s2, Status.CANCELLED, m(2), paid=True)
    application(s2, Status.COLLECTED, m(20), paid=True, checked_in=True)
    application(s2, Status.NO_SHOW, m(40), paid=True)  # fills s2 and the day: 40 min
    application(
        p1,
        Status.COLLECTED,
        m(0, dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC)),
        checked_in=True,
        walk_in=True,
        priority_group="elderly",
    )
    # Surabaya, Saturday 7 March: one online session of 4, half used: never sold out.
    s3 = session(surabaya, saturday, 8, 4, R2)
    application(s3, Status.COLLECTED, m(60, R2), paid=True, checked_in=True)
    application(s3, Status.COLLECTED, m(70, R2), paid=True, checked_in=True)
    # Denpasar (Bali): one session, one booking; Malang: nothing at all.
    d1 = session(denpasar, monday, 9, 5, R1)
    application(d1, Status.COLLECTED, m(3), paid=True, checked_in=True)

    # Three availability searches at Surabaya on 2 March; two found nothing free.
    for found in (True, False, False):
        record_availability_search(
            office=surabaya,
            date_from=monday,
            date_to=monday + dt.timedelta(days=13),
            found_free=found,
            now=dt.datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
        )
    flush_search_counts(now=dt.datetime(2026, 3, 2, 4, 0, tzinfo=UTC))
    refresh_office_days(date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 3, 31), now=NOW)
    return {"jatim": jatim, "bali": bali, "surabaya": surabaya, "malang": malang, "denpasar": denpasar}


def staff(role, **scope):
    membership = StaffMembershipFactory(role=role, office=scope.get("office"), region=scope.get("region"))
    return membership.user


@pytest.fixture
def regional_jatim(world):
    return staff(StaffMembership.Role.REGIONAL, region=world["jatim"])


__all__ = ["NOW", "R1", "R2", "timezone"]
