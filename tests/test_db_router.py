"""The database router: what reads the replica, what never does, and when reads fall back to the
primary. Here the "replica" is a second connection to the test database (tests/conftest.py);
`make test-scale` proves the same against a real streaming replica (tests/scale/)."""

import datetime as dt

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mpaspor.db_router import ReplicaRouter, forget_replica_checks, reads_replica, replica_lag_seconds
from offices.models import Office
from reports.models import OfficeDay
from reports.selectors import office_report
from tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def replica(settings):
    """A replica configured, reachable and current."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("the replica is PostgreSQL's streaming replication")
    settings.REPLICA_DATABASE_URL = "postgres://replica"  # only its presence is read
    forget_replica_checks()
    yield connections["replica"]
    forget_replica_checks()


def _office_with_a_day():
    office = OfficeFactory()
    OfficeDay.objects.create(office=office, date=DAY, online_offered=10, online_taken=7, computed_at=timezone.now())
    return office


def _report(office):
    return office_report(offices=[office], date_from=DAY, date_to=DAY)


def test_the_reports_read_the_replica_when_it_is_usable(replica):
    office = _office_with_a_day()
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(connections["default"]) as on_primary:
        report = _report(office)
    assert report.summary[0]["online_taken"] == 7
    assert any("reports_officeday" in q["sql"] for q in on_replica.captured_queries)
    assert not any("reports_officeday" in q["sql"] for q in on_primary.captured_queries)


def test_without_a_replica_the_reports_read_the_primary(settings):
    settings.REPLICA_DATABASE_URL = ""
    forget_replica_checks()
    office = _office_with_a_day()
    with CaptureQueriesContext(connections["default"]) as on_primary:
        assert _report(office).summary[0]["online_taken"] == 7
    assert any("reports_officeday" in q["sql"] for q in on_primary.captured_queries)


def test_a_replica_lagging_beyond_the_limit_is_not_read(replica, settings):
    settings.REPLICA_MAX_LAG_SECONDS = -1  # any lag, even none, is too much
    office = _office_with_a_day()
    with CaptureQueriesContext(replica) as on_replica:
        assert _report(office).summary[0]["online_taken"] == 7
    assert not any("reports_officeday" in q["sql"] for q in on_replica.captured_queries)


def test_an_unreachable_replica_is_not_read_and_not_asked_again_at_once(replica):
    office = _office_with_a_day()
    port = replica.settings_dict["PORT"]
    replica.close()
    replica.settings_dict["PORT"] = 1  # nothing listens there
    try:
        assert _report(office).summary[0]["online_taken"] == 7
        replica.settings_dict["PORT"] = port  # reachable again, but the answer is remembered
        with CaptureQueriesContext(replica) as on_replica:
            _report(office)
        assert on_replica.captured_queries == []
        forget_replica_checks()  # as after REPLICA_LAG_CHECK_SECONDS
        with CaptureQueriesContext(replica) as on_replica:
            _report(office)
        assert any("reports_officeday" in q["sql"] for q in on_replica.captured_queries)
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port


def test_an_idle_primary_counts_as_no_lag(replica):
    """Not a replica: both WAL positions are NULL, which is no lag (not "unknown")."""
    assert replica_lag_seconds() == 0.0


def test_writes_and_reads_outside_the_reports_never_go_to_the_replica(replica):
    router = ReplicaRouter()
    with reads_replica():
        assert router.db_for_write(OfficeDay) == "default"
        assert router.db_for_read(OfficeDay) == "replica"
    assert router.db_for_read(OfficeDay) == "default"
    assert router.db_for_read(Office) == "default"
    assert router.allow_migrate("replica", "reports") is False
    assert router.allow_migrate("default", "reports") is True


def test_a_write_inside_the_reports_block_goes_to_the_primary(replica):
    office = OfficeFactory()
    with reads_replica():
        OfficeDay.objects.create(office=office, date=DAY, computed_at=timezone.now())
        assert OfficeDay.objects.using("default").filter(office=office).exists()
