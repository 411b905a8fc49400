"""Builders for draw tests: a draw-mode office's release and its sessions (the real database)."""

import datetime as dt

from django.utils import timezone

from allocation.draw import new_seed, sha256_hex
from allocation.models import Release
from appointments.services.booking import PersonBooking
from quotas.models import ReleaseMode
from tests.factories import OfficeFactory, SlotFactory, applicant_data


def open_release(*, office=None, places=(2, 2), now=None, **fields) -> tuple[Release, list]:
    """A release whose window is open at `now`, with one draw session per entry of `places`,
    three days ahead (their public opening a week after the draw)."""
    now = now or timezone.now()
    office = office or OfficeFactory()
    close = now + dt.timedelta(hours=1)
    day = (now + dt.timedelta(days=3)).astimezone(office.tzinfo).date()
    slots = [
        SlotFactory(
            office=office,
            capacity=capacity,
            mode=ReleaseMode.DRAW,
            opens_at=close + dt.timedelta(days=7),
            starts_at=dt.datetime.combine(day, dt.time(8 + 2 * i), tzinfo=office.tzinfo),
            **fields,
        )
        for i, capacity in enumerate(places)
    ]
    seed = new_seed()
    release = Release.objects.create(
        office=office,
        entries_open_at=now - dt.timedelta(days=1),
        entries_close_at=close,
        sessions_from=min(s.date for s in slots),
        sessions_to=max(s.date for s in slots),
        opens_at=close + dt.timedelta(days=7),
        seed=seed,
        seed_sha256=sha256_hex(seed),
    )
    return release, slots


def closed_release(office) -> Release:
    """A release of `office` whose entry window closed just now (its entries are drawn)."""
    now = timezone.now()
    seed = new_seed()
    return Release.objects.create(
        office=office,
        entries_open_at=now - dt.timedelta(days=2),
        entries_close_at=now,
        sessions_from=now.date(),
        sessions_to=now.date() + dt.timedelta(days=30),
        opens_at=now + dt.timedelta(days=7),
        seed=seed,
        seed_sha256=sha256_hex(seed),
    )


def person(kind="new", **applicant) -> PersonBooking:
    return PersonBooking(applicant=applicant_data(**applicant), passport_type="regular", validity_years=5, kind=kind)


def api_person(**applicant) -> dict:
    data = applicant_data(**applicant)
    return {
        "nik": data.nik,
        "full_name": data.full_name,
        "birth_date": data.birth_date.isoformat(),
        "sex": data.sex,
        "phone": data.phone,
        "passport_type": "regular",
        "validity_years": 5,
        "application_kind": "new",
        "express": False,
    }


def lose(entry, slots, *, position=0, drawn_at=None):
    """The draw's losers' step for one entry that chose `slots`: its household waits for them."""
    from django.db import transaction

    from allocation.models import Waiting
    from allocation.services.waiting import wait_after_lost_draw_batch

    entry.choices = [slot.pk for slot in slots]
    entry.save(update_fields=["choices"])
    with transaction.atomic():
        wait_after_lost_draw_batch(
            entries=[(entry, position)], office_id=slots[0].office_id, drawn_at=drawn_at or timezone.now()
        )
    return Waiting.objects.get(entry=entry)
