"""gunicorn's settings for a web node (`gunicorn -c deploy/gunicorn.conf.py mpaspor.wsgi`).

Graceful shutdown: on SIGTERM gunicorn stops accepting connections and gives the requests in
flight up to GUNICORN_GRACEFUL_TIMEOUT seconds to finish, so a node stopped during a release burst
answers every booking it accepted; the load balancer sends new ones to the other nodes."""

import os
import shutil

from prometheus_client import multiprocess

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# The load balancer buffers slow clients; behind it a sync worker holds no idle connection.
keepalive = 2
accesslog = "-"
# One JSON object per request, with the id the application logs under (X-Request-ID).
access_log_format = (
    '{"time": "%(t)s", "request_id": "%({x-request-id}o)s", "method": "%(m)s", "path": "%(U)s", '
    '"status": %(s)s, "duration_ms": %(M)s, "bytes": "%(B)s", "remote": "%(h)s"}'
)

# Metrics of every worker process, added up at each scrape (mpaspor/metrics.py).
metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    if metrics_dir:  # the counts of a previous run of this node start again from zero
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.makedirs(metrics_dir, exist_ok=True)


def child_exit(server, worker):
    if metrics_dir:
        multiprocess.mark_process_dead(worker.pid)
