"""Reads that may come from the read replica, and the router that sends them there.

Only code run under `reads_replica` (a decorator or a `with` block: the reports' figures, their
exports and the capacity evaluation) reads from the replica; every other read, every write and
so the whole booking path use the primary ("default"). Inside `reads_replica` the reads still go
to the primary when no replica is configured (`REPLICA_DATABASE_URL`), when it cannot be reached,
or when it lags more than `REPLICA_MAX_LAG_SECONDS`. The lag is checked at most once every
`REPLICA_LAG_CHECK_SECONDS` per process.
"""

import contextvars
import logging
import time
from contextlib import ContextDecorator

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"

# The replica's lag, in seconds, counted only while it has received WAL it has not replayed yet:
# an idle primary sends nothing, and a replica that has replayed all it received is current
# however old its last transaction is. NULL when it is behind but has replayed nothing yet
# (treated as lagging). On a server that is not a replica both positions are NULL: no lag.
LAG_SQL = """
SELECT CASE
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0.0
    ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float
END
"""

_replica_reads = contextvars.ContextVar("replica_reads", default=False)
_checked: dict[str, tuple[float, bool]] = {}  # alias -> (checked at, monotonic; usable)


class reads_replica(ContextDecorator):  # noqa: N801 - used as a decorator, named like one
    """Reads inside may come from the replica (writes never do)."""

    def __enter__(self):
        self._token = _replica_reads.set(True)
        return self

    def __exit__(self, *exc):
        _replica_reads.reset(self._token)
        return False


def replica_lag_seconds(alias: str = REPLICA) -> float | None:
    """The replica's lag (see LAG_SQL); None when behind with nothing replayed yet."""
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        (lag,) = cursor.fetchone()
    return lag


def replica_usable(alias: str = REPLICA) -> bool:
    """Whether the replica is configured, reachable and lags at most REPLICA_MAX_LAG_SECONDS;
    remembered for REPLICA_LAG_CHECK_SECONDS."""
    if not settings.REPLICA_DATABASE_URL:
        return False
    now = time.monotonic()
    checked = _checked.get(alias)
    if checked and now - checked[0] < settings.REPLICA_LAG_CHECK_SECONDS:
        return checked[1]
    try:
        lag = replica_lag_seconds(alias)
    except DatabaseError:
        logger.warning("The read replica %r cannot be reached; reading the primary.", alias, exc_info=True)
        connections[alias].close()
        usable = False
    else:
        usable = lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
        if not usable:
            logger.warning("The read replica %r lags %s s; reading the primary.", alias, lag)
    _checked[alias] = (now, usable)
    return usable


def forget_replica_checks() -> None:
    """Check the replica again at the next read (after its settings or state changed)."""
    _checked.clear()


class ReplicaRouter:
    """Reads under `reads_replica` go to a usable replica; everything else to the primary."""

    def db_for_read(self, model, **hints):
        if _replica_reads.get() and replica_usable(REPLICA):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's WAL
