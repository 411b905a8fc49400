"""A household as entries and the waiting list take it: 1 to 5 people, each with the passport
asked for. The same person data, shapes and checks as a booking (appointments), so that an
entry or a waiting row can later be booked without asking anything again."""

import functools
from collections.abc import Sequence

from django import forms
from django.db import IntegrityError, connection
from rest_framework import serializers

from appointments.api import ApplicationCreateApi
from appointments.exceptions import DuplicateApplication
from appointments.forms import ApplicationForm
from appointments.models import ACTIVE_STATUSES, Application, ApplicationKind, PassportType
from appointments.services.booking import PersonBooking, check_people
from appointments.services.people import ApplicantData
from mpaspor.api import IntegerChoiceField, StrictBooleanField
from mpaspor.db import in_callers_transaction, insert_after, violates

from .exceptions import DuplicateEntry, NotInEntryWindow
from .models import Release, Seeker

APPLICANT_FIELDS = ("nik", "full_name", "birth_date", "sex", "phone", "married")


class PersonSerializer(ApplicationCreateApi.InputSerializer.ApplicantSerializer):
    """A person of DESIGN's API rows: the applicant's data and the passport asked for, flat."""

    passport_type = serializers.ChoiceField(choices=PassportType.choices)
    validity_years = IntegerChoiceField(choices=[(5, "5"), (10, "10")])
    application_kind = serializers.ChoiceField(
        choices=ApplicationKind.choices,
        help_text="Online: `new`, `replacement_expired`, `replacement_full`; the others only at the office.",
    )
    express = StrictBooleanField(default=False)

    class Meta:
        ref_name = "PersonInput"

    def validate(self, data):
        # The applicant's checks see the applicant's fields only, not the passport asked for.
        super().validate({name: data[name] for name in APPLICANT_FIELDS})
        return data


def people_field() -> serializers.ListField:
    return serializers.ListField(child=PersonSerializer(), min_length=1, max_length=5)


def person_from(data: dict) -> PersonBooking:
    """A validated `PersonSerializer` value as a booking's person."""
    applicant = {name: data[name] for name in APPLICANT_FIELDS}
    return PersonBooking(
        applicant=ApplicantData(**applicant),
        passport_type=data["passport_type"],
        validity_years=data["validity_years"],
        kind=data["application_kind"],
        express=data["express"],
    )


# The web pages' household: one booking form per person, 1 to 5.
HouseholdFormSet = forms.formset_factory(
    ApplicationForm, extra=0, min_num=1, max_num=5, validate_min=True, validate_max=True
)


def people_of(formset) -> list[PersonBooking]:
    return [form.person_booking() for form in formset.forms]


# The statement that decides whether a household may be entered or listed: none of its NIKs holds
# an active application (found by the partial unique index on active NIKs, whose statuses it names).
# Same answer as not Application.objects.filter(nik__in=niks, status__in=ACTIVE_STATUSES).exists().
# An entry also needs its release still without a snapshot, read under a key-share lock: a close
# in progress holds the release's row, so the statement waits for it and then finds the snapshot
# (an entry inserted after the snapshot would be in no draw, its NIKs held open for nothing).
@functools.cache
def _may_add_sql(*, niks: int, entry: bool, vendor: str) -> str:
    statuses = ", ".join(f"'{status}'" for status in ACTIVE_STATUSES)
    no_active_application = (
        f"NOT EXISTS (SELECT 1 FROM {Application._meta.db_table}"
        f" WHERE nik IN ({', '.join(['%s'] * niks)}) AND status IN ({statuses}))"
    )
    if not entry:
        return f"SELECT 1 AS id WHERE {no_active_application}"
    lock = " FOR KEY SHARE" if vendor == "postgresql" else ""  # SQLite has one writer at a time
    return (
        f"SELECT 1 AS id FROM {Release._meta.db_table} WHERE id = %s AND snapshot = ''"
        f" AND {no_active_application}{lock}"
    )


@in_callers_transaction
def add_seekers(*, people: Sequence[PersonBooking], **owner) -> list[Seeker]:
    """Enter or list `people` for `owner` (`entry=` or `waiting=`), after the checks a booking
    makes of each person. A NIK that holds an active application refuses the whole household
    with the booking's refusal (DuplicateApplication: how its owner contests it, nothing about
    the application); one already entered or waiting, with DuplicateEntry. Each is the same
    answer whoever holds the NIK. An entry whose release closed meanwhile: NotInEntryWindow.
    One statement on PostgreSQL (mpaspor/db.py)."""
    check_people(people)
    (parent,) = owner.values()
    if not parent._state.adding:
        raise ValueError("add_seekers inserts the entry or waiting row: pass it unsaved")
    seekers = [Seeker.of(person, **owner) for person in people]
    niks = [p.applicant.nik for p in people]
    entry = owner.get("entry")
    statement = _may_add_sql(niks=len(niks), entry=entry is not None, vendor=connection.vendor)
    params = [entry.release_id, *niks] if entry is not None else niks
    try:
        inserted = insert_after(
            f"may_add_{'entry' if entry else 'waiting'}_{len(niks)}", statement, params, [(parent, seekers)]
        )
    except IntegrityError as exc:
        if violates(exc, Seeker, "one_open_seeker_per_nik"):
            raise DuplicateEntry() from exc
        raise
    if not inserted:
        if entry is not None and Release.objects.filter(pk=entry.release_id).exclude(snapshot="").exists():
            raise NotInEntryWindow()
        raise DuplicateApplication()
    return seekers
