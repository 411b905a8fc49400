"""Write bench/REPORT.md from bench/results.json (and the hand-written bench/analysis.md)."""

import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def row(*cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main():
    r = json.loads((BENCH / "results.json").read_text())
    m = r["machine"]
    s = r["scenarios"]
    lines = [
        "# Benchmark: the quota-release burst",
        "",
        f"Run {r['when']} by bench/run.py (`make bench`) on {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}; gunicorn {m['gunicorn_workers']} sync workers with production settings "
        "(DEBUG off, persistent connections, rate limits off), Redis and a Celery worker on the same machine. "
        f"Load average after the run: {', '.join(f'{x:.1f}' for x in m['load_average_after'])} "
        "(the machine is shared with other sessions: absolute figures are noisy, the ratio less so).",
        "",
        *([f"**Source:** {r['source']}", ""] if r.get("source") else []),
        f"{r['accounts']} accounts (created in the database with their API tokens during setup, not timed), "
        f"{r['places']} places on one slot that opens at T; at T one load process (asyncio + aiohttp, "
        f"{r['concurrency']} connections) sends every account's booking, with an availability read after every 10th. "
        "The baseline is the same burst on the bare claim (bench/baseline.py), served by the same gunicorn "
        "through a Django handler with no middleware (bench/wsgi.py); the Celery worker runs at nice 10.",
        "",
        "## Figures",
        "",
        row("figure", "value"),
        row("---", "---"),
    ]
    for key in [
        "booking_rps",
        "baseline_rps",
        "ratio",
        "p50_ms",
        "p99_ms",
        "baseline_p50_ms",
        "baseline_p99_ms",
        "attempts",
        "successes",
        "places",
        "overbooked",
        "server_errors",
        "reads",
        "read_p99_ms",
        "app_cpu_ms_per_request",
        "db_cpu_ms_per_request",
        "baseline_app_cpu_ms_per_request",
        "baseline_db_cpu_ms_per_request",
        "celery_cpu_ms_per_request",
        "cpu_ratio",
    ]:
        lines.append(row(f"`{key}`", r.get(key)))
    if "targets" in r:
        lines += ["", "## Targets", "", row("target", "met"), row("---", "---")]
        lines += [row(name, "yes" if ok else "**no**") for name, ok in r["targets"].items()]
    lines += entering_section(r)
    lines += pairs_section(r.get("pairs") or {})
    lines += [
        "",
        "## Scenarios",
        "",
        row(
            "scenario",
            "attempts",
            "201",
            "rps",
            "p50 ms",
            "p99 ms",
            "5xx",
            "app/db CPU ms per request",
            "slot taken / active / capacity",
            "answers",
        ),
        row(*["---"] * 10),
    ]
    for name, sc in s.items():
        db = sc.get("db", {})
        lines.append(
            row(
                name,
                sc["attempts"],
                sc["successes"],
                sc["rps"],
                sc["p50_ms"],
                sc["p99_ms"],
                sc["server_errors"],
                f"{sc.get('app_cpu_ms_per_request')} / {sc.get('db_cpu_ms_per_request')}",
                f"{db.get('taken')} / {db.get('active_applications')} / {db.get('capacity')}",
                ", ".join(f"{k}: {v}" for k, v in sc["answers"].items()).replace("\n", " ").replace("|", "/"),
            )
        )
    timelines = {
        name: sc["timeline"] for name, sc in s.items() if sc.get("timeline") and name in ("baseline", "booking")
    }
    if timelines:
        seconds = sorted({int(k) for t in timelines.values() for k in t})
        lines += [
            "",
            "## Answers per second of the burst (201 = a place, 409 = refused, reads)",
            "",
            row("scenario", *[f"{k}-{k + 1} s" for k in seconds]),
            row(*["---"] * (len(seconds) + 1)),
        ]
        for name, t in timelines.items():
            lines.append(
                row(
                    name,
                    *[
                        ", ".join(
                            f"{key.replace('attempt ', '').replace(' 200', '')}: {n}"
                            for key, n in sorted(t.get(str(k), {}).items())
                        )
                        for k in seconds
                    ],
                )
            )
    prof = s.get("profile", {}).get("profile")
    if prof:
        lines += [
            "",
            f"## Profile of the booking path (py-spy, {prof['samples_in_requests']} samples inside requests)",
            "",
            "Share of the samples taken inside a request that were in the function or below it:",
            "",
            row("function (file)", "% inclusive"),
            row("---", "---"),
        ]
        lines += [row(f"`{name}`", pct) for name, pct in prof["inclusive"]]
        lines += [
            "",
            "Where the time was spent itself (leaf frames):",
            "",
            row("function (file)", "% self"),
            row("---", "---"),
        ]
        lines += [row(f"`{name}`", pct) for name, pct in prof["self"][:15]]
    faults = {k: v for k, v in s.items() if k.startswith("fault_")}
    if faults:
        lines += ["", "## Faults", ""]
        if "fault_redis" in faults:
            f = faults["fault_redis"]
            lines.append(
                f"- **Redis stopped during the burst** (killed 0.2 s after T, down {f.get('redis_down_s')} s, "
                f"then started again): {f['successes']} of {f['db']['capacity']} places booked, "
                f"{f['server_errors']} server errors, slot taken {f['db']['taken']} = active applications "
                f"{f['db']['active_applications']}, overbooked {f['db']['overbooked']}. "
                f"Celery worker survived the outage: {f.get('worker_survived_outage')}. "
                f"Outbox: {json.dumps(f.get('outbox'))}."
            )
        if "fault_pg" in faults:
            f = faults["fault_pg"]
            lines.append(
                "- **PostgreSQL connections terminated during the burst** "
                f"({f.get('connections_terminated')} backends, 0.2 s after T): "
                f"{f['successes']} of {f['db']['capacity']} places booked, {f['server_errors']} "
                f"server errors (the requests in flight at that instant: "
                f"{', '.join(k for k in f['answers'] if ' 5' in k) or 'none'}), slot taken {f['db']['taken']} = active "
                f"applications {f['db']['active_applications']}, overbooked {f['db']['overbooked']}; "
                f"the next request after the burst answered {f.get('after')} with no restart."
            )
    analysis = BENCH / "analysis.md"
    if analysis.exists():
        lines += ["", analysis.read_text().strip()]
    (BENCH / "REPORT.md").write_text("\n".join(lines) + "\n")
    print("wrote bench/REPORT.md")


def entering_section(r: dict) -> list[str]:
    """Entering a draw (POST releases/{id}/entries/) beside the first-come burst of the same size."""
    if "entering_rps" not in r:
        return []
    run = r.get("entering_run")
    booking = run["booking"] if run else r["scenarios"]["booking"]
    entering = run["entering"] if run else r["scenarios"]["entering"]
    when = run["when"] if run else r["when"]
    load = ", ".join(f"{x:.1f}" for x in (run["machine"] if run else r["machine"])["load_average_after"])
    lines = [
        "",
        "## Entering a draw beside the first-come burst",
        "",
        f"Measured {when}, one burst right after the other on the same stack: every account's booking "
        "of one first-come slot at its opening, then every account's entry in a draw-mode release whose "
        "window is open (one person, its three sessions), with the same availability reads beside. "
        f"Load average after the run: {load}. The machine was shared with other work while it ran, so "
        "the absolute figures are noisy; the ratios, taken within one run, less so.",
        "",
        row("burst", "requests", "201", "rps", "p50 ms", "p99 ms", "5xx", "app/db CPU ms per request"),
        row(*["---"] * 8),
    ]
    for name, sc in (("first come (booking)", booking), ("entering the draw", entering)):
        lines.append(
            row(
                name,
                sc["attempts"] + sc["reads"],
                sc["successes"],
                sc["rps"],
                sc["p50_ms"],
                sc["p99_ms"],
                sc["server_errors"],
                f"{sc.get('app_cpu_ms_per_request')} / {sc.get('db_cpu_ms_per_request')}",
            )
        )
    lines += [
        "",
        f"Entering over first come: {r['entering_over_booking_rps']} of the requests per second, "
        f"{r['entering_over_booking_p99']} of the p99. A booking burst is mostly refusals once the "
        f"{r['places']} places are gone (a row read, 409); every entry is an insert of the entry and its "
        "people after the same checks of each person.",
    ]
    return lines


def pairs_section(pairs: dict) -> list[str]:
    """The wrk pairs (bench/pairs.py): each scenario against its floor, with CPU per request."""
    if not pairs:
        return []
    runs = {}  # pairs measured by `--pairs-only`, by run
    for name, p in pairs.items():
        if p.get("measured"):
            runs.setdefault((p["measured"]["when"], tuple(p["measured"]["load_average_after"])), []).append(name)
    rerun = [
        f"{', '.join(f'`{name}`' for name in names)}: from `--pairs-only` at {when}, load average after it "
        f"{', '.join(f'{x:.1f}' for x in load)}."
        for (when, load), names in sorted(runs.items())
    ]
    if rerun:
        rerun += ["The other pairs: from the full run.", ""]
    lines = [
        "",
        "## Release traffic against its floors (wrk -t2 -c64, back to back, docs/performance.md)",
        "",
        "CPU per request is the gunicorn workers' + the PostgreSQL backends' + Redis's, in ms; "
        "`cpu ratio` is the floor's CPU per request over the scenario's (steadier than the rates "
        "on a shared machine).",
        "",
        *rerun,
        row(
            "pair",
            "req/s",
            "floor req/s",
            "ratio",
            "target",
            "p99 ms",
            "floor p99 ms",
            "CPU ms/req (app / db / redis)",
            "floor CPU ms/req",
            "cpu ratio",
            "5xx",
        ),
        row(*["---"] * 11),
    ]
    for name, p in pairs.items():
        if name == "read_fixed_rate":
            continue
        lines.append(
            row(
                name,
                p["rps"],
                p["bare_rps"],
                p["ratio"],
                p["target"],
                p["p99_ms"],
                p["bare_p99_ms"],
                f"{p['cpu_ms_per_request']} ({p['app_cpu_ms_per_request']} / {p['db_cpu_ms_per_request']}"
                f" / {p['redis_cpu_ms_per_request']})",
                p["bare_cpu_ms_per_request"],
                p["cpu_ratio"],
                p["server_errors"],
            )
        )
    for name, p in pairs.items():
        for side in ("scenario", "floor"):
            besides = [run["beside"] for run in p.get("runs", {}).get(side, []) if "beside" in run]
            if besides:
                answers = {}
                for beside in besides:
                    for status, n in beside["statuses"].items():
                        answers[status] = answers.get(status, 0) + n
                rps = round(sum(b["rps"] for b in besides) / len(besides), 1)
                lines.append(f"- `{name}` ({side}): the load beside it answered {rps} requests/s, by status {answers}.")
    fixed = pairs.get("read_fixed_rate")
    if fixed:
        lines += [
            "",
            f"At a fixed rate of {fixed['rate']} requests/s (half the floor read's throughput, sent on a schedule "
            "whatever the answers take; both warmed at that rate first) the availability read's p99 was "
            f"{fixed['p99_ms']} ms against the floor's {fixed['bare_p99_ms']} ms ({fixed['p99_ratio']}x; target at "
            f"most 2x). Runs alternating which went first, p99 ms: read {fixed['p99s_ms']['scenario']}, floor "
            f"{fixed['p99s_ms']['floor']}; sends more than 5 ms behind their time (no connection free): read "
            f"{fixed['late_sends']['scenario']}, floor {fixed['late_sends']['floor']}. "
            + (
                "Each figure is the median of the runs with at most 1% of their sends late."
                if fixed["open_loop"]
                else "No run of one side kept the rate (at most 1% of its sends late): these are the medians of "
                "every run, closed-loop figures, and the target is not counted as met."
            ),
        ]
    return lines


if __name__ == "__main__":
    main()
