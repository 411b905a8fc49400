"""Availability served pre-rendered from the cache (quotas/availability_cache.py), and the
booking's early refusal of a slot a claim has just found full."""

import datetime as dt
import threading
import time

import pytest
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.models import Status
from appointments.services.lifecycle import cancel_application
from quotas.api import OfficeAvailabilityApi
from quotas.availability_cache import LOCK_SECONDS, _day_key, _lock_key, slot_marks_gathered
from quotas.exceptions import SlotFull
from quotas.services.claims import claim_places
from quotas.services.searches import _search_key, send_search_counts
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, applicant_data

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.AVAILABILITY_CACHE_SECONDS = 30
    settings.AVAILABILITY_REBUILD_SECONDS = 0  # every change shows at the next read


@pytest.fixture
def office(db):
    return OfficeFactory(code="kanim-malang", timezone="Asia/Jakarta")


@pytest.fixture
def slots(office):
    first = SlotFactory(office=office, capacity=5)
    second = SlotFactory(office=office, starts_at=first.starts_at + dt.timedelta(days=1), capacity=3)
    return first, second


def url(office, first, last):
    return f"/api/v1/offices/{office.code}/availability/?from={first.date}&to={last.date}"


def month(office, first: dt.date, days: int = 31):
    return f"/api/v1/offices/{office.code}/availability/?from={first}&to={first + dt.timedelta(days=days - 1)}"


def available(response, slot):
    return next(s["available"] for d in response.json()["days"] for s in d["slots"] if s["id"] == slot.pk)


def claim(slot):
    with transaction.atomic():
        claim_places(slot_id=slot.pk, now=timezone.now())


def test_claims_gathered_in_one_transaction_mark_their_days_once_after_the_commit(
    anon, office, slots, django_capture_on_commit_callbacks
):
    """A draw's batch of winners claims many times in one transaction: one mark of every day it
    changed after the commit, not one (and a query) per claim."""
    first, second = slots
    before = anon.get(url(office, first, second))
    assert available(before, first) == 5 and available(before, second) == 3
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic(), slot_marks_gathered():
            for slot in (first, first, second):
                claim_places(slot_id=slot.pk, now=timezone.now())
    assert len(callbacks) == 1
    after = anon.get(url(office, first, second))
    assert available(after, first) == 3 and available(after, second) == 2


def test_a_hit_costs_no_query_and_is_the_bytes_the_serializer_makes(
    anon, office, slots, settings, django_assert_num_queries
):
    first, second = slots
    settings.AVAILABILITY_CACHE_SECONDS = 0
    uncached = anon.get(url(office, first, second))
    settings.AVAILABILITY_CACHE_SECONDS = 30
    with django_assert_num_queries(3):  # the office, the slots, the closed days
        built = anon.get(url(office, first, second))
    with django_assert_num_queries(0):
        hit = anon.get(url(office, first, second))
    assert uncached.status_code == built.status_code == hit.status_code == 200
    assert uncached.content == built.content == hit.content
    assert hit["Content-Type"] == "application/json"

    month = f"/api/v1/offices/{office.code}/availability/?from={first.date}&to={first.date + dt.timedelta(days=30)}"
    with django_assert_num_queries(2):  # the 29 days not cached yet, in one read
        built = anon.get(month)
    with django_assert_num_queries(0):
        hit = anon.get(month)
    assert len(hit.json()["days"]) == 31 and hit.content == built.content


def test_etag_and_304_until_a_claim_changes_the_day(anon, office, slots, django_capture_on_commit_callbacks):
    first, second = slots
    response = anon.get(url(office, first, second))
    etag = response["ETag"]
    assert etag.startswith('"') and len(etag) == 34
    again = anon.get(url(office, first, second), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag

    with django_capture_on_commit_callbacks(execute=True):
        claim(first)
    changed = anon.get(url(office, first, second), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert available(changed, first) == 4 and available(changed, second) == 3


def test_a_day_marked_changed_is_rebuilt_by_one_request_while_the_others_serve_the_previous_bytes(
    anon, office, slots, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first, second = slots
    before = anon.get(url(office, first, second))
    # Another request is rebuilding the first day: it holds the day's lock.
    assert cache.add(_lock_key(office.code, "id", first.date), 1, LOCK_SECONDS)
    with django_capture_on_commit_callbacks(execute=True):
        claim(first)
    with django_assert_num_queries(0):
        stale = anon.get(url(office, first, second))
    assert stale.content == before.content  # the previous bytes meanwhile

    cache.delete(_lock_key(office.code, "id", first.date))  # that rebuild ended without storing
    with django_assert_num_queries(2):  # this request rebuilds the day: the slots, the closed days
        rebuilt = anon.get(url(office, first, second))
    assert available(rebuilt, first) == 4
    with django_assert_num_queries(0):
        assert anon.get(url(office, first, second)).content == rebuilt.content


def test_a_rebuilder_that_never_finishes_leaves_the_day_stale_for_a_second_at_most(
    anon, office, slots, django_capture_on_commit_callbacks
):
    first, second = slots
    anon.get(url(office, first, second))
    assert cache.add(_lock_key(office.code, "id", first.date), 1, LOCK_SECONDS)
    with django_capture_on_commit_callbacks(execute=True):
        claim(first)
    assert available(anon.get(url(office, first, second)), first) == 5
    time.sleep(LOCK_SECONDS + 0.1)
    assert available(anon.get(url(office, first, second)), first) == 4


def test_a_cancellation_is_seen_at_once(anon, office, slots, django_capture_on_commit_callbacks):
    first, second = slots
    application = ApplicationFactory(slot=first, status=Status.BOOKED)
    first.refresh_from_db()
    assert available(anon.get(url(office, first, second)), first) == 5 - first.taken
    taken = first.taken
    with django_capture_on_commit_callbacks(execute=True):
        cancel_application(application_id=application.pk, actor=None, reason="test")
    assert available(anon.get(url(office, first, second)), first) == 5 - taken + 1


@pytest.mark.django_db(transaction=True)
def test_readers_racing_a_claim_rebuild_the_day_once_and_never_wait():
    office = OfficeFactory(code="kanim-jember", timezone="Asia/Jakarta")
    slot = SlotFactory(office=office, capacity=5)
    path = f"/api/v1/offices/{office.code}/availability/?from={slot.date}&to={slot.date}"
    APIClient().get(path)
    with transaction.atomic():
        claim_places(slot_id=slot.pk, now=timezone.now())  # marks the day after this commit

    readers, start, slot_reads, seen = 8, threading.Barrier(8), [], []
    lock = threading.Lock()

    def count_slot_reads(execute, sql, params, many, context):
        if 'FROM "quotas_slot"' in sql:
            with lock:
                slot_reads.append(sql)
        return execute(sql, params, many, context)

    def read():
        try:
            start.wait()
            with connection.execute_wrapper(count_slot_reads):
                response = APIClient().get(path)
            with lock:
                seen.append((response.status_code, available(response, slot)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status == 200 for status, _ in seen) and len(seen) == readers
    assert {places for _, places in seen} <= {5, 4}
    # One request rebuilt the day (a second one only when it read before the first stored it).
    assert 1 <= len(slot_reads) <= 2
    assert available(APIClient().get(path), slot) == 4


def test_a_sold_out_slot_is_refused_before_the_body_is_validated(api, office, django_assert_max_num_queries):
    slot = SlotFactory(office=office, capacity=1, taken=1)
    body = {"slot": slot.pk}  # nothing else: the full request would answer 400
    assert_error(api.post("/api/v1/applications/", body, format="json"), 400, "invalid")

    full = {
        "slot": slot.pk,
        "passport_type": "regular",
        "validity_years": 5,
        "application_kind": "new",
        "express": False,
        "applicant": {**vars(applicant_data()), "birth_date": "1990-05-17"},
    }
    assert_error(api.post("/api/v1/applications/", full, format="json"), 409, "slot_full")  # remembered
    assert_error(api.post("/api/v1/applications/", body, format="json"), 409, "slot_full")
    # An Idempotency-Key's retry must get its stored answer: never the early refusal.
    keyed = api.post("/api/v1/applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1234567890")
    assert_error(keyed, 400, "invalid")
    time.sleep(1.1)  # the flag lives a second
    assert_error(api.post("/api/v1/applications/", body, format="json"), 400, "invalid")


def test_a_place_given_back_ends_the_early_refusal_at_once(api, office, django_capture_on_commit_callbacks):
    slot = SlotFactory(office=office, capacity=1)
    application = ApplicationFactory(slot=slot, status=Status.BOOKED)  # takes the one place
    body = {"slot": slot.pk}
    with pytest.raises(SlotFull), transaction.atomic():
        claim_places(slot_id=slot.pk, now=timezone.now())
    assert_error(api.post("/api/v1/applications/", body, format="json"), 409, "slot_full")
    with django_capture_on_commit_callbacks(execute=True):
        cancel_application(application_id=application.pk, actor=None, reason="test")
    assert_error(api.post("/api/v1/applications/", body, format="json"), 400, "invalid")


def test_a_warm_read_is_answered_by_the_middleware_with_what_the_view_answers(
    anon, office, slots, monkeypatch, django_assert_num_queries
):
    first, second = slots
    view = anon.get(url(office, first, second), HTTP_ACCEPT_LANGUAGE="en")
    monkeypatch.setattr(OfficeAvailabilityApi, "get", lambda *a, **k: pytest.fail("the full path was taken"))
    with django_assert_num_queries(0):
        fast = anon.get(url(office, first, second), HTTP_ACCEPT_LANGUAGE="en")
    assert fast.status_code == view.status_code == 200
    assert fast.content == view.content
    for header in ("Content-Type", "ETag", "Content-Language", "Vary", "X-Frame-Options", "X-Content-Type-Options"):
        assert fast[header] == view[header], header
    assert fast["Content-Language"] == "en"
    assert (
        anon.get(url(office, first, second), HTTP_IF_NONE_MATCH=view["ETag"], HTTP_ACCEPT_LANGUAGE="en").status_code
        == 304
    )
    # Indonesian was never built: the middleware passes it on to the (failing) view.
    with pytest.raises(pytest.fail.Exception):
        anon.get(url(office, first, second), HTTP_ACCEPT_LANGUAGE="id")


def test_the_middleware_counts_the_search(anon, office, slots):
    first, second = slots
    anon.get(url(office, first, second))
    anon.get(url(office, first, second))
    day = timezone.now().astimezone(office.tzinfo).date()
    send_search_counts()  # what the process has not sent within its second yet
    assert cache.get(_search_key(office.pk, day, "searches")) == 2


def test_a_stale_day_a_bad_range_or_an_unknown_office_take_the_full_path(
    anon, office, slots, django_capture_on_commit_callbacks
):
    first, second = slots
    anon.get(url(office, first, second))
    with django_capture_on_commit_callbacks(execute=True):
        claim(first)
    assert available(anon.get(url(office, first, second)), first) == 4  # rebuilt, not the old bytes
    backwards = f"/api/v1/offices/{office.code}/availability/?from={second.date}&to={first.date}"
    assert_error(anon.get(backwards), 400, "invalid")
    assert anon.get(f"/api/v1/offices/nowhere/availability/?from={first.date}&to={first.date}").status_code == 404


def test_a_day_is_rebuilt_at_most_once_per_interval_while_claims_change_it(
    anon, office, slots, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first, second = slots
    settings.AVAILABILITY_REBUILD_SECONDS = 30
    anon.get(url(office, first, second))
    with django_capture_on_commit_callbacks(execute=True):
        claim(first)
    with django_assert_num_queries(0):
        assert available(anon.get(url(office, first, second)), first) == 5  # built just now: served
    settings.AVAILABILITY_REBUILD_SECONDS = 0  # the interval is over
    assert available(anon.get(url(office, first, second)), first) == 4


def test_the_middleware_keeps_the_rate_limit_per_address(anon, office, slots, settings):
    first, second = slots
    settings.RATE_LIMITS_ENABLED = True
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "ip": "3/min"}
    cache.clear()
    answers = [anon.get(url(office, first, second)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


# --- The joined answer of a range ------------------------------------------------------------


def test_a_range_read_again_is_its_joined_answer_without_its_days(
    anon, office, slots, monkeypatch, django_assert_num_queries
):
    first, _second = slots
    built = anon.get(month(office, first.date))
    # The days' entries are gone: the joined answer alone is enough, before the view.
    cache.delete_many([_day_key(office.code, "id", first.date + dt.timedelta(days=i)) for i in range(31)])
    monkeypatch.setattr(OfficeAvailabilityApi, "get", lambda *a, **k: pytest.fail("the full path was taken"))
    with django_assert_num_queries(0):
        hit = anon.get(month(office, first.date), HTTP_IF_NONE_MATCH=built["ETag"])
    assert hit.status_code == 304 and hit["ETag"] == built["ETag"]
    assert anon.get(month(office, first.date)).content == built.content


def test_a_claim_shows_in_a_cached_range_within_a_second(
    anon, office, slots, settings, django_capture_on_commit_callbacks
):
    first, _second = slots
    settings.AVAILABILITY_REBUILD_SECONDS = 0.5  # as in production
    before = anon.get(month(office, first.date))
    assert anon.get(month(office, first.date), HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        claim(first)  # marks the day and its office after the commit
    claimed = time.monotonic()
    while (answer := anon.get(month(office, first.date), HTTP_IF_NONE_MATCH=before["ETag"])).status_code == 304:
        assert time.monotonic() - claimed < 1, "the claim did not show within a second"
        time.sleep(0.02)
    assert available(answer, first) == 4 and answer["ETag"] != before["ETag"]


def test_a_change_elsewhere_in_the_office_rejoins_the_range_from_its_days_with_the_same_etag(
    anon, office, slots, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first, _second = slots
    later = SlotFactory(office=office, starts_at=first.starts_at + dt.timedelta(days=40), capacity=2)
    before = anon.get(month(office, first.date))
    anon.get(url(office, later, later))
    with django_capture_on_commit_callbacks(execute=True):
        claim(later)  # a day outside the month: its days are unchanged
    with django_assert_num_queries(0):  # joined again from the days' entries, no day rebuilt
        again = anon.get(month(office, first.date), HTTP_IF_NONE_MATCH=before["ETag"])
    assert again.status_code == 304 and again["ETag"] == before["ETag"]

    with django_capture_on_commit_callbacks(execute=True):
        claim(first)
    with django_assert_num_queries(2):  # that one day rebuilt: the slots, the closed days
        rebuilt = anon.get(month(office, first.date), HTTP_IF_NONE_MATCH=before["ETag"])
    assert rebuilt.status_code == 200 and rebuilt["ETag"] != before["ETag"]
    assert available(rebuilt, first) == 4
    with django_assert_num_queries(0):
        assert anon.get(month(office, first.date), HTTP_IF_NONE_MATCH=rebuilt["ETag"]).status_code == 304


def test_a_range_joined_from_a_day_behind_its_mark_is_served_no_longer_than_that_day(
    anon, office, slots, settings, django_capture_on_commit_callbacks
):
    first, _second = slots
    settings.AVAILABILITY_REBUILD_SECONDS = 30
    anon.get(url(office, first, first))
    with django_capture_on_commit_callbacks(execute=True):
        claim(first)
    # A range asked for the first time now joins the day built before the claim (too recent to
    # rebuild): the previous bytes, but only for as long as the day itself would be served.
    assert available(anon.get(month(office, first.date, days=20)), first) == 5
    settings.AVAILABILITY_REBUILD_SECONDS = 0  # the day's interval is over
    assert available(anon.get(month(office, first.date, days=20)), first) == 4
