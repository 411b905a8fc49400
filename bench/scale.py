"""`make bench-scale`: the release burst on one web node against two, on this machine.

Runs on the data services of tests/scale/cluster.py (a PostgreSQL primary on SCALE_PRIMARY_PORT
with its replica, a Redis on SCALE_REDIS_PORT), which `make bench-scale` starts and stops. Starts
two gunicorn nodes (deploy/gunicorn.conf.py, production settings, WORKERS sync workers each) and
two nginx load balancers from deploy/nginx/mpaspor.conf: one passing to node A only, one to both.
The same burst as `make bench` (bench/load.py: 2,000 accounts, 200 places, 32 in flight, an
availability read every 10 bookings) is then fired three times, each at its own slot:

  direct     node A alone, no load balancer
  one_node   node A behind nginx
  two_nodes  nodes A and B behind nginx

On a machine of two cores, a second node cannot add cores: the figures show what the load
balancer and a second node cost per request, and that the invariants hold, not a speed-up.
Writes bench/scale-results.json and bench/SCALE.md.
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

PRIMARY_PORT = int(os.environ.get("SCALE_PRIMARY_PORT", "5441"))
REDIS_PORT = int(os.environ.get("SCALE_REDIS_PORT", "6392"))
os.environ["BENCH_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{PRIMARY_PORT}/mp_bench_scale"

from bench import run  # noqa: E402 - reads BENCH_DATABASE_URL

ROOT = run.ROOT
OUT = run.OUT
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
NODES = {"a": 8201, "b": 8202}
BALANCERS = {"one_node": (8210, ["a"]), "two_nodes": (8220, ["a", "b"])}


def nginx_conf(port: int, nodes: list[str]) -> Path:
    site = (ROOT / "deploy/nginx/mpaspor.conf").read_text()
    head, rest = site.split("upstream mpaspor_web {\n", 1)
    _, tail = rest.split("}\n", 1)
    servers = "".join(f"    server 127.0.0.1:{NODES[n]} max_fails=1 fail_timeout=5s;\n" for n in nodes)
    site = head + "upstream mpaspor_web {\n" + servers + "}\n" + tail
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port} backlog=4096;")
    work = OUT / f"nginx-{port}"
    work.mkdir(parents=True, exist_ok=True)
    temp = "".join(
        f"  {name}_temp_path {work}/{name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = work / "nginx.conf"
    main.write_text(
        f"daemon off;\nworker_processes 1;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n  access_log off;\n{temp}{site}\n}}\n"
    )
    return main


def burst(plan_path: Path, scenario: str, base_url: str, node_pids: list[int], lb_pids: list[int]) -> dict:
    plan = json.load(open(plan_path))
    _, db_pids = db_and_app_pids()
    before = run.cpu_seconds(node_pids), run.cpu_seconds(db_pids), run.cpu_seconds(lb_pids)
    at = time.time() + 2
    run.open_slot(plan["slots"][scenario], at)
    out = OUT / f"{scenario}.json"
    load = subprocess.run(
        [sys.executable, str(ROOT / "bench/load.py"), str(plan_path), scenario, "booking", base_url, str(at), str(out)]
        + ["--concurrency", "32"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    if load.returncode:
        raise RuntimeError(f"the load process failed in {scenario}")
    summary = json.load(open(out))
    requests = summary["attempts"] + summary["reads"]
    app, db, lb = (run.cpu_seconds(p) - b for p, b in zip((node_pids, db_pids, lb_pids), before, strict=True))
    summary["app_cpu_ms_per_request"] = round(1000 * app / requests, 2)
    # A backend that closed during the burst takes its CPU with it: no figure then.
    summary["db_cpu_ms_per_request"] = round(1000 * db / requests, 2) if db >= 0 else None
    summary["lb_cpu_ms_per_request"] = round(1000 * lb / requests, 2)
    summary["db"] = run.slot_state(plan["slots"][scenario])
    run.log(f"{scenario}: {json.dumps({k: v for k, v in summary.items() if k not in ('answers', 'timeline')})}")
    return summary


def db_and_app_pids():
    with run.control_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name <> 'bench-control'",
            (run.db_params()["dbname"],),
        )
        return [], [row[0] for row in cur.fetchall()]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_TASK_ALWAYS", "REPLICA_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mpaspor.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        RATE_LIMITS_ENABLED="0",
        DB_CONN_MAX_AGE="600",
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=os.environ["BENCH_DATABASE_URL"],
        REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{REDIS_PORT}/1",
        API_NUM_PROXIES="1",
        WEB_CONCURRENCY=str(WORKERS),
        PYTHONUNBUFFERED="1",
    )
    stack = run.Stack(env)
    results = {}
    try:
        run.log("creating, migrating and seeding the bench database on the scale primary (not timed)")
        run.recreate_database()
        run.manage(env, "migrate", "--noinput")
        plan_path = OUT / "scale-plan.json"
        subprocess.run(
            [sys.executable, "-m", "bench.seed", str(plan_path), "2000", "200"], cwd=ROOT, env=env, check=True
        )
        for name, port in NODES.items():
            metrics = OUT / f"metrics-{name}"
            shutil.rmtree(metrics, ignore_errors=True)
            stack.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
            stack.start(f"node-{name}", [str(run.BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "mpaspor.wsgi"])
        for scenario, (port, nodes) in BALANCERS.items():
            stack.start(
                f"nginx-{scenario}", [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(nginx_conf(port, nodes))]
            )
        for port in [*NODES.values(), *(p for p, _ in BALANCERS.values())]:
            run.wait_for(lambda port=port: run.http_status(f"http://127.0.0.1:{port}/readyz") == 200, f"port {port}")
        node_pids = {n: run.worker_pids(stack.procs[f"node-{n}"].pid) for n in NODES}
        lb_pids = {
            s: [stack.procs[f"nginx-{s}"].pid, *run.worker_pids(stack.procs[f"nginx-{s}"].pid)] for s in BALANCERS
        }
        run.log(f"two nodes of {WORKERS} workers, nginx in front of one and of both")

        a = f"http://127.0.0.1:{NODES['a']}"
        burst(plan_path, "warmup", f"http://127.0.0.1:{BALANCERS['two_nodes'][0]}", node_pids["a"] + node_pids["b"], [])
        results["direct"] = burst(plan_path, "direct", a, node_pids["a"], [])
        results["one_node"] = burst(
            plan_path, "one_node", f"http://127.0.0.1:{BALANCERS['one_node'][0]}", node_pids["a"], lb_pids["one_node"]
        )
        results["two_nodes"] = burst(
            plan_path,
            "two_nodes",
            f"http://127.0.0.1:{BALANCERS['two_nodes'][0]}",
            node_pids["a"] + node_pids["b"],
            lb_pids["two_nodes"],
        )
    finally:
        for name in list(stack.procs):
            stack.stop(name, sig=signal.SIGQUIT if name.startswith("nginx") else signal.SIGTERM)
    write(results)


def write(results: dict) -> None:
    (ROOT / "bench/scale-results.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = []
    for name, label in (
        ("direct", "one node, no load balancer"),
        ("one_node", "one node behind nginx"),
        ("two_nodes", "two nodes behind nginx"),
    ):
        r = results.get(name)
        if not r:
            continue
        cpu = ["–" if r[k] is None else r[k] for k in ("app_cpu_ms_per_request", "db_cpu_ms_per_request")]
        rows.append(
            f"| {label} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | {r['successes']} / {r['db']['capacity']} | "
            f"{r['db']['overbooked']} | {r['server_errors']} | {cpu[0]} | {cpu[1]} | {r['lb_cpu_ms_per_request']} |"
        )
    text = (
        "# make bench-scale\n\n"
        f"Generated by `bench/scale.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs shared with other work (load average {os.getloadavg()[0]:.0f} as it was written); "
        f"{WORKERS} gunicorn sync workers per node. Each row is the "
        "same burst: 2,000 accounts book one person each on a slot of 200 places, 32 requests in "
        "flight, an availability read after every 10 bookings. CPU is per request (bookings and reads), "
        "summed over the processes of that part.\n\n"
        "| run | bookings/s | p50 ms | p99 ms | booked / places | overbooked | 5xx "
        "| app CPU ms | DB CPU ms | LB CPU ms |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Two cores cannot show a speed-up from a second node: both nodes share the cores with "
        "PostgreSQL, Redis, nginx and the load generator. What the rows show is the cost of the load "
        "balancer per request and that the burst's invariants hold across nodes. The sizing built on "
        "these costs is in docs/scaling.md.\n"
    )
    (ROOT / "bench/SCALE.md").write_text(text)
    run.log("wrote bench/scale-results.json and bench/SCALE.md")


if __name__ == "__main__":
    main()
