"""Prometheus metrics: the objects, and one small call per thing counted.

Apps call the functions below, never the metric objects, so the names and labels are decided
here once. Under gunicorn each worker process counts in files under PROMETHEUS_MULTIPROC_DIR
(prometheus_client's multiprocess mode, set up by deploy/gunicorn.conf.py) and `/metrics` adds
them up; without that directory (tests, `runserver`) the counts live in the process. A Celery
worker started with CELERY_METRICS_PORT serves its processes' counts on that port (the draw and
the offers are counted there).

Who calls what:

| call | from |
|---|---|
| `count_booking(people=n)` | `appointments.services.booking.book_applications`, once it committed |
| `count_refusal(code)` | `mpaspor.api.exception_handler`, for every error answer of the API |
| `count_availability_cache(hits=, misses=)` | the availability cache, per day looked up (quotas.availability_cache) |
| `time_draw()` | the draw of a release, around the allocation (a `with` block) |
| `count_offer(given_back_at=, offered_at=)` | the waiting list, when a freed place becomes an offer |
| queue depths | read from the broker at each scrape (`QueueDepthCollector`), no call |
"""

import datetime as dt
import logging
import os
import time
from contextlib import contextmanager

import redis
from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess, start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily

logger = logging.getLogger(__name__)

BOOKINGS = Counter("mpaspor_bookings", "Applications booked (one per person given a place).")
REFUSALS = Counter("mpaspor_refusals", "API error answers, by their code.", ["code"])
AVAILABILITY_CACHE = Counter(
    "mpaspor_availability_cache_lookups", "Days of availability looked up in the cache, by result.", ["result"]
)
DRAW_SECONDS = Histogram(
    "mpaspor_draw_duration_seconds", "Time a release's draw took.", buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
)
OFFERS = Counter("mpaspor_offers", "Places given back that became an offer to someone waiting.")
OFFER_REACH_SECONDS = Histogram(
    "mpaspor_offer_reach_seconds",
    "From the commit that gave a place back to its offer (the target is under 60 s).",
    buckets=(1, 5, 15, 30, 60, 120, 300, 900),
)


def count_booking(*, people: int) -> None:
    BOOKINGS.inc(people)


def count_refusal(code: str) -> None:
    REFUSALS.labels(code=code).inc()


def count_availability_cache(*, hits: int, misses: int) -> None:
    if hits:
        AVAILABILITY_CACHE.labels(result="hit").inc(hits)
    if misses:
        AVAILABILITY_CACHE.labels(result="miss").inc(misses)


@contextmanager
def time_draw():
    started = time.perf_counter()
    yield
    DRAW_SECONDS.observe(time.perf_counter() - started)


def count_offer(*, given_back_at: dt.datetime, offered_at: dt.datetime) -> None:
    OFFERS.inc()
    OFFER_REACH_SECONDS.observe(max(0.0, (offered_at - given_back_at).total_seconds()))


# --- The scrape ------------------------------------------------------------------------------


class QueueDepthCollector:
    """Messages waiting in each Celery queue, read from the Redis broker at each scrape (a list
    per queue, LLEN). Nothing is reported on another broker, or while Redis cannot be reached."""

    def collect(self):
        broker = settings.CELERY_BROKER_URL
        if not broker.startswith(("redis://", "rediss://")):
            return
        gauge = GaugeMetricFamily("mpaspor_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"])
        try:
            client = redis.Redis.from_url(broker, socket_connect_timeout=0.5, socket_timeout=0.5)
            with client.pipeline(transaction=False) as pipe:
                for queue in settings.CELERY_QUEUE_NAMES:
                    pipe.llen(queue)
                depths = pipe.execute()
        except redis.RedisError:
            logger.warning("The broker cannot be reached for the queue depths.", exc_info=True)
            return
        for queue, depth in zip(settings.CELERY_QUEUE_NAMES, depths, strict=True):
            gauge.add_metric([queue], depth)
        yield gauge


def _counts() -> CollectorRegistry:
    """Every process's counts: all of this node's processes when they count in files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition() -> bytes:
    """The text Prometheus scrapes from a web node: the counts, and the queue depths."""
    return generate_latest(_counts()) + generate_latest(_queues)


def serve_worker_metrics(port: int) -> None:
    """A Celery worker's counts (offers, draws: they happen in workers) on their own port, for
    Prometheus to scrape as it scrapes the web nodes."""
    start_http_server(port, registry=_counts())


_queues = CollectorRegistry(auto_describe=True)
_queues.register(QueueDepthCollector())
