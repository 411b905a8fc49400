"""What the load balancer, the orchestrator and Prometheus ask a node, answered before the rest
of the middleware: no HTTPS redirect (they speak plain HTTP to the node), no host check, no
session, no language, no rate limit.

- `GET /healthz`: the process answers (liveness). Touches nothing else.
- `GET /readyz`: the database, Redis (when configured) and the broker answer (readiness); 503
  naming what failed otherwise, so the load balancer sends no traffic to a node that cannot serve.
- `GET /metrics`: Prometheus' text (mpaspor.metrics). The load balancer does not pass it from
  outside (deploy/nginx/mpaspor.conf); Prometheus scrapes each node on its own port.
"""

import logging

import redis
from celery import current_app
from django.conf import settings
from django.db import connections
from django.http import HttpResponse, JsonResponse

from mpaspor.metrics import exposition

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    if settings.REDIS_URL:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()


def check_broker() -> None:
    with current_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=TIMEOUT_SECONDS)


CHECKS = {"database": check_database, "redis": check_redis, "broker": check_broker}


def readiness() -> tuple[bool, dict[str, str]]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure makes the node not ready
            logger.warning("Not ready: %s: %s", name, error)
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    return all(result == "ok" for result in results.values()), results


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path == "/healthz":
            return JsonResponse({"status": "alive"})
        if path == "/readyz":
            ready, checks = readiness()
            return JsonResponse(
                {"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503
            )
        if path == "/metrics":
            return HttpResponse(exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")
        return self.get_response(request)
