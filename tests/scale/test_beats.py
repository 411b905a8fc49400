"""Two beats running at once send each periodic run once: each run first takes a Redis lock named
after its task (mpaspor.beat.RunLock, the mixin of production's LockedDatabaseScheduler). The
beats here keep their schedules in files (tests/scale/beat_schedulers.py), so without the lock,
the control, both send every run."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SWEEP = "notifications.sweep_outboxes"  # every 15 s
BOTH_RUNNING_SECONDS = 50


def _log_lines(path: Path) -> list[dict]:
    lines = []
    for text in path.read_text(errors="replace").splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))
    return lines


def _sweep_sends_of_two_beats(scheduler: str, tmp_path) -> tuple[list[float], int]:
    """Runs two beats until both have been up for BOTH_RUNNING_SECONDS; returns the times (epoch
    seconds) at which either sent the outbox sweep, and how many runs a beat left to the other."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        # A broker of its own: nothing consumes what the beats send.
        "CELERY_BROKER_URL": settings.REDIS_URL.rsplit("/", 1)[0] + "/1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_FORMAT": "json",
    }
    logs = [tmp_path / f"beat-{scheduler.rsplit(':', 1)[1]}-{number}.log" for number in (1, 2)]
    beats = []
    try:
        for log in logs:
            beats.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "mpaspor", "beat", "--loglevel=INFO"]
                    + ["--scheduler", scheduler, "--max-interval", "1", "--pidfile="]
                    + ["--schedule", str(log.with_suffix(".schedule"))],
                    cwd=ROOT,
                    env=env,
                    stdout=open(log, "ab"),  # noqa: SIM115 - the child keeps it
                    stderr=subprocess.STDOUT,
                )
            )
            time.sleep(2)
        deadline = time.monotonic() + 180
        while not all(log.exists() and "beat: Starting" in log.read_text(errors="replace") for log in logs):
            assert time.monotonic() < deadline, "the beats did not start"
            time.sleep(0.5)
        time.sleep(BOTH_RUNNING_SECONDS)
    finally:
        for beat in beats:
            beat.terminate()
            beat.wait(30)
    sends, skipped = [], 0
    for log in logs:
        for line in _log_lines(log):
            if line["message"].startswith(f"Scheduler: Sending due task notifications-sweep-outboxes ({SWEEP})"):
                sends.append(dt.datetime.fromisoformat(line["time"]).timestamp())
            elif f"({SWEEP}) already sent by another beat" in line["message"]:
                skipped += 1
    return sorted(sends), skipped


def _closest(sends: list[float]) -> float:
    return min((b - a for a, b in zip(sends, sends[1:], strict=False)), default=float("inf"))


@pytest.mark.timeout(900)  # two rounds of two beats starting, on a loaded machine
def test_two_beats_send_each_run_once(tmp_path):
    sends, skipped = _sweep_sends_of_two_beats("tests.scale.beat_schedulers:LockedPersistentScheduler", tmp_path)
    print(f"with the lock: sweeps sent at {[round(s % 3600, 1) for s in sends]}, {skipped} left to the other beat")
    assert len(sends) >= 2 and skipped >= 1  # both beats were due, one sent
    assert _closest(sends) >= 0.9 * 15 - 0.5  # never two sends of one 15 s run

    sends, _ = _sweep_sends_of_two_beats("celery.beat:PersistentScheduler", tmp_path)
    print(f"without it (the control): sweeps sent at {[round(s % 3600, 1) for s in sends]}")
    assert _closest(sends) < 0.9 * 15 - 0.5  # both beats sent the same run
