"""The fair release's pages: the office's releases (queries bounded), entering and its refusals,
withdrawing, the staff page in scope only, and the reports' demand at draws."""

import datetime as dt

import pytest
from django.utils import timezone, translation
from django.utils.html import escape

from allocation.exceptions import DuplicateEntry
from allocation.models import Entry, Seeker
from allocation.services.draws import run_draw
from allocation.services.entries import enter_draw
from offices.models import StaffMembership
from tests.allocation.helpers import open_release, person
from tests.factories import OfficeFactory, StaffMembershipFactory, UserFactory, applicant_data

pytestmark = pytest.mark.django_db


def household_post(slots, people, choices=None) -> dict:
    data = {
        "person-TOTAL_FORMS": str(len(people)),
        "person-INITIAL_FORMS": "0",
        "person-MIN_NUM_FORMS": "1",
        "person-MAX_NUM_FORMS": "5",
    }
    for i, someone in enumerate(people):
        data.update(
            {
                f"person-{i}-nik": someone.nik,
                f"person-{i}-full_name": someone.full_name,
                f"person-{i}-birth_date": someone.birth_date.isoformat(),
                f"person-{i}-sex": someone.sex,
                f"person-{i}-phone": someone.phone,
                f"person-{i}-passport_type": "regular",
                f"person-{i}-validity_years": "5",
                f"person-{i}-application_kind": "new",
            }
        )
    for rank, slot_id in enumerate(choices if choices is not None else [s.pk for s in slots], start=1):
        data[f"choice_{rank}"] = str(slot_id)
    return data


def test_the_releases_page_shows_demand_in_a_fixed_number_of_queries(client, django_assert_num_queries):
    office = OfficeFactory()
    release, slots = open_release(office=office, places=(2, 3))
    for _ in range(3):
        enter_draw(account=UserFactory(), release_id=release.pk, people=[person()], choices=[slots[0].pk])
    later, _later_slots = open_release(office=office, places=(4,), now=timezone.now() + dt.timedelta(days=10))
    # office, releases with their entry counts, free places; the banner's incidents (cold cache)
    with django_assert_num_queries(4):
        page = client.get(f"/draws/offices/{office.code}/releases/")
    text = page.content.decode()
    assert "3 pendaftar untuk 5 tempat" in text and "0 pendaftar untuk 4 tempat" in text
    assert release.seed_sha256 in text and release.seed not in text


def test_enter_and_withdraw_on_the_web(client):
    user = UserFactory()
    client.force_login(user)
    release, slots = open_release()
    people = [applicant_data(), applicant_data(full_name="Ani Santoso", sex="F")]
    response = client.post(f"/draws/releases/{release.pk}/enter/?people=2", household_post(slots, people))
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = Entry.objects.get()
    assert entry.account == user and entry.people.count() == 2 and entry.choices == [s.pk for s in slots]
    response = client.post(f"/draws/entries/{entry.pk}/withdraw/")
    entry.refresh_from_db()
    assert entry.status == Entry.Status.WITHDRAWN


def test_a_nik_already_entered_gets_a_clear_error_and_nothing_is_written(client):
    release, slots = open_release()
    someone = person()
    enter_draw(account=UserFactory(), release_id=release.pk, people=[someone], choices=[slots[0].pk])
    client.force_login(UserFactory())
    response = client.post(f"/draws/releases/{release.pk}/enter/", household_post(slots, [someone.applicant]))
    assert response.status_code == 200
    with translation.override("id"):
        message = str(DuplicateEntry.default_message)
    assert escape(message) in response.content.decode()
    assert Entry.objects.count() == 1 and Seeker.objects.count() == 1


def test_someone_elses_entry_cannot_be_withdrawn(client):
    release, slots = open_release()
    entry = enter_draw(account=UserFactory(), release_id=release.pk, people=[person()], choices=[slots[0].pk])
    client.force_login(UserFactory())
    client.post(f"/draws/entries/{entry.pk}/withdraw/")
    entry.refresh_from_db()
    assert entry.status == Entry.Status.ENTERED


def test_the_staff_page_is_for_the_offices_staff_only(client):
    release, slots = open_release()
    enter_draw(account=UserFactory(), release_id=release.pk, people=[person()], choices=[slots[0].pk])
    run_draw(release_id=release.pk, close_now=True)
    other = StaffMembershipFactory(role=StaffMembership.Role.HEAD)
    client.force_login(other.user)
    assert client.get(f"/draws/staff/releases/{release.pk}/").status_code == 404
    head = StaffMembershipFactory(office=release.office, role=StaffMembership.Role.HEAD)
    client.force_login(head.user)
    page = client.get(f"/draws/staff/releases/{release.pk}/")
    assert page.status_code == 200
    release.refresh_from_db()
    assert release.entries_sha256 in page.content.decode()
    assert release.seed not in page.content.decode()  # revealed by the API, not on staff pages


def test_reports_count_people_per_place_at_each_draw(client):
    release, slots = open_release(places=(2, 2))
    for _ in range(3):
        enter_draw(account=UserFactory(), release_id=release.pk, people=[person(), person()], choices=[slots[0].pk])
    head = StaffMembershipFactory(office=release.office, role=StaffMembership.Role.HEAD)
    client.force_login(head.user)
    month = release.entries_close_at.astimezone(release.office.tzinfo).strftime("%Y-%m")
    page = client.get(f"/reports/?month={month}")
    text = page.content.decode()
    section = text[text.index('id="draw-demand"') :]
    assert "<td>4</td><td>3</td><td>6</td><td>1,5</td>" in section.replace(" ", "").replace("\n", "")
