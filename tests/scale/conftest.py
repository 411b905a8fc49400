"""Two web nodes behind nginx, on the primary, replica and Redis of tests/scale/cluster.py.

Collected only under `make test-scale` (SCALE_TESTS=1, tests/conftest.py), which starts the
cluster first and points DATABASE_URL, REPLICA_DATABASE_URL and REDIS_URL at it. Each node is
gunicorn with deploy/gunicorn.conf.py and production settings (plain HTTP); nginx runs
deploy/nginx/mpaspor.conf with the nodes' addresses put in."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
LB_PORT = int(os.environ.get("SCALE_LB_PORT", "8100"))
NODE_PORTS = (8101, 8102)
LB = f"http://127.0.0.1:{LB_PORT}"


def _url(alias: str) -> str:
    db = settings.DATABASES[alias]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Node:
    """One gunicorn web node; stopped by its own pid."""

    def __init__(self, port: int, env: dict, workdir: Path):
        self.port, self.env, self.workdir = port, env, workdir
        self.url = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self) -> None:
        metrics = self.workdir / f"metrics-{self.port}"
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        log = open(self.workdir / f"node-{self.port}.log", "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "mpaspor.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _status(f"{self.url}/readyz") == 200, f"node {self.port} ready")

    def stop(self, sig=signal.SIGTERM, timeout: float = 40) -> int:
        """Stops the node (SIGTERM: gunicorn's graceful shutdown) and returns its exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=2).status_code
    except requests.RequestException:
        return None


def wait_until(check, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def nginx_conf(workdir: Path) -> Path:
    """deploy/nginx/mpaspor.conf with this machine's node addresses and port, in a main config
    whose files all live in `workdir`."""
    site = (ROOT / "deploy/nginx/mpaspor.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in NODE_PORTS)
    site = re.sub(r"(upstream mpaspor_web \{\n)(?:    server .*\n)+", lambda m: m.group(1) + servers, site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{LB_PORT};")
    main = workdir / "nginx.conf"
    main.write_text(
        f"daemon off;\nworker_processes 1;\npid {workdir}/nginx.pid;\nerror_log {workdir}/nginx-error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n  access_log {workdir}/nginx-access.log;\n"
        + "".join(
            f"  {name}_temp_path {workdir}/{name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + site
        + "\n}\n"
    )
    return main


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two nodes and the load balancer on the test database; stopped at the end."""
    workdir = tmp_path_factory.mktemp("scale")
    env = {
        **os.environ,
        "DATABASE_URL": _url("default"),
        "REPLICA_DATABASE_URL": _url("replica"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "scale-test-secret-key-not-for-production-0123456789",
        "PAYMENT_GATEWAY_SECRET": "scale-test-payment-secret-0123456789abcdef",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "API_NUM_PROXIES": "1",
        # All test traffic comes from one address: the per-account limit is the one under test.
        "API_RATE_IP": "100000/min",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_GRACEFUL_TIMEOUT": "30",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_FORMAT": "json",
    }
    nodes = [Node(port, env, workdir) for port in NODE_PORTS]
    nginx = None
    try:
        for node in nodes:
            node.start()
        nginx = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(nginx_conf(workdir)), "-p", str(workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _status(f"{LB}/readyz") == 200, "the load balancer")
        yield {"nodes": nodes, "lb": LB, "workdir": workdir, "env": env}
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            nginx.wait(20)
        for node in nodes:
            node.stop()


PASSWORD = "Rahasia-Kuat-123"


def user_who_can_sign_in(**fields):
    """A user whose password the nodes can check: the tests' fast hasher is not in production's
    list, so the hash is made with production's first one."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from tests.factories import UserFactory

    user = UserFactory(**fields)
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])
    return user


def sign_in(browser: requests.Session, base_url: str, user) -> requests.Response:
    page = f"{base_url}/accounts/login/"
    browser.get(page)
    return browser.post(
        page,
        data={"username": user.email, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": page},
        allow_redirects=False,
    )
