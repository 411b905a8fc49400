"""The data services of `make test-scale` and `make bench-scale`, on this machine and apart from
any other: a PostgreSQL primary, its streaming replica made with pg_basebackup, and a Redis, each
on its own port under SCALE_DIR. The web nodes and the load balancer are started by the tests
(tests/scale/conftest.py), which need the test database first.

    python -m tests.scale.cluster up      # start (a fresh copy each time)
    python -m tests.scale.cluster down    # stop and remove

Uses Debian's PostgreSQL 15 binaries (PG_BIN) and redis-server. As root, PostgreSQL runs as the
postgres user.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SCALE_DIR = Path(os.environ.get("SCALE_DIR", "/tmp/mpaspor-scale"))
PRIMARY_PORT = int(os.environ.get("SCALE_PRIMARY_PORT", "5441"))
REPLICA_PORT = int(os.environ.get("SCALE_REPLICA_PORT", "5442"))
REDIS_PORT = int(os.environ.get("SCALE_REDIS_PORT", "6392"))

PRIMARY = SCALE_DIR / "primary"
REPLICA = SCALE_DIR / "replica"


def urls(dbname: str = "mpaspor") -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PRIMARY_PORT}/{dbname}",
        "REPLICA_DATABASE_URL": f"postgres://postgres@127.0.0.1:{REPLICA_PORT}/{dbname}",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    }


def _as_postgres(argv: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, check=True, **kw)


def _pg_ctl(data: Path, action: str) -> None:
    _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data) + ".log", "-w", "-t", "60", action])


def up() -> None:
    down()
    SCALE_DIR.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(SCALE_DIR, "postgres", "postgres")
    _as_postgres(
        [str(PG_BIN / "initdb"), "-D", str(PRIMARY), "-U", "postgres", "-A", "trust", "--no-sync"],
        stdout=subprocess.DEVNULL,
    )
    with open(PRIMARY / "postgresql.conf", "a") as conf:
        conf.write(
            f"port = {PRIMARY_PORT}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{SCALE_DIR}'\n"
            "wal_level = replica\nmax_wal_senders = 4\nmax_connections = 120\n"
            # a test cluster: durability is not what is tested here
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        )
    _pg_ctl(PRIMARY, "start")
    # The replica: a base backup of the primary that then follows its WAL (-R writes the
    # standby.signal and primary_conninfo).
    _as_postgres(
        [str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(PRIMARY_PORT), "-U", "postgres"]
        + ["-D", str(REPLICA), "-R", "-X", "stream", "--no-sync"]
    )
    with open(REPLICA / "postgresql.auto.conf", "a") as conf:
        conf.write(f"port = {REPLICA_PORT}\nhot_standby = on\n")
    _pg_ctl(REPLICA, "start")
    _as_postgres(
        [
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(PRIMARY_PORT),
            "-U",
            "postgres",
            "-qc",
            "CREATE DATABASE mpaspor",
        ]
    )
    redis = subprocess.Popen(
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--daemonize", "yes", "--pidfile", str(SCALE_DIR / "redis.pid"), "--logfile", str(SCALE_DIR / "redis.log")]
    )
    redis.wait()
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).stdout.strip() == b"PONG":
            break
        time.sleep(0.1)
    print(f"primary :{PRIMARY_PORT}, replica :{REPLICA_PORT}, redis :{REDIS_PORT} under {SCALE_DIR}")


def down() -> None:
    for data in (REPLICA, PRIMARY):
        if (data / "postmaster.pid").exists():
            try:
                _pg_ctl(data, "stop")
            except subprocess.CalledProcessError:
                pass
    pidfile = SCALE_DIR / "redis.pid"
    if pidfile.exists():
        subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True)
    shutil.rmtree(SCALE_DIR, ignore_errors=True)


if __name__ == "__main__":
    {"up": up, "down": down}[sys.argv[1]]()
