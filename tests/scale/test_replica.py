"""The reports on a real streaming replica (pg_basebackup, tests/scale/cluster.py): read there while
it is current, from the primary while it lags, and an idle primary never makes it look lagged."""

import datetime as dt
import time

import pytest
import requests
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mpaspor.db_router import forget_replica_checks, replica_lag_seconds
from reports.models import OfficeDay
from reports.selectors import office_report
from tests.factories import OfficeFactory
from tests.scale.conftest import sign_in, user_who_can_sign_in, wait_until

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def replica(settings):
    settings.REPLICA_MAX_LAG_SECONDS = 1
    forget_replica_checks()
    replica = connections["replica"]
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (True,), "not a streaming replica"
    yield replica
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    forget_replica_checks()


def _replay(replica, action: str) -> None:
    with replica.cursor() as cursor:
        cursor.execute(f"SELECT pg_wal_replay_{action}()")


def _on_replica(replica, office) -> tuple[int | None, bool]:
    """(online places taken that the report shows, whether it read the replica)."""
    forget_replica_checks()
    with CaptureQueriesContext(replica) as on_replica:
        report = office_report(offices=[office], date_from=DAY, date_to=DAY)
    read_replica = any("reports_officeday" in q["sql"] for q in on_replica.captured_queries)
    return report.summary[0]["online_taken"], read_replica


def _caught_up(replica, office) -> bool:
    with replica.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_officeday WHERE office_id = %s", [office.pk])
        return cursor.fetchone()[0] == 1


def test_reports_read_the_replica_and_the_primary_while_it_lags(replica):
    office = OfficeFactory()
    OfficeDay.objects.create(office=office, date=DAY, online_taken=7, computed_at=timezone.now())
    wait_until(lambda: _caught_up(replica, office), "the replica to replay the row")
    assert _on_replica(replica, office) == (7, True)

    # Replay stops; the primary goes on writing: received WAL waits, unreplayed, and ages.
    _replay(replica, "pause")
    OfficeDay.objects.filter(office=office).update(online_taken=9)
    time.sleep(1.5)
    lag = replica_lag_seconds()
    assert lag is not None and lag > 1, lag
    assert _on_replica(replica, office) == (9, False)  # the primary's figure, not the replica's 7

    _replay(replica, "resume")
    wait_until(lambda: replica_lag_seconds() == 0.0, "the replica to catch up")
    assert _on_replica(replica, office) == (9, True)


def test_an_idle_primary_does_not_make_the_replica_look_lagged(replica):
    office = OfficeFactory()
    OfficeDay.objects.create(office=office, date=DAY, online_taken=3, computed_at=timezone.now())
    wait_until(lambda: _caught_up(replica, office), "the replica to replay the row")
    time.sleep(2.5)  # nothing written: the last replayed transaction is older than the limit
    with replica.cursor() as cursor:
        cursor.execute("SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())")
        assert cursor.fetchone()[0] > 1  # what a naive lag would report
    assert replica_lag_seconds() == 0.0
    assert _on_replica(replica, office) == (3, True)


def _node_sessions_on(replica) -> int:
    with replica.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_nodes_report_export_reads_the_replica(stack, replica):
    """Over HTTP through the load balancer: the web nodes (started with REPLICA_DATABASE_URL) open
    connections to the replica only for the reports, and the export answers the figures."""
    office = OfficeFactory()
    OfficeDay.objects.create(office=office, date=DAY, online_taken=5, computed_at=timezone.now())
    wait_until(lambda: _caught_up(replica, office), "the replica to replay the row")
    browser = requests.Session()
    signed_in = sign_in(browser, stack["lb"], user_who_can_sign_in(is_superuser=True, is_staff=True))
    assert signed_in.status_code == 302 and "sessionid" in browser.cookies
    assert _node_sessions_on(replica) == 0  # signing in read the primary only
    for _ in range(2):  # whichever node answers, each that does reads the replica
        export = browser.get(f"{stack['lb']}/reports/?month=2026-03&office={office.code}&format=csv")
        assert export.status_code == 200, export.text[:300]
    assert _node_sessions_on(replica) >= 1
