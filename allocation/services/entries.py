"""Entering a release's draw and withdrawing: cheap writes (an insert, no claim), so a window
of days takes the demand that a first-come opening takes in a second."""

import datetime as dt
import functools
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import check_bookings_allowed, check_not_restricted
from appointments.exceptions import InvalidInput, KindNotAccepted
from appointments.services.booking import (
    STOCK_CLOSED,
    PersonBooking,
    check_people,
    check_validity,
    refused_niks_counted,
)
from mpaspor.db import fetch_rows, select_columns
from offices.models import Office, PassportStock
from offices.selectors import passport_type_refusal
from quotas.models import Pool, ReleaseMode, Slot

from ..exceptions import EntryNotFound, NotInEntryWindow, ReleaseNotFound
from ..models import Entry, Release, Seeker
from ..people import add_seekers

MAX_CHOICES = 3


def release_slots(release: Release):
    """The online sessions a release hands out by its draw."""
    return Slot.objects.filter(
        office_id=release.office_id,
        pool=Pool.ONLINE,
        mode=ReleaseMode.DRAW,
        date__gte=release.sessions_from,
        date__lte=release.sessions_to,
        capacity__gt=0,
    )


# Entering reads the release, its office and the chosen sessions with the stock of the people's
# passport types on each session's date in one written-out, prepared query (mpaspor/db.py): built
# with the ORM, the three queries cost more CPU than the rest of the request. Same rows as
# Release.objects.select_related("office").filter(pk=release_id) and, for each chosen session,
# release_slots(release).filter(pk__in=choices, starts_at__gt=now) with the booking's stock
# column (appointments.services.booking.bookable_slot_or_refusal): NULL when the office keeps
# no stock of the types, STOCK_CLOSED when one is closed on the session's date.
@functools.cache
def _release_and_choices_sql(choices: int) -> str:
    return (
        f"SELECT {select_columns(Release, 'r')}, {select_columns(Office, 'o')}, {select_columns(Slot, 's')},"
        " (SELECT max(CASE WHEN NOT ps.issued OR ps.closed_from <= s.date THEN 2 ELSE 1 END)"
        f"  FROM {PassportStock._meta.db_table} ps"
        "  WHERE ps.office_id = r.office_id AND ps.passport_type IN (%s, %s))"
        f" FROM {Release._meta.db_table} r JOIN {Office._meta.db_table} o ON o.id = r.office_id"
        f" LEFT JOIN {Slot._meta.db_table} s ON s.id IN ({', '.join(['%s'] * choices)})"
        f"  AND s.office_id = r.office_id AND s.pool = '{Pool.ONLINE}' AND s.mode = '{ReleaseMode.DRAW}'"
        "  AND s.date >= r.sessions_from AND s.date <= r.sessions_to AND s.capacity > 0 AND s.starts_at > %s"
        " WHERE r.id = %s"
    )


def _release_and_choices(
    *, release_id: int, choices: Sequence[int], passport_types: Sequence[str], now: dt.datetime
) -> tuple[Release, list[tuple[Slot, int | None]]]:
    """The release with its office, and those of `choices` that are its sessions still to come,
    each with its stock of `passport_types` (see above); or ReleaseNotFound."""
    if not 0 < release_id < 2**63:  # the URL takes any digits; the column is a bigint
        raise ReleaseNotFound()
    types = sorted(set(passport_types)) or [""]  # PassportType has two values: first and last are all
    assert len(types) <= 2, "the statement takes two passport types"
    params = [types[0], types[-1], *choices, now, release_id]
    rows = fetch_rows(
        f"release_and_choices_{len(choices)}", _release_and_choices_sql(len(choices)), params, (Release, Office, Slot)
    )
    if not rows:
        raise ReleaseNotFound()
    release, release.office = rows[0][:2]
    slots = []
    for _release, _office, slot, stock in rows:
        if slot is not None:
            slot.office = release.office
            slots.append((slot, stock))
    return release, slots


def enter_draw(
    *,
    account,
    release_id: int,
    people: Sequence[PersonBooking],
    choices: Sequence[int],
    now: dt.datetime | None = None,
    in_same_transaction: Callable[[Entry], None] | None = None,
) -> Entry:
    """Enter `people` (1 to 5, checked as a booking checks them) in a release's draw with up to
    three ranked sessions of that release, each of which must take every person. Raises
    NotInEntryWindow outside the window, DuplicateApplication for a NIK holding an active
    application, DuplicateEntry for one already entered or waiting, InvalidInput /
    KindNotAccepted for bad choices; nothing is written then. `in_same_transaction(entry)`
    commits with the entry (the API's idempotency key).

    Three statements: the release with the chosen sessions, then the entry with its people
    inserted by the one statement that also checks their NIKs (`add_seekers`), in a transaction."""
    now = now or timezone.now()
    check_not_restricted(account=account, now=now)
    check_bookings_allowed(account=account, now=now)  # an account paused for probing NIKs probes here neither
    _check_choices_given(choices)
    release, slots = _release_and_choices(
        release_id=release_id, choices=choices, passport_types=[p.passport_type for p in people], now=now
    )
    if not release.is_open_for_entries(now):
        raise NotInEntryWindow()
    check_people(people)  # before the choices, which read each person's kind and age
    _check_choices_take(release=release, slots=slots, people=people, choices=choices)
    with refused_niks_counted(account=account, people=people, now=now), transaction.atomic(durable=True):
        entry = Entry(release=release, account=account, choices=list(choices))
        add_seekers(people=people, entry=entry)
        if in_same_transaction is not None:
            in_same_transaction(entry)
    return entry


def _check_choices_given(choices: Sequence[int]) -> None:
    if not 1 <= len(choices) <= MAX_CHOICES:
        raise InvalidInput(_("Choose 1 to %(max)s sessions.") % {"max": MAX_CHOICES}, field="choices")
    if not all(isinstance(pk, int) and not isinstance(pk, bool) and 0 < pk < 2**63 for pk in choices):
        raise InvalidInput(_("Choose sessions of this release."), field="choices")
    if len(set(choices)) < len(choices):
        raise InvalidInput(_("Choose each session once."), field="choices")


def _check_choices_take(
    *, release: Release, slots: list[tuple[Slot, int | None]], people: Sequence[PersonBooking], choices
) -> None:
    """Every chosen session is one of the release's to come, takes every person's kind and age,
    and has books of their passport types on its date."""
    if len(slots) < len(choices):
        raise InvalidInput(_("Choose sessions of this release."), field="choices")
    for slot, _stock in slots:
        for person in people:
            if not slot.accepts(person.kind):
                raise KindNotAccepted()
            check_validity(
                validity_years=person.validity_years,
                birth_date=person.applicant.birth_date,
                on=slot.date,
                married=person.applicant.married,
            )
    # Books run out from a day on: the latest session chosen is the first to close.
    latest, stock = max(slots, key=lambda row: row[0].date)
    if stock == STOCK_CLOSED:
        raise passport_type_refusal(
            office=release.office, passport_types=sorted({p.passport_type for p in people}), on=latest.date
        )


def withdraw_entry(*, account, entry_id: int, now: dt.datetime | None = None) -> Entry:
    """Withdraw the account's entry until the window closes; its people may enter again."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        entry = (
            Entry.objects.select_for_update(of=("self",))
            .select_related("release")
            .filter(pk=entry_id, account=account)
            .first()
        )
        if entry is None:
            raise EntryNotFound()
        if entry.status != Entry.Status.ENTERED or not entry.release.is_open_for_entries(now):
            raise NotInEntryWindow()
        entry.status = Entry.Status.WITHDRAWN
        entry.decided_at = now
        entry.save(update_fields=["status", "decided_at"])
        Seeker.objects.filter(entry=entry).update(is_open=False)
    return entry
