"""Bad input to the booking service: a clear domain error and nothing stored.

Property tests (Hypothesis) throw arbitrary applicant data and options at
`book_applications`; explicit cases below name the oversized, malformed, HTML/script and
wrong-type inputs one by one."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db.models import Count, Q
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.models import User
from accounts.validators import PERSON_NAME_RE
from appointments.exceptions import InvalidInput
from appointments.models import ACTIVE_STATUSES, ONLINE_KINDS, Application, ApplicationEvent, PassportType
from appointments.nik import build_nik, nik_problem
from appointments.services.people import ApplicantData
from mpaspor.errors import DomainError
from quotas.models import Slot
from tests.factories import OfficeFactory, SlotFactory, applicant_data, book_one

CAPACITY = 2


def mostly(valid, junk):
    """Valid nine times in ten, so that whole bookings get through and fill the slot."""
    return st.integers(0, 9).flatmap(lambda n: junk if n == 0 else valid)


valid_names = st.sampled_from(["Budi Santoso", "Siti Aminah", "I Gusti Ayu Putu", "O'Neil Sitompul", "Ny. Ratna S.H."])
junk_names = st.one_of(
    st.text(max_size=300),
    st.just("<script>alert('x')</script>"),
    st.just("Budi <b>Santoso</b>"),
    st.just("x" * 151),
    st.just("Budi\x00Santoso"),
    st.just("   "),
    st.integers(),
    st.none(),
)
birth_dates = st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2020, 12, 31))
junk_dates = st.one_of(
    st.dates(), st.datetimes(), st.just("1990-05-17"), st.integers(), st.none(), st.just(dt.date(2999, 1, 1))
)


@st.composite
def applicants(draw):
    birth_date = draw(mostly(birth_dates, junk_dates))
    sex = draw(mostly(st.sampled_from(["M", "F"]), st.sampled_from(["X", "", "m", None, 1])))
    nik_date = birth_date if isinstance(birth_date, dt.date) else dt.date(1990, 1, 1)
    valid_nik = build_nik(birth_date=nik_date, sex=sex if sex in ("M", "F") else "M", serial=draw(st.integers(1, 9999)))
    nik = draw(
        mostly(st.just(valid_nik), st.one_of(st.text(max_size=20), st.from_regex(r"\A[0-9]{16}\Z"), st.integers()))
    )
    return ApplicantData(
        nik=nik,
        full_name=draw(mostly(valid_names, junk_names)),
        birth_date=birth_date,
        sex=sex,
        phone=draw(
            mostly(
                st.sampled_from(["", "081234567890", "+6281234567890"]), st.one_of(st.text(max_size=30), st.integers())
            )
        ),
    )


options = st.fixed_dictionaries(
    {
        "passport_type": mostly(st.sampled_from(["regular", "electronic"]), st.one_of(st.text(max_size=15), st.none())),
        "validity_years": mostly(
            st.just(5), st.one_of(st.just(10), st.integers(), st.just("5"), st.booleans(), st.none())
        ),
        "kind": mostly(
            st.sampled_from(["new", "replacement_expired", "replacement_full"]),
            st.one_of(st.just("lost"), st.text(max_size=25), st.none()),
        ),
        "express": mostly(st.booleans(), st.one_of(st.just("yes"), st.integers(0, 1))),
    }
)


def is_valid_booking(a: ApplicantData, o: dict, slot: Slot) -> bool:
    """What the service must accept, stated independently of its code path."""
    return (
        isinstance(a.full_name, str)
        and 0 < len(a.full_name) <= 150
        and bool(PERSON_NAME_RE.fullmatch(a.full_name.strip()))
        and type(a.birth_date) is dt.date
        and dt.date(1900, 1, 1) <= a.birth_date <= dt.date.today()
        and a.sex in ("M", "F")
        and isinstance(a.nik, str)
        and nik_problem(a.nik, birth_date=a.birth_date, sex=a.sex) is None
        and isinstance(a.phone, str)
        and o["passport_type"] in PassportType.values
        and type(o["validity_years"]) is int
        and o["validity_years"] in (5, 10)
        and o["kind"] in ONLINE_KINDS
        and isinstance(o["express"], bool)
    )


class TestArbitraryBookings(TestCase):
    @classmethod
    def setUpTestData(cls):
        importlib.import_module("appointments.migrations.0002_pnbp_fees").add_fees(apps, None)
        cls.slot = SlotFactory(office=OfficeFactory(), capacity=CAPACITY)
        # No password hashing: these accounts never log in.
        cls.accounts = [User.objects.create(email=f"prop{i}@example.com", full_name="P") for i in range(8)]

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(attempts=st.lists(st.tuples(applicants(), options), min_size=1, max_size=7))
    def test_nothing_stored_unless_valid_and_taken_never_exceeds_capacity(self, attempts):
        for i, (applicant, opts) in enumerate(attempts):
            before = (
                Application.objects.count(),
                ApplicationEvent.objects.count(),
                Slot.objects.get(pk=self.slot.pk).taken,
            )
            try:
                application = book_one(account=self.accounts[i], slot_id=self.slot.pk, applicant=applicant, **opts)
            except DomainError as refusal:
                event(f"refused: {refusal.code} {refusal.field or ''}")
                assert refusal.message, "every refusal carries a message"
                after = (
                    Application.objects.count(),
                    ApplicationEvent.objects.count(),
                    Slot.objects.get(pk=self.slot.pk).taken,
                )
                assert after == before, f"a refused booking stored something: {applicant!r} {opts!r}"
            else:
                event("booked")
                assert is_valid_booking(applicant, opts, self.slot), f"invalid booking stored: {applicant!r} {opts!r}"
                stored = Application.objects.get(pk=application.pk)
                assert (stored.nik, stored.full_name, stored.birth_date, stored.sex) == (
                    applicant.nik,
                    applicant.full_name,
                    applicant.birth_date,
                    applicant.sex,
                )
            slot = Slot.objects.annotate(
                active=Count("applications", filter=Q(applications__status__in=ACTIVE_STATUSES))
            ).get(pk=self.slot.pk)
            assert slot.taken <= slot.capacity
            assert slot.taken == slot.active


# --- Explicit cases ------------------------------------------------------------------------


def _book(account, slot, applicant=None, **overrides):
    values = dict(
        account=account,
        slot_id=slot.pk,
        applicant=applicant or applicant_data(),
        passport_type="regular",
        validity_years=5,
        kind="new",
    )
    values.update(overrides)
    return book_one(**values)


def _person(**overrides):
    return applicant_data(**overrides)


BAD_APPLICANTS = {
    "oversized name": (lambda: _person(full_name="A" * 151), "full_name"),
    "megabyte name": (lambda: _person(full_name="A" * 1_000_000), "full_name"),
    "script in name": (lambda: _person(full_name="<script>alert(document.cookie)</script>"), "full_name"),
    "html in name": (lambda: _person(full_name='Budi <img src=x onerror="alert(1)">'), "full_name"),
    "sql in name": (lambda: _person(full_name="Budi'); DROP TABLE appointments_application;--"), "full_name"),
    "NUL in name": (lambda: _person(full_name="Budi\x00Santoso"), "full_name"),
    "empty name": (lambda: _person(full_name="  "), "full_name"),
    "name as a number": (lambda: _person(full_name=12345), "full_name"),
    "name as a list": (lambda: _person(full_name=["Budi"]), "full_name"),
    "birth date as text": (
        lambda: ApplicantData(nik="3571011705900001", full_name="Budi", birth_date="1990-05-17", sex="M"),
        "birth_date",
    ),
    "birth date as datetime": (
        lambda: ApplicantData(nik="3571011705900001", full_name="Budi", birth_date=dt.datetime(1990, 5, 17), sex="M"),
        "birth_date",
    ),
    "birth date in the future": (lambda: _person(birth_date=dt.date(2999, 5, 17)), "birth_date"),
    "birth date None": (
        lambda: ApplicantData(nik="3571011705900001", full_name="Budi", birth_date=None, sex="M"),
        "birth_date",
    ),
    "unknown sex": (
        lambda: ApplicantData(nik="3571011705900001", full_name="Budi", birth_date=dt.date(1990, 5, 17), sex="X"),
        "sex",
    ),
    "lower-case sex": (
        lambda: ApplicantData(nik="3571011705900001", full_name="Budi", birth_date=dt.date(1990, 5, 17), sex="m"),
        "sex",
    ),
    "phone with letters": (lambda: _person(phone="0812-CALL-ME"), "phone"),
    "oversized phone": (lambda: _person(phone="0" * 40), "phone"),
    "phone as a number": (lambda: _person(phone=81234567890), "phone"),
    "NIK as a number": (lambda: _person(nik=3571011705900001), "nik"),
    "NIK with spaces": (lambda: _person(nik="3571 0117 0590 0001"), "nik"),
    "oversized NIK": (lambda: _person(nik="3" * 10_000), "nik"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_APPLICANTS, ids=list(BAD_APPLICANTS))
def test_bad_applicant_data_is_refused_clearly_and_stores_nothing(applicant_user, slot, case):
    make, field = BAD_APPLICANTS[case]
    with pytest.raises(InvalidInput) as refusal:
        _book(applicant_user, slot, applicant=make())
    assert refusal.value.field == field
    assert refusal.value.message and "Traceback" not in refusal.value.message
    slot.refresh_from_db()
    assert slot.taken == 0 and not Application.objects.exists() and not ApplicationEvent.objects.exists()


BAD_OPTIONS = {
    "passport type unknown": ({"passport_type": "diplomatic"}, "passport_type"),
    "passport type None": ({"passport_type": None}, "passport_type"),
    "validity as text": ({"validity_years": "5"}, "validity_years"),
    "validity as bool": ({"validity_years": True}, "validity_years"),
    "validity 7": ({"validity_years": 7}, "validity_years"),
    "kind as a number": ({"kind": 1}, "application_kind"),
    "kind unknown": ({"kind": "<script>"}, "application_kind"),
    "express as text": ({"express": "yes"}, "express"),
    "unknown language": ({"language": "xx" * 10}, "language"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_OPTIONS, ids=list(BAD_OPTIONS))
def test_bad_options_are_refused_clearly_and_store_nothing(applicant_user, slot, case):
    overrides, field = BAD_OPTIONS[case]
    with pytest.raises(InvalidInput) as refusal:
        _book(applicant_user, slot, **overrides)
    assert refusal.value.field == field
    slot.refresh_from_db()
    assert slot.taken == 0 and not Application.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("slot_id", ["1", "abc", None, 1.5, True, -1, 2**70, [1]])
def test_wrong_type_slot_is_not_found_not_a_crash(applicant_user, slot, slot_id):
    from quotas.exceptions import SlotNotFound

    with pytest.raises(SlotNotFound):
        _book(applicant_user, slot, slot_id=slot_id)
    slot.refresh_from_db()
    assert slot.taken == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "Budi Santoso",
        "SITI AMINAH",
        "I Gusti Ayu Putu Dewi",
        "Ni Luh O'Connor",
        "Ratna Sari, S.H.",
        "Abdul-Rahman",
        "Zoë Ñúñez",
    ],
)
def test_real_names_are_accepted(applicant_user, slot, name):
    assert _book(applicant_user, slot, applicant=_person(full_name=name)).full_name == name
