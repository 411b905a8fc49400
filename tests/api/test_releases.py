"""The API rows of the fair release, and its refusals: each a clear error, nothing changed."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from allocation.models import Entry, Release, Seeker
from allocation.services.draws import run_draw
from quotas.models import ReleaseMode
from tests.allocation.helpers import api_person, open_release
from tests.api.conftest import assert_error, client_for
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def release():
    return open_release(places=(2, 3))


def enter(api, release, slots, people=None, choices=None):
    body = {"people": people or [api_person()], "choices": choices or [s.pk for s in slots]}
    return api.post(f"/api/v1/releases/{release.pk}/entries/", body, format="json")


def test_an_office_lists_its_releases_with_demand_and_commitment(api, anon, release):
    release, slots = release
    enter(api, release, slots)
    rows = anon.get(f"/api/v1/offices/{release.office.code}/releases/").json()
    assert rows == [
        {
            "id": release.pk,
            "mode": ReleaseMode.DRAW,
            "entries_open_at": rows[0]["entries_open_at"],
            "entries_close_at": rows[0]["entries_close_at"],
            "opens_at": rows[0]["opens_at"],
            "sessions_from": release.sessions_from.isoformat(),
            "sessions_to": release.sessions_to.isoformat(),
            "places": 5,
            "entries": 1,
            "seed_sha256": release.seed_sha256,
            "entries_sha256": None,
        }
    ]
    assert rows[0]["entries_close_at"].endswith("+07:00")
    assert "seed" not in rows[0]


def test_enter_list_show_and_withdraw(api, user, release):
    release, slots = release
    response = enter(api, release, slots, people=[api_person(), api_person(sex="F", full_name="Ani")])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "entered" and body["release"] == release.pk and body["draw_at"].endswith("+07:00")
    assert [e["id"] for e in api.get("/api/v1/entries/").json()] == [body["id"]]
    assert api.get(f"/api/v1/entries/{body['id']}/").json()["choices"] == [s.pk for s in slots]
    withdrawn = api.post(f"/api/v1/entries/{body['id']}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert not Seeker.objects.filter(is_open=True).exists()
    # the same people may enter again
    assert enter(api, release, slots).status_code == 201


def test_someone_elses_entry_is_not_found(api, release):
    release, slots = release
    entry_id = enter(client_for(UserFactory()), release, slots).json()["id"]
    assert_error(api.get(f"/api/v1/entries/{entry_id}/"), 404, "not_found")
    assert_error(api.post(f"/api/v1/entries/{entry_id}/withdraw/"), 404, "not_found")
    assert Entry.objects.get(pk=entry_id).status == Entry.Status.ENTERED


def test_entering_outside_the_window_is_refused(api, release):
    release, slots = release
    Release.objects.filter(pk=release.pk).update(
        entries_open_at=timezone.now() + dt.timedelta(minutes=1),
        entries_close_at=timezone.now() + dt.timedelta(hours=1),
    )
    assert_error(enter(api, release, slots), 409, "not_in_entry_window")
    Release.objects.filter(pk=release.pk).update(
        entries_open_at=timezone.now() - dt.timedelta(days=2), entries_close_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert_error(enter(api, release, slots), 409, "not_in_entry_window")
    assert not Entry.objects.exists()


def test_a_nik_entered_twice_or_already_booked_is_refused(api, release):
    release, slots = release
    someone = api_person()
    assert enter(api, release, slots, people=[someone]).status_code == 201
    assert_error(enter(client_for(UserFactory()), release, slots, people=[someone]), 409, "duplicate_entry")
    booked = ApplicationFactory()
    assert_error(
        enter(
            api, release, slots, people=[{**api_person(), "nik": booked.nik, "birth_date": "1990-05-17", "sex": "M"}]
        ),
        409,
        "duplicate_application",
    )
    assert Entry.objects.count() == 1


def test_bad_choices_and_too_many_are_refused(api, release):
    release, slots = release
    other_release, other_slots = open_release()
    assert_error(enter(api, release, slots, choices=[other_slots[0].pk]), 400, "invalid")
    assert_error(enter(api, release, slots, choices=[slots[0].pk] * 2), 400, "invalid")
    assert_error(
        enter(api, release, slots, choices=[slots[0].pk, slots[1].pk, other_slots[0].pk, other_slots[1].pk]),
        400,
        "invalid",
    )
    assert_error(enter(api, release, slots, people=[api_person() for _ in range(6)]), 400, "invalid")
    slots[0].allowed_kinds = ["replacement_expired"]
    slots[0].save()
    assert_error(enter(api, release, slots), 409, "kind_not_accepted")
    assert not Entry.objects.exists() and not Seeker.objects.exists()


def test_the_draw_is_published_once_drawn(anon, api, release):
    release, slots = release
    enter(api, release, slots)
    assert_error(anon.get(f"/api/v1/releases/{release.pk}/draw/"), 409, "not_drawn_yet")
    run_draw(release_id=release.pk, close_now=True)
    body = anon.get(f"/api/v1/releases/{release.pk}/draw/").json()
    release.refresh_from_db()
    assert body["seed"] == release.seed and body["entries_sha256"] == release.entries_sha256
    assert body["result"] == release.plan
    entry = api.get("/api/v1/entries/").json()[0]
    assert entry["status"] == "won" and entry["slot"] == slots[0].pk and len(entry["applications"]) == 1
    listed = anon.get(f"/api/v1/offices/{release.office.code}/releases/").json()[0]
    assert listed["entries_sha256"] == release.entries_sha256


def test_availability_says_each_slots_mode(anon, release):
    release, slots = release
    day = slots[0].date.isoformat()
    sessions = anon.get(f"/api/v1/offices/{release.office.code}/availability/?from={day}&to={day}").json()["days"][0][
        "slots"
    ]
    assert {s["mode"] for s in sessions} == {"draw"}


def test_an_account_under_a_hoarding_restriction_cannot_enter(api, user, release):
    release, slots = release
    user.restricted_until = timezone.now() + dt.timedelta(days=7)
    user.restricted_by = "expired_holds"
    user.save(update_fields=["restricted_until", "restricted_by"])
    assert_error(enter(api, release, slots), 403, "account_restricted")
    assert not Entry.objects.exists() and not Seeker.objects.exists()


def test_entering_is_three_statements(api, release):
    """The token, the release with the chosen sessions and their stock, then one statement that
    checks the people's NIKs and inserts the entry with them (docs/performance.md)."""
    release, slots = release
    assert enter(api, release, slots).status_code == 201  # the statements are prepared
    with CaptureQueriesContext(connection) as queries:
        response = enter(api, release, slots, people=[api_person(), api_person(sex="F", full_name="Ani")])
    assert response.status_code == 201, response.content
    statements = [q["sql"].split(" (")[0] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert statements == [
        "EXECUTE active_api_token",
        "EXECUTE release_and_choices_2",
        statements[2],  # its name ends with a digest of the rows it inserts
    ]
    assert statements[2].startswith("EXECUTE may_add_entry_2_")
    entry = Entry.objects.get(pk=response.json()["id"])
    assert entry.choices == [s.pk for s in slots] and entry.people.count() == 2


def test_sessions_past_closed_or_of_another_office_are_not_choices(api, release):
    release, slots = release
    started = slots[0]
    started.starts_at = timezone.now() - dt.timedelta(minutes=1)
    started.save()
    assert_error(enter(api, release, slots, choices=[started.pk]), 400, "invalid")
    elsewhere = open_release(places=(2,))[1][0]
    elsewhere.starts_at = slots[1].starts_at  # the release's dates, another office
    elsewhere.save()
    assert_error(enter(api, release, slots, choices=[slots[1].pk, elsewhere.pk]), 400, "invalid")
    emptied = slots[1]
    emptied.capacity = 0
    emptied.save()
    assert_error(enter(api, release, slots, choices=[emptied.pk]), 400, "invalid")
    nowhere = api.post("/api/v1/releases/999999/entries/", {"people": [api_person()], "choices": [1]}, format="json")
    assert_error(nowhere, 404, "not_found")
    assert not Entry.objects.exists() and not Seeker.objects.exists()


def test_a_release_id_beyond_the_database_integer_is_not_found(api, release):
    release, slots = release
    body = {"people": [api_person()], "choices": [slots[0].pk]}
    assert_error(api.post(f"/api/v1/releases/{2**63}/entries/", body, format="json"), 404, "not_found")
