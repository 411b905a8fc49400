"""Entering a release's draw and withdrawing: cheap writes (an insert, no claim), so a window
of days takes the demand that a first-come opening takes in a second."""

import datetime as dt
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import check_bookings_allowed, check_not_restricted
from appointments.exceptions import InvalidInput, KindNotAccepted
from appointments.services.booking import PersonBooking, check_people, check_validity
from offices.selectors import check_types_open
from quotas.models import Pool, ReleaseMode, Slot

from ..exceptions import EntryNotFound, NotInEntryWindow, ReleaseNotFound
from ..models import Entry, Release, Seeker
from ..people import add_seekers, refused_niks_counted

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
    commits with the entry (the API's idempotency key)."""
    now = now or timezone.now()
    check_not_restricted(account=account, now=now)
    check_bookings_allowed(account=account, now=now)  # an account paused for probing NIKs probes here neither
    release = Release.objects.select_related("office").filter(pk=release_id).first()  # the answer shows its time
    if release is None:
        raise ReleaseNotFound()
    if not release.is_open_for_entries(now):
        raise NotInEntryWindow()
    check_people(people)  # before the choices, which read each person's kind and age
    choices = _checked_choices(release=release, people=people, choices=choices, now=now)
    with refused_niks_counted(account=account, people=people, now=now), transaction.atomic(durable=True):
        entry = Entry.objects.create(release=release, account=account, choices=choices)
        add_seekers(people=people, entry=entry)
        if in_same_transaction is not None:
            in_same_transaction(entry)
    return entry


def _checked_choices(*, release: Release, people: Sequence[PersonBooking], choices, now: dt.datetime) -> list[int]:
    if not 1 <= len(choices) <= MAX_CHOICES:
        raise InvalidInput(_("Choose 1 to %(max)s sessions.") % {"max": MAX_CHOICES}, field="choices")
    if len(set(choices)) < len(choices):
        raise InvalidInput(_("Choose each session once."), field="choices")
    slots = {
        slot.pk: slot
        for slot in release_slots(release).filter(pk__in=choices, starts_at__gt=now).select_related("office")
    }
    if len(slots) < len(choices):
        raise InvalidInput(_("Choose sessions of this release."), field="choices")
    for slot in slots.values():
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
    latest = max(slots.values(), key=lambda slot: slot.date)
    check_types_open(office=latest.office, passport_types=[p.passport_type for p in people], on=latest.date)
    return list(choices)


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
