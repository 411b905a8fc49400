"""`make bench`: the quota-release burst against the production stack on this machine.

Starts its own Redis (port BENCH_REDIS_PORT, default 6390: the machine's shared Redis is left
alone), recreates the bench database (BENCH_DATABASE_URL, default .../mp_bench), migrates and
seeds it (bench/seed.py: 2,000 accounts with API tokens, an office and one slot of 200 places
per scenario), starts gunicorn with production settings and a Celery worker, then for each
scenario opens the slot at a time T and fires the burst from a separate process
(bench/load.py) at T. Scenarios, in order:

  warmup    a few hundred bookings, not counted (imports, connections, caches)
  baseline  the same burst on the bare claim view (bench/baseline.py)
  booking   the burst on the real endpoint POST /api/v1/applications/, availability reads beside
  baseline_after  the baseline again (the figures compare the booking with the mean of both)
  entering  the same number of requests entering a draw-mode release whose window is open
            (POST /api/v1/releases/{id}/entries/, availability reads beside), right after the
            booking burst: the two side by side, as ratios of the same run
  profile   the booking burst again with py-spy attached to the gunicorn workers
  pairs     wrk against the floors (bench/pairs.py): availability (a day, a month, 304s, during
            claims), a refused and a successful booking, and the read's p99 at a fixed rate
  fault_redis  Redis stopped during the burst, started again after it
  fault_pg     every app connection to PostgreSQL terminated during the burst

Writes bench/results.json and bench/REPORT.md (raw outputs in bench/out/).
"""

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pairs  # bench/pairs.py: this script's folder is first on sys.path
import psycopg2

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PY = sys.executable
BIN = Path(PY).parent

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mp_bench")
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "6390"))
HTTP_PORT = int(os.environ.get("BENCH_HTTP_PORT", "8790"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
BASE_URL = f"http://127.0.0.1:{HTTP_PORT}"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def db_params(url=DATABASE_URL):
    from urllib.parse import urlparse

    u = urlparse(url)
    return {
        "host": u.hostname,
        "port": u.port or 5432,
        "user": u.username,
        "password": u.password,
        "dbname": u.path.lstrip("/"),
    }


@contextlib.contextmanager
def control_connection(dbname=None):
    params = db_params()
    if dbname:
        params["dbname"] = dbname
    conn = psycopg2.connect(application_name="bench-control", **params)
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


class Stack:
    """The processes of one run; stopped (each by its own pid) whatever happens."""

    def __init__(self, env):
        self.env = env
        self.procs = {}

    def start(self, name, argv, **kw):
        logfile = open(OUT / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=logfile, stderr=subprocess.STDOUT, **kw
        )
        return self.procs[name]

    def stop(self, name, sig=signal.SIGTERM, timeout=15):
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self):
        for name in list(self.procs)[::-1]:
            self.stop(name)


def start_redis(stack):
    stack.start(
        "redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    )
    wait_for(
        lambda: (
            subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).stdout.strip() == b"PONG"
        ),
        "redis",
    )


def start_worker(stack):
    # As in production (README, "Running in production"): the worker yields the CPU to the web
    # workers, so sending the outbox waits for idle time instead of slowing the answers.
    stack.start(
        "celery",
        [
            "nice",
            "-n",
            "10",
            str(BIN / "celery"),
            "-A",
            "mpaspor",
            "worker",
            "-Q",
            "urgent,default,bulk",  # every queue (settings.CELERY_QUEUE_NAMES)
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
    )
    CELERY["pid"] = stack.procs["celery"].pid


def wait_for(check, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up in {timeout}s (see bench/out/*.log)")


def http_status(url):
    try:
        return urllib.request.urlopen(url, timeout=30).status
    except urllib.error.HTTPError as exc:
        return exc.code


def recreate_database():
    name = db_params()["dbname"]
    assert name.startswith(("mp_bench", "mpaspor_bench")), "the bench drops its database: give it its own"
    with control_connection("postgres") as conn, conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')


def manage(env, *args):
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def open_slot(slot_id, at_epoch):
    with control_connection() as conn, conn.cursor() as cur:
        cur.execute("UPDATE quotas_slot SET opens_at = to_timestamp(%s) WHERE id = %s", (at_epoch, slot_id))


def entry_state(release_id):
    """The release's entries and entered people after the entering burst."""
    with control_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(DISTINCT e.id), count(s.id) FROM allocation_entry e"
            " LEFT JOIN allocation_seeker s ON s.entry_id = e.id AND s.is_open WHERE e.release_id = %s",
            (release_id,),
        )
        entries, people = cur.fetchone()
    return {"entries": entries, "people_entered": people}


def slot_state(slot_id):
    with control_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT capacity, taken FROM quotas_slot WHERE id = %s", (slot_id,))
        capacity, taken = cur.fetchone()
        cur.execute(
            "SELECT count(*) FROM appointments_application WHERE slot_id = %s AND status = ANY(%s)",
            (slot_id, ["pending_payment", "booked", "checked_in", "in_process", "approved", "issued"]),
        )
        active = cur.fetchone()[0]
        pending_notifications = None
        cur.execute("SELECT to_regclass('appointments_notification') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute(
                "SELECT count(*) FILTER (WHERE n.state = 'pending'), count(*) FROM appointments_notification n "
                "JOIN appointments_application a ON a.id = n.application_id WHERE a.slot_id = %s",
                (slot_id,),
            )
            pending_notifications, notifications = cur.fetchone()
        else:
            notifications = None
    return {
        "capacity": capacity,
        "taken": taken,
        "active_applications": active,
        "overbooked": max(0, active - capacity, taken - capacity),
        "consistent": taken == active,
        "notifications": notifications,
        "notifications_pending": pending_notifications,
    }


def cpu_seconds(pids):
    """User + system CPU of these processes so far (from /proc; ticks of 1/100 s)."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def server_pids():
    """The gunicorn workers and the PostgreSQL backends serving the bench database."""
    app = worker_pids(GUNICORN["pid"]) if GUNICORN.get("pid") else []
    with control_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name <> 'bench-control'",
            (db_params()["dbname"],),
        )
        db = [row[0] for row in cur.fetchall()]
    return app, db


GUNICORN: dict = {}
CELERY: dict = {}


def celery_worker_pids():
    master = CELERY.get("pid")
    return [master, *worker_pids(master)] if master else []


def burst(plan_path, scenario, mode, *, concurrency, lead=2.0, limit=None, during=None):
    """Open the scenario's slot at T = now + lead and fire the load process at T."""
    plan = json.load(open(plan_path))
    app_pids, db_pids = server_pids()
    celery_pids = celery_worker_pids()
    cpu_before = cpu_seconds(app_pids), cpu_seconds(db_pids), cpu_seconds(celery_pids)
    at = time.time() + lead
    if mode != "entering":
        open_slot(plan["slots"][scenario], at)
    out = OUT / f"{scenario}.json"
    argv = [
        PY,
        str(BENCH / "load.py"),
        str(plan_path),
        scenario,
        mode,
        BASE_URL,
        str(at),
        str(out),
        "--concurrency",
        str(concurrency),
    ]
    if limit:
        argv += ["--limit", str(limit)]
    load = subprocess.Popen(argv, cwd=ROOT)
    if during:
        during(at)
    if load.wait() != 0:
        raise RuntimeError(f"load process failed in {scenario}")
    summary = json.load(open(out))
    # CPU spent per request by the app and the database: steadier than requests/s on a
    # machine shared with other work (the connections are persistent, so the pids hold).
    requests = summary["attempts"] + summary["reads"]
    app_cpu, db_cpu = cpu_seconds(app_pids) - cpu_before[0], cpu_seconds(db_pids) - cpu_before[1]
    # A fault that replaces processes (terminated backends) leaves no figure to compare.
    summary["app_cpu_ms_per_request"] = round(1000 * app_cpu / requests, 2) if app_cpu >= 0 else None
    summary["db_cpu_ms_per_request"] = round(1000 * db_cpu / requests, 2) if db_cpu >= 0 else None
    # The Celery worker shares the cores: what it spent during the burst (sending the outbox).
    celery_cpu = cpu_seconds(celery_pids) - cpu_before[2]
    summary["celery_cpu_ms_per_request"] = round(1000 * celery_cpu / requests, 2) if celery_cpu >= 0 else None
    summary["db"] = entry_state(plan["release"]) if mode == "entering" else slot_state(plan["slots"][scenario])
    log(f"{scenario}: {json.dumps({k: v for k, v in summary.items() if k != 'answers'})}")
    return summary


# --- profile -------------------------------------------------------------------------------


def worker_pids(master_pid):
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def top_of_profile(raw_path, top=25):
    """py-spy's raw (collapsed) stacks -> the functions with the most samples, inclusive and self."""
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in open(raw_path):
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack:
            continue
        count = int(count)
        frames = stack.split(";")
        # Only samples taken inside a request (idle workers wait in gunicorn's select loop).
        if not any("handle_request" in f for f in frames):
            continue
        total += count
        seen = set()
        for frame in frames:
            name = (
                frame.split(" (")[0]
                + " ("
                + frame.split(" (")[-1].split(":")[0].replace(str(ROOT) + "/", "").split("site-packages/")[-1]
                + ")"
            )
            if name not in seen:
                inclusive[name] += count
                seen.add(name)
        leaf = frames[-1]
        own[leaf.split(" (")[0] + " (" + leaf.split(" (")[-1].split(":")[0].split("site-packages/")[-1] + ")"] += count

    def pct(n):
        return round(100 * n / total, 1) if total else 0

    return {
        "samples_in_requests": total,
        "inclusive": [
            (name, pct(n))
            for name, n in inclusive.most_common(top * 3)
            if "gunicorn" not in name and "<module>" not in name
        ][:top],
        "self": [(name, pct(n)) for name, n in own.most_common(top)],
    }


def run_profile(stack, plan_path, concurrency):
    master = stack.procs["gunicorn"].pid
    pids = worker_pids(master)
    raws = []
    spies = []
    for pid in pids:
        raw = OUT / f"profile-{pid}.txt"
        raws.append(raw)
        spies.append(
            subprocess.Popen(
                [
                    str(BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=open(OUT / "py-spy.log", "ab"),
            )
        )
    time.sleep(1.5)
    summary = burst(plan_path, "profile", "booking", concurrency=concurrency)
    for spy in spies:
        spy.send_signal(signal.SIGINT)
    for spy in spies:
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
    merged = OUT / "profile-raw.txt"
    with open(merged, "w") as out:
        for raw in raws:
            if raw.exists():
                out.write(raw.read_text())
    summary["profile"] = top_of_profile(merged)
    return summary


# --- faults --------------------------------------------------------------------------------


def fault_redis(stack, plan_path, concurrency):
    """Redis (cache, throttles, broker) stopped 0.2 s into the burst, started again after it."""
    stopped = {}

    def during(at):
        time.sleep(max(0, at - time.time()) + 0.2)
        stack.stop("redis", sig=signal.SIGKILL)
        stopped["at"] = time.time()

    summary = burst(plan_path, "fault_redis", "booking", concurrency=concurrency, during=during)
    summary["redis_down_s"] = round(time.time() - stopped["at"], 2)
    start_redis(stack)
    # Did the Celery worker survive the outage? If not, start it again as a supervisor
    # (systemd Restart=always) would, and say so in the results.
    worker = stack.procs.get("celery")
    summary["worker_survived_outage"] = bool(worker and worker.poll() is None)
    if not summary["worker_survived_outage"]:
        stack.procs.pop("celery", None)
        start_worker(stack)
    slot = json.load(open(plan_path))["slots"]["fault_redis"]
    summary["outbox"] = drain_outbox(slot)
    return summary


def drain_outbox(slot_id, timeout=90):
    """After Redis is back, every notification of the burst must go out (none lost, none twice)."""
    state = slot_state(slot_id)
    if state["notifications"] is None:
        return {"note": "no outbox table in this build"}
    before = state["notifications_pending"]
    # The outbox's periodic sweep (beat runs it every minute in production; run here at once).
    sweep = os.environ.get(
        "BENCH_OUTBOX_SWEEP", "from notifications.outbox import sweep_outboxes; sweep_outboxes(min_age_seconds=0)"
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        if sweep:  # the outbox's periodic sweep, run as beat would
            subprocess.run([PY, "manage.py", "shell", "-c", sweep], cwd=ROOT, env=STACK_ENV, capture_output=True)
        state = slot_state(slot_id)
        if not state["notifications_pending"]:
            break
        time.sleep(2)
    return {
        "pending_when_redis_came_back": before,
        "pending_after": state["notifications_pending"],
        "notifications": state["notifications"],
        "applications": state["active_applications"],
    }


def fault_pg(stack, plan_path, concurrency):
    """Every connection of the app to PostgreSQL terminated 0.2 s into the burst."""
    killed = {}

    def during(at):
        time.sleep(max(0, at - time.time()) + 0.2)
        with control_connection() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND application_name <> 'bench-control'",
                (db_params()["dbname"],),
            )
            killed["connections"] = cur.fetchone()[0]

    summary = burst(plan_path, "fault_pg", "booking", concurrency=concurrency, during=during)
    summary["connections_terminated"] = killed.get("connections")
    summary["after"] = http_status(f"{BASE_URL}/api/v1/offices/")
    return summary


STACK_ENV: dict = {}
STACK = Stack({})  # its processes, for the pairs' CPU figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--places", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", "32")))
    parser.add_argument(
        "--skip", default="", help="comma-separated scenarios to skip (profile,fault_redis,fault_pg,booking)"
    )
    parser.add_argument("--profile-only", action="store_true", help="only the warm-up and the profiled burst")
    parser.add_argument(
        "--pairs-only", action="store_true", help="only the warm-up and the wrk pairs (updates their figures)"
    )
    parser.add_argument("--pairs", default="", help="comma-separated wrk pairs to run (default: every pair)")
    parser.add_argument(
        "--entering-only",
        action="store_true",
        help="only the warm-up, the booking burst and the entering burst (updates their figures)",
    )
    parser.add_argument("--wrk-seconds", type=float, default=10, help="each wrk run of a pair")
    parser.add_argument("--wrk-repeats", type=int, default=2, help="runs of each side of a pair, alternated")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_TASK_ALWAYS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mpaspor.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),  # a fresh one per run, never stored
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        RATE_LIMITS_ENABLED="0",
        DB_CONN_MAX_AGE="600",
        # The outside world is not part of the bench: e-mail goes to memory (the phone
        # gateway already logs only, when no PHONE_GATEWAY_URL is set).
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{REDIS_PORT}/1",
        PYTHONUNBUFFERED="1",
    )
    STACK_ENV.update(env)
    stack = Stack(env)
    STACK.procs = stack.procs
    results = {}
    try:
        start_redis(stack)
        log("recreating the bench database, migrating, seeding (not timed)")
        recreate_database()
        manage(env, "migrate", "--noinput")
        plan_path = OUT / "plan.json"
        subprocess.run(
            [PY, "-m", "bench.seed", str(plan_path), str(args.accounts), str(args.places)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        stack.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "bench.wsgi:application",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{HTTP_PORT}",
                "--backlog",
                "4096",
                "--log-level",
                "warning",
                "--keep-alive",
                "5",
            ],
        )
        start_worker(stack)
        GUNICORN["pid"] = stack.procs["gunicorn"].pid
        wait_for(lambda: http_status(f"{BASE_URL}/bench/claim/") == 405, "gunicorn")
        api_there = http_status(f"{BASE_URL}/api/v1/offices/") != 404
        log(f"stack up: gunicorn {WORKERS} sync workers, celery worker, redis :{REDIS_PORT}; API present: {api_there}")

        burst(plan_path, "warmup", "booking" if api_there else "baseline", concurrency=args.concurrency, limit=300)
        if args.profile_only:
            results["profile"] = run_profile(stack, plan_path, args.concurrency)
            return
        if args.pairs_only:
            update_pair_figures(run_wrk_pairs(plan_path, args))  # here: a return skips what follows the try
            return
        if args.entering_only:
            results["booking"] = burst(plan_path, "booking", "booking", concurrency=args.concurrency)
            results["entering"] = burst(plan_path, "entering", "entering", concurrency=args.concurrency)
            update_entering_figures(results)  # here: a return skips what follows the try
            return
        results["baseline"] = burst(plan_path, "baseline", "baseline", concurrency=args.concurrency)
        if api_there and "booking" not in skip:
            results["booking"] = burst(plan_path, "booking", "booking", concurrency=args.concurrency)
            # The shared machine's load drifts: measure the baseline before and after the booking
            # burst and compare with their mean.
            results["baseline_after"] = burst(plan_path, "baseline_after", "baseline", concurrency=args.concurrency)
            if "entering" not in skip:
                results["entering"] = burst(plan_path, "entering", "entering", concurrency=args.concurrency)
            if "profile" not in skip:
                results["profile"] = run_profile(stack, plan_path, args.concurrency)
            if "pairs" not in skip:
                results["pairs"] = run_wrk_pairs(plan_path, args)
            if "fault_redis" not in skip:
                results["fault_redis"] = fault_redis(stack, plan_path, args.concurrency)
            if "fault_pg" not in skip:
                results["fault_pg"] = fault_pg(stack, plan_path, args.concurrency)
    finally:
        stack.stop_all()
        if args.profile_only and "profile" in results:
            (OUT / "profile-only.json").write_text(json.dumps(results["profile"], indent=2))
    if not (args.profile_only or args.pairs_only or args.entering_only):
        write_results(results, args)


def run_wrk_pairs(plan_path, args):
    def cpu():
        app, db = server_pids()
        redis = STACK.procs.get("redis")
        return cpu_seconds(app), cpu_seconds(db), cpu_seconds([redis.pid] if redis else [])

    def etag_of(path):
        return urllib.request.urlopen(BASE_URL + path, timeout=5).headers["ETag"]

    return pairs.run_pairs(
        json.load(open(plan_path)),
        base_url=BASE_URL,
        out=OUT,
        cpu=cpu,
        etag_of=etag_of,
        seconds=args.wrk_seconds,
        repeats=args.wrk_repeats,
        only=set(filter(None, args.pairs.split(","))),
        log=log,
    )


def pair_figures(wrk: dict) -> dict:
    """results.json's figures of the wrk pairs (bench/pairs.py), beside the burst's."""
    figures = {}
    for name in ("read", "refusal"):
        if name in wrk:
            figures[f"{name}_rps"] = wrk[name]["rps"]
            figures[f"bare_{name}_rps"] = wrk[name]["bare_rps"]
            figures[f"{name}_ratio"] = wrk[name]["ratio"]
            # read_p99_ms already names the reads beside the booking burst.
            figures[f"{name}_wrk_p99_ms" if name == "read" else f"{name}_p99_ms"] = wrk[name]["p99_ms"]
            figures[f"bare_{name}_p99_ms"] = wrk[name]["bare_p99_ms"]
    for name in ("read_month", "read_304", "read_during_claims", "booking_success", "enter", "booking_with_logins"):
        if name in wrk:
            figures[f"{name}_ratio"] = wrk[name]["ratio"]
            figures[f"{name}_p99_ms"] = wrk[name]["p99_ms"]
    if "read_fixed_rate" in wrk:
        figures["read_fixed_rate_p99_ratio"] = wrk["read_fixed_rate"]["p99_ratio"]
    if wrk:
        figures["pairs"] = wrk
    return figures


def update_pair_figures(wrk: dict) -> None:
    """`--pairs-only`: the pairs' figures replace theirs in bench/results.json; the burst's stay."""
    path = BENCH / "results.json"
    figures = json.loads(path.read_text())
    figures["pairs_when"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    figures["pairs_machine"] = machine()
    for pair in wrk.values():  # the report says which pairs are from which run
        pair["measured"] = {
            "when": figures["pairs_when"],
            "load_average_after": figures["pairs_machine"]["load_average_after"],
        }
    figures.update(pair_figures({**figures.get("pairs", {}), **wrk}))
    targets = figures.setdefault("targets", {})
    for name, pair in wrk.items():
        targets[f"{name}: {pair['target']}"] = pair["met"]
    path.write_text(json.dumps(figures, indent=2) + "\n")
    log("updated the pairs' figures in bench/results.json")


def entering_figures(booking: dict, entering: dict) -> dict:
    """Entering a draw beside the first-come burst of the same size, from the same run: the
    machine is shared, so the ratios say more than the absolute figures."""
    return {
        "entering_rps": entering["rps"],
        "entering_p50_ms": entering["p50_ms"],
        "entering_p99_ms": entering["p99_ms"],
        "entering_read_p99_ms": entering["read_p99_ms"],
        "entering_entries": entering["successes"],
        "entering_server_errors": entering["server_errors"],
        "entering_app_cpu_ms_per_request": entering["app_cpu_ms_per_request"],
        "entering_db_cpu_ms_per_request": entering["db_cpu_ms_per_request"],
        "entering_over_booking_rps": round(entering["rps"] / booking["rps"], 3),
        "entering_over_booking_p99": round(entering["p99_ms"] / booking["p99_ms"], 3),
    }


def update_entering_figures(results: dict) -> None:
    """`--entering-only`: the entering burst's figures and that run's booking burst beside it
    (under `entering_run`) join bench/results.json; the full run's figures stay."""
    path = BENCH / "results.json"
    figures = json.loads(path.read_text())
    figures.update(entering_figures(results["booking"], results["entering"]))
    figures["entering_run"] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "booking": results["booking"],
        "entering": results["entering"],
    }
    path.write_text(json.dumps(figures, indent=2) + "\n")
    log("updated the entering figures in bench/results.json")


def machine():
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with control_connection("postgres") as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": pg,
        "load_average_after": os.getloadavg(),
        "gunicorn_workers": WORKERS,
    }


def write_results(results, args):
    bases = [results[k] for k in ("baseline", "baseline_after") if k in results]
    base = (
        {
            key: round(sum(b[key] for b in bases) / len(bases), 2)
            for key in ("rps", "p50_ms", "p99_ms", "app_cpu_ms_per_request", "db_cpu_ms_per_request")
        }
        if bases
        else {}
    )
    book = results.get("booking")
    figures = {
        "booking_rps": book and book["rps"],
        "baseline_rps": base.get("rps"),
        "ratio": book and base and round(book["rps"] / base["rps"], 3),
        "p50_ms": book and book["p50_ms"],
        "p99_ms": book and book["p99_ms"],
        "baseline_p50_ms": base.get("p50_ms"),
        "baseline_p99_ms": base.get("p99_ms"),
        "attempts": book and book["attempts"],
        "successes": book and book["successes"],
        "places": args.places,
        "overbooked": book and book["db"]["overbooked"],
        "server_errors": book and book["server_errors"],
        "reads": book and book["reads"],
        "app_cpu_ms_per_request": book and book["app_cpu_ms_per_request"],
        "db_cpu_ms_per_request": book and book["db_cpu_ms_per_request"],
        "baseline_app_cpu_ms_per_request": base.get("app_cpu_ms_per_request"),
        "baseline_db_cpu_ms_per_request": base.get("db_cpu_ms_per_request"),
        "celery_cpu_ms_per_request": book and book["celery_cpu_ms_per_request"],
        "cpu_ratio": book
        and base
        and round(
            (base["app_cpu_ms_per_request"] + base["db_cpu_ms_per_request"])
            / (book["app_cpu_ms_per_request"] + book["db_cpu_ms_per_request"]),
            3,
        ),
        "read_p99_ms": book and book["read_p99_ms"],
        "concurrency": args.concurrency,
        "accounts": args.accounts,
    }
    figures.update(pair_figures(results.get("pairs") or {}))
    if book and results.get("entering"):
        figures.update(entering_figures(book, results["entering"]))
    if book:
        figures["targets"] = {
            "overbooked == 0": figures["overbooked"] == 0,
            "server_errors == 0": figures["server_errors"] == 0,
            "successes == places": figures["successes"] == args.places,
            "ratio >= 0.5": figures["ratio"] >= 0.5,
            "p99_ms <= 3 x baseline_p99_ms": figures["p99_ms"] <= 3 * figures["baseline_p99_ms"],
        }
    for name, pair in (results.get("pairs") or {}).items():
        figures.setdefault("targets", {})[f"{name}: {pair['target']}"] = pair["met"]
    figures["machine"] = machine()
    figures["when"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    figures["scenarios"] = {k: v for k, v in results.items() if k != "pairs"}
    (BENCH / "results.json").write_text(json.dumps(figures, indent=2) + "\n")
    headline = {k: v for k, v in figures.items() if k not in ("scenarios", "machine", "pairs")}
    log(f"wrote bench/results.json: {json.dumps(headline)}")


if __name__ == "__main__":
    main()
