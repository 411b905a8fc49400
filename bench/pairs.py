"""Release traffic against its floor, with wrk (a C load generator that leaves the cores to the server).

Each pair runs a scenario of the portal and its floor (a bare Django view, bench/baseline.py) back
to back from the same gunicorn, on the same database, `repeats` times, and reports both rates,
their ratio, p50/p99 and the CPU each request cost the app and the database. wrk runs the Lua
scripts of bench/lua/: common.lua (request numbering, answers by status, one JSON line at the
end), then the scenario's own script, after a generated prelude that sets `params`.

Adding a scenario: a Lua script whose request() builds the request from `next_index()` (so that
each request carries its own people), a floor view in bench/baseline.py routed in bench/urls.py,
and one `Pair` in `pairs()` below.
"""

import json
import statistics
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
# The read at a fixed rate: each side warmed at that rate first (not measured), then this many
# runs of each, alternating which goes first; the p99 reported is each side's median run among
# those that kept the rate.
FIXED_RATE_RUNS = 3
FIXED_RATE_WARMUP_SECONDS = 3


@dataclass
class Run:
    script: str  # bench/lua/<script>.lua
    params: dict = field(default_factory=dict)  # the Lua `params` table
    connections: int = 16  # as load beside a measured run (a measured run uses run_pairs' own)
    rate: int = 0  # requests/s over all connections, on a schedule (common.lua), 0: as fast as answered


@dataclass
class Pair:
    name: str
    scenario: Run
    floor: Run
    target: float  # the ratio of the rates asked for (scenario / floor)
    beside: Run | None = None  # load running during the scenario, not measured (claims on the same day)
    beside_floor: bool = False  # the same load beside the floor too: the floor under the same burst


def pairs(plan: dict) -> list[Pair]:
    office, day, slots, tokens = plan["office"], plan["day"], plan["slots"], plan["tokens"]
    availability = f"/api/v1/offices/{office}/availability/?from={day}&to={day}"
    month_end = plan["month_end"]
    floor_read = Run("get", {"path": f"/bench/read/?slot={slots['sold_out']}"})

    def booking(slot: str, region: str, *, floor: bool = False) -> Run:
        params = {"slot": slots[slot], "region": region, "floor": floor}
        return Run("booking", params if floor else {**params, "tokens": tokens})

    def entering(region: str, *, floor: bool = False) -> Run:
        params = {"release": plan["release"], "choices": plan["draw_slots"], "region": region, "floor": floor}
        return Run("enter", {**params, "account": plan["floor_account"]} if floor else {**params, "tokens": tokens})

    # Logins offered at twice what two cores can hash (a check costs ~175 ms of CPU by design).
    logins = Run("login", plan["login"], connections=8, rate=round(2 * 2 / 0.175))

    return [
        Pair("read", Run("get", {"path": availability}), floor_read, 0.8),
        Pair(
            "read_month",
            Run("get", {"path": f"/api/v1/offices/{office}/availability/?from={day}&to={month_end}"}),
            floor_read,
            0.8,
        ),
        Pair("read_304", Run("get", {"path": availability, "etag": "from the first answer"}), floor_read, 0.8),
        Pair("refusal", booking("sold_out", "357110"), booking("sold_out", "357111", floor=True), 0.6),
        Pair("booking_success", booking("wrk_booking", "357112"), booking("wrk_floor", "357113", floor=True), 0.5),
        Pair(
            "read_during_claims",
            Run("get", {"path": availability}),
            floor_read,
            0.5,
            beside=booking("wrk_burst", "357114"),
            beside_floor=True,
        ),
        Pair("enter", entering("357115"), entering("357116", floor=True), 0.5),
        # The booking's throughput with logins beside it against the same booking without them.
        Pair("booking_with_logins", booking("wrk_booking", "357117"), booking("wrk_booking", "357118"), 0.7, logins),
    ]


def lua_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid Lua string here (ASCII, no \u escapes)
    if isinstance(value, list):
        return "{" + ",".join(lua_literal(v) for v in value) + "}"
    return "{" + ",".join(f"[{lua_literal(k)}]={lua_literal(v)}" for k, v in value.items()) + "}"


def wrk(
    run: Run,
    *,
    base_url: str,
    out: Path,
    name: str,
    seconds: float,
    connections: int,
    threads: int,
    offset: int,
    rate=0,
) -> dict:
    params = {**run.params, "offset": offset, "threads": threads, "connections": connections, "rate": rate}
    script = out / f"{name}.lua"
    script.write_text(
        f"params = {lua_literal(params)}\n" + (LUA / "common.lua").read_text() + (LUA / f"{run.script}.lua").read_text()
    )
    argv = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{round(seconds)}s",
        "--latency",
        "-s",
        str(script),
    ]
    result = subprocess.run([*argv, base_url], capture_output=True, text=True)
    (out / f"{name}.txt").write_text(result.stdout + result.stderr)
    if result.returncode:
        raise RuntimeError(f"wrk failed in {name}: {result.stderr or result.stdout}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK-JSON "))
    raw = json.loads(line.removeprefix("WRK-JSON "))
    seconds_run = raw["duration_us"] / 1e6
    statuses = raw["statuses"]
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for status, n in statuses.items() if int(status) >= 500),
        "socket_errors": raw["socket_errors"],
        "late": raw["late"],  # at a fixed rate: sends more than 5 ms behind their time
    }


def run_pairs(
    plan: dict,
    *,
    base_url: str,
    out: Path,
    cpu,
    etag_of,
    seconds: float = 10,
    repeats: int = 2,
    connections: int = 64,
    threads: int = 2,
    only: set[str] = frozenset(),
    log=print,
) -> dict:
    """Every pair (or those named in `only`), its floor and its scenario back to back `repeats`
    times (alternating which goes first); then the read at a fixed rate (half the floor's) against
    the floor at that rate (with `only`, when it names both `read` and `read_fixed_rate`): both
    warmed at the rate, then FIXED_RATE_RUNS runs of each, alternating, each side's median p99 over
    the runs that kept the rate.
    Returns the figures by pair."""
    offsets = iter(range(1_000_000, 10**9, 1_000_000))  # people never repeat across runs
    background = ThreadPoolExecutor(max_workers=1)  # the load beside a measured run

    def measured(run: Run, name: str, *, rate: int = 0, beside: Run | None = None, seconds=seconds) -> dict:
        """One wrk run, with the CPU the app and the database spent on it per request."""
        if run.params.get("etag"):
            run.params["etag"] = etag_of(run.params["path"])
        common = {"base_url": base_url, "out": out, "seconds": seconds}
        side = None
        if beside:
            side = background.submit(
                wrk,
                beside,
                **common,
                name=f"{name}-beside",
                connections=beside.connections,
                threads=1,
                offset=next(offsets),
                rate=beside.rate,
            )
        before = cpu()
        result = wrk(
            run, **common, name=name, connections=connections, threads=threads, offset=next(offsets), rate=rate
        )
        after = cpu()
        if side:
            beside_result = side.result()
            result["beside"] = {key: beside_result[key] for key in ("requests", "rps", "p99_ms", "statuses")}
        requests = max(result["requests"], 1)
        result["app_cpu_ms_per_request"] = round(1000 * (after[0] - before[0]) / requests, 3)
        result["db_cpu_ms_per_request"] = round(1000 * (after[1] - before[1]) / requests, 3)
        result["redis_cpu_ms_per_request"] = round(1000 * (after[2] - before[2]) / requests, 3)
        log(f"{name}: {json.dumps(result)}")
        return result

    results = {}
    for pair in pairs(plan):
        if only and pair.name not in only:
            continue
        runs = {"scenario": [], "floor": []}
        for repeat in range(repeats):
            for side in ("floor", "scenario") if repeat % 2 == 0 else ("scenario", "floor"):
                beside = pair.beside if side == "scenario" or pair.beside_floor else None
                runs[side].append(measured(getattr(pair, side), f"{pair.name}-{side}-{repeat}", beside=beside))
        results[pair.name] = summarise(runs, pair.target)

    # p99 at a fixed rate: half the floor's throughput, for the read and its floor alike.
    read = pairs(plan)[0]
    if only and not {"read_fixed_rate", read.name} <= only:
        return results
    rate = round(results[read.name]["bare_rps"] / 2)
    for side in ("floor", "scenario"):
        measured(getattr(read, side), f"fixed-rate-warmup-{side}", rate=rate, seconds=FIXED_RATE_WARMUP_SECONDS)
    fixed = {"floor": [], "scenario": []}
    for repeat in range(FIXED_RATE_RUNS):
        for side in ("floor", "scenario") if repeat % 2 == 0 else ("scenario", "floor"):
            fixed[side].append(measured(getattr(read, side), f"fixed-rate-{side}-{repeat}", rate=rate))
    # A run with more than 1% of its sends late did not keep the rate (no connection was free): its
    # p99 is a closed-loop figure. Each side's p99 is the median of its runs that kept the rate;
    # unless both sides have such a run, the figure is not open loop.
    kept = {side: [r for r in runs if r["late"] <= 0.01 * r["requests"]] for side, runs in fixed.items()}
    open_loop = all(kept.values())
    p99, bare_p99 = (
        statistics.median(r["p99_ms"] for r in (kept[side] if open_loop else fixed[side]))
        for side in ("scenario", "floor")
    )
    results["read_fixed_rate"] = {
        "rate": rate,
        "p99_ms": p99,
        "bare_p99_ms": bare_p99,
        "p99_ratio": round(p99 / max(bare_p99, 0.001), 2),
        "p99s_ms": {side: [r["p99_ms"] for r in fixed[side]] for side in fixed},
        "late_sends": {side: [r["late"] for r in fixed[side]] for side in fixed},
        "open_loop": open_loop,
        "target": "p99 <= 2 x the floor's",
        "met": p99 <= 2 * bare_p99 and open_loop,
        "runs": fixed,
    }
    return results


def summarise(runs: dict, target: float) -> dict:
    def mean(side, key):
        values = [r[key] for r in runs[side]]
        return round(sum(values) / len(values), 3)

    rps, bare_rps = mean("scenario", "rps"), mean("floor", "rps")
    cpu = {side: sum(mean(side, f"{part}_cpu_ms_per_request") for part in ("app", "db", "redis")) for side in runs}
    return {
        "rps": rps,
        "bare_rps": bare_rps,
        "ratio": round(rps / bare_rps, 3) if bare_rps else None,
        "target": target,
        "met": bool(bare_rps) and rps / bare_rps >= target,
        # CPU per request, app + database + Redis: steadier than the rates on a shared machine.
        "cpu_ms_per_request": round(cpu["scenario"], 3),
        "bare_cpu_ms_per_request": round(cpu["floor"], 3),
        "cpu_ratio": round(cpu["floor"] / cpu["scenario"], 3) if cpu["scenario"] else None,
        "p99_ms": mean("scenario", "p99_ms"),
        "bare_p99_ms": mean("floor", "p99_ms"),
        "app_cpu_ms_per_request": mean("scenario", "app_cpu_ms_per_request"),
        "db_cpu_ms_per_request": mean("scenario", "db_cpu_ms_per_request"),
        "bare_app_cpu_ms_per_request": mean("floor", "app_cpu_ms_per_request"),
        "bare_db_cpu_ms_per_request": mean("floor", "db_cpu_ms_per_request"),
        "redis_cpu_ms_per_request": mean("scenario", "redis_cpu_ms_per_request"),
        "bare_redis_cpu_ms_per_request": mean("floor", "redis_cpu_ms_per_request"),
        "server_errors": sum(r["server_errors"] for side in runs.values() for r in side),
        "runs": runs,
    }
