"""Two beats running at once send each periodic run once: each run first takes a Redis lock named
after its task (mpaspor/beat.py). Without the lock (django-celery-beat's own scheduler, the
control) the same two beats send the outbox sweep twice as often."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
WINDOW_SECONDS = 40  # the sweep (every 15 s) runs twice in it from one beat: at ~15 and ~30 s


def _sweeps_sent_by_two_beats(scheduler: str, tmp_path) -> int:
    db = settings.DATABASES["default"]
    broker_url = settings.REDIS_URL.rsplit("/", 1)[0] + "/1"  # a broker of its own: nothing else sends there
    broker = redis.Redis.from_url(broker_url)
    broker.flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    beats = []
    try:
        for number in (1, 2):
            log = open(tmp_path / f"beat-{scheduler.rsplit(':', 1)[1]}-{number}.log", "ab")  # noqa: SIM115
            beats.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "mpaspor", "beat", "--loglevel=INFO"]
                    + ["--scheduler", scheduler, "--max-interval", "1", "--pidfile="],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            time.sleep(1.5)  # the first one has written the schedule's rows
        time.sleep(WINDOW_SECONDS)
    finally:
        for beat in beats:
            beat.terminate()
            beat.wait(20)
    messages = [json.loads(m) for m in broker.lrange("urgent", 0, -1)]
    return sum(1 for m in messages if m["headers"]["task"] == "notifications.sweep_outboxes")


def test_two_beats_send_each_run_once(tmp_path):
    locked = _sweeps_sent_by_two_beats("mpaspor.beat:LockedDatabaseScheduler", tmp_path)
    print(f"outbox sweeps sent in {WINDOW_SECONDS} s by two beats: {locked} with the lock")
    assert 1 <= locked <= 2, locked
    unlocked = _sweeps_sent_by_two_beats("django_celery_beat.schedulers:DatabaseScheduler", tmp_path)
    print(f"... and {unlocked} without it")
    assert unlocked >= 3, unlocked  # the control: the same beats without the lock
