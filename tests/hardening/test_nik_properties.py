"""Property tests for NIK validation (appointments.nik)."""

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from appointments.nik import PROVINCE_CODES, build_nik, nik_problem

birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
sexes = st.sampled_from(["M", "F"])
provinces = st.sampled_from(sorted(PROVINCE_CODES))
two_digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
serials = st.integers(1, 9999)


@st.composite
def people_with_nik(draw):
    birth_date, sex = draw(birth_dates), draw(sexes)
    region = draw(provinces) + draw(two_digits) + draw(two_digits)
    nik = build_nik(birth_date=birth_date, sex=sex, region=region, serial=draw(serials))
    return nik, birth_date, sex


@given(people_with_nik())
@example(("3571014102000001", dt.date(2000, 2, 1), "F"))  # day 41: a woman born on the 1st
@example(("3571012902960001", dt.date(1996, 2, 29), "M"))  # leap day
def test_valid_nik_for_any_birth_date_sex_and_province_is_accepted(person):
    nik, birth_date, sex = person
    assert nik_problem(nik, birth_date=birth_date, sex=sex) is None


@given(people_with_nik(), st.integers(6, 11), st.integers(1, 9))
def test_any_single_digit_change_in_the_date_part_is_refused(person, position, shift):
    nik, birth_date, sex = person
    changed = nik[:position] + str((int(nik[position]) + shift) % 10) + nik[position + 1 :]
    assert changed != nik
    assert nik_problem(changed, birth_date=birth_date, sex=sex) is not None


@given(people_with_nik(), st.integers(0, 99).map(lambda n: f"{n:02d}").filter(lambda p: p not in PROVINCE_CODES))
def test_a_prefix_that_is_no_province_is_refused(person, prefix):
    nik, birth_date, sex = person
    assert nik_problem(prefix + nik[2:], birth_date=birth_date, sex=sex) is not None


@given(people_with_nik())
def test_the_other_sex_is_refused(person):
    nik, birth_date, sex = person
    assert nik_problem(nik, birth_date=birth_date, sex="F" if sex == "M" else "M") is not None


@given(people_with_nik(), st.text(max_size=40))
def test_anything_but_sixteen_ascii_digits_is_refused(person, text):
    _, birth_date, sex = person
    if len(text) == 16 and text.isascii() and text.isdigit():
        return
    assert nik_problem(text, birth_date=birth_date, sex=sex) is not None


@given(people_with_nik(), st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.integers())))
def test_wrong_types_are_refused_not_crashed(person, value):
    _, birth_date, sex = person
    assert nik_problem(value, birth_date=birth_date, sex=sex) is not None


def test_unicode_digits_are_refused():
    # "٣٥٧١..." (Arabic-Indic digits) pass str.isdigit() but are not a NIK.
    nik = build_nik(birth_date=dt.date(1990, 5, 17), sex="M")
    arabic = nik.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert nik_problem(arabic, birth_date=dt.date(1990, 5, 17), sex="M") is not None
