"""The deployment files agree with the code: every queue has a worker, every web node sits behind
the load balancer and is probed, the beat is one. (make test-scale runs the same gunicorn and
nginx files for real.)"""

from pathlib import Path

import yaml
from django.conf import settings

DEPLOY = Path(settings.BASE_DIR) / "deploy"


def _compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]


def _consumed_queues(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(",")) if "-Q" in command else set()


def test_every_queue_has_a_worker_and_the_urgent_one_a_worker_of_its_own():
    services = _compose()
    workers = [s["command"] for s in services.values() if "worker" in s.get("command", [])]
    consumed = set().union(*(_consumed_queues(c) for c in workers))
    assert consumed == set(settings.CELERY_QUEUE_NAMES)
    assert ["urgent"] in [sorted(_consumed_queues(c)) for c in workers]


def test_one_beat_and_web_nodes_behind_the_load_balancer_with_their_probe():
    services = _compose()
    beats = [name for name, s in services.items() if "beat" in s.get("command", [])]
    assert beats == ["beat"]
    web = [name for name, s in services.items() if "mpaspor.wsgi" in s.get("command", [])]
    assert web == ["web1", "web2"]
    nginx = (DEPLOY / "nginx/mpaspor.conf").read_text()
    for name in web:
        assert f"server {name}:8000" in nginx
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
        # gunicorn's graceful timeout fits in the time the container is given to stop
        assert int(services[name]["stop_grace_period"].rstrip("s")) > 30


def test_the_environment_example_holds_no_secret():
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line.startswith(("DJANGO_SECRET_KEY=", "PAYMENT_GATEWAY_SECRET=", "PHONE_GATEWAY_TOKEN=")):
            assert line.endswith("="), line
