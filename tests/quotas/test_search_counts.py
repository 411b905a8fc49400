import datetime as dt

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import create_api_token
from quotas.models import SearchTally
from quotas.services import searches
from quotas.services.searches import (
    _search_key,
    flush_search_counts,
    record_availability_search,
    send_search_counts,
)
from tests.factories import OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db

# 23:30 UTC on 1 March is already 2 March in Jakarta (WIB) and in Jayapura (WIT).
LATE = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)


def search(office, found_free, now=LATE, days=14):
    record_availability_search(
        office=office,
        date_from=dt.date(2026, 3, 3),
        date_to=dt.date(2026, 3, 3) + dt.timedelta(days=days - 1),
        found_free=found_free,
        now=now,
    )


def tallies():
    return list(
        SearchTally.objects.order_by("office_id", "day").values_list(
            "office__code", "day", "searches", "found_nothing", "days_asked"
        )
    )


def test_searches_are_counted_in_the_cache_and_flushed_once():
    office = OfficeFactory(code="kanim-jember")
    for found in (True, False, False):
        search(office, found)
    assert SearchTally.objects.count() == 0  # nothing written on the search path
    assert flush_search_counts(now=LATE) == 3
    assert tallies() == [("kanim-jember", dt.date(2026, 3, 2), 3, 2, 42)]
    assert flush_search_counts(now=LATE) == 0  # a second flush moves nothing again
    search(office, False)
    flush_search_counts(now=LATE)
    assert tallies() == [("kanim-jember", dt.date(2026, 3, 2), 4, 3, 56)]


def test_the_day_is_the_office_own_date():
    jakarta = OfficeFactory(code="kanim-a", timezone="Asia/Jakarta")
    jayapura = OfficeFactory(code="kanim-b", timezone="Asia/Jayapura")
    early = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)  # 23:30 WIB on 1 March, 01:30 WIT on 2 March
    search(jakarta, True, now=early)
    search(jayapura, True, now=early)
    flush_search_counts(now=early)
    assert [(code, day) for code, day, *_ in tallies()] == [
        ("kanim-a", dt.date(2026, 3, 1)),
        ("kanim-b", dt.date(2026, 3, 2)),
    ]


def test_a_cache_outage_loses_the_count_not_the_search(monkeypatch):
    office = OfficeFactory()

    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "count_many", broken)
    search(office, False)  # does not raise
    send_search_counts()  # nor does sending it
    monkeypatch.undo()
    assert flush_search_counts(now=LATE) == 0


@pytest.mark.django_db
def test_the_web_calendar_counts_one_search(client, office):
    client.get(f"/offices/{office.code}/")
    flush_search_counts()
    assert SearchTally.objects.get(office=office).searches == 1


@pytest.mark.django_db
def test_the_api_availability_counts_one_search(office):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_api_token(user=UserFactory())}")
    assert client.get(f"/api/v1/offices/{office.code}/availability/").status_code == 200
    flush_search_counts()
    tally = SearchTally.objects.get(office=office)
    assert (tally.searches, tally.found_nothing, tally.days_asked) == (1, 1, 14)


def test_a_process_sends_its_counts_at_most_once_a_second(monkeypatch):
    office = OfficeFactory(code="kanim-jember")
    key = _search_key(office.pk, dt.date(2026, 3, 2), "searches")
    send_search_counts()  # a second starts now
    search(office, True)
    search(office, True)
    assert cache.get(key) is None  # within the second they wait in the process
    monkeypatch.setattr(searches, "SEARCH_SEND_SECONDS", 0)  # the second is over
    search(office, True)
    assert cache.get(key) == 3  # all three in one round trip
