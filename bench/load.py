"""The burst: a separate load process (asyncio + aiohttp).

    python bench/load.py PLAN.json SCENARIO MODE BASE_URL AT_EPOCH OUT.json [--concurrency N] [--reads-every K]

MODE "booking" sends every account's POST /api/v1/applications/ (one distinct person each) with
an availability read (GET /api/v1/offices/{code}/availability/) after every K bookings;
MODE "baseline" sends the same attempts to the bare claim /bench/claim/; MODE "entering" sends
every account's entry (POST /api/v1/releases/{id}/entries/, one distinct person, the release's
three sessions) to the draw-mode release, with the same availability reads. The process waits
until AT_EPOCH (the moment the slot opens) and then fires everything, at most N in flight.
It records each answer's status and latency and writes them, summarised, to OUT.json.
"""

import argparse
import asyncio
import json
import random
import statistics
import time

import aiohttp

PASSPORT = {"passport_type": "regular", "validity_years": 5, "express": False}


def timeline(results, started):
    seconds = {}
    for kind, status, _latency, _code, done in results:
        second = seconds.setdefault(int(done - started), {})
        second[f"{kind} {status}"] = second.get(f"{kind} {status}", 0) + 1
    return {str(k): v for k, v in sorted(seconds.items())}


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def run(args):
    plan = json.load(open(args.plan))
    slot = plan["slots"].get(args.scenario)
    people = plan["people"][args.scenario]
    tokens = plan["tokens"]
    order = list(range(len(people)))
    random.Random(args.scenario).shuffle(order)  # no account wins every scenario
    if args.limit:
        order = order[: args.limit]
    availability = f"{args.base_url}/api/v1/offices/{plan['office']}/availability/?from={plan['day']}&to={plan['day']}"
    results = []  # (kind, status, latency_s, code, answered_at)

    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        sem = asyncio.Semaphore(args.concurrency)

        async def call(kind, method, url, **kw):
            async with sem:
                start = time.perf_counter()
                try:
                    async with session.request(method, url, **kw) as response:
                        body = await response.read()
                        status = response.status
                except (TimeoutError, aiohttp.ClientError) as exc:
                    results.append((kind, 599, time.perf_counter() - start, type(exc).__name__, time.perf_counter()))
                    return
                code = ""
                if status >= 300:
                    try:
                        code = json.loads(body).get("code", "")
                    except ValueError:
                        code = "not-json"  # e.g. Django's HTML 500 page
                results.append((kind, status, time.perf_counter() - start, code, time.perf_counter()))

        def attempt(i):
            person = people[i]
            if args.mode == "baseline":
                return call(
                    "attempt", "POST", f"{args.base_url}/bench/claim/", json={"slot": slot, "nik": person["nik"]}
                )
            if args.mode == "entering":
                entry = {
                    "people": [{**person, **PASSPORT, "application_kind": "new"}],
                    "choices": plan["draw_slots"],
                }
                return call(
                    "attempt",
                    "POST",
                    f"{args.base_url}/api/v1/releases/{plan['release']}/entries/",
                    json=entry,
                    headers={"Authorization": f"Token {tokens[i]}", "Accept-Language": "id"},
                )
            payload = {
                "slot": slot,
                "passport_type": "regular",
                "validity_years": 5,
                "application_kind": "new",
                "express": False,
                "applicant": person,
            }
            return call(
                "attempt",
                "POST",
                f"{args.base_url}/api/v1/applications/",
                json=payload,
                headers={"Authorization": f"Token {tokens[i]}", "Accept-Language": "id"},
            )

        coros = []
        for n, i in enumerate(order):
            coros.append(attempt(i))
            if args.mode in ("booking", "entering") and args.reads_every and n % args.reads_every == 0:
                coros.append(call("read", "GET", availability, headers={"Authorization": f"Token {tokens[i]}"}))
        delay = args.at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        started = time.perf_counter()
        await asyncio.gather(*coros)
        elapsed = time.perf_counter() - started

    attempts = [r for r in results if r[0] == "attempt"]
    reads = [r for r in results if r[0] == "read"]
    lat = [r[2] * 1000 for r in attempts]
    read_lat = [r[2] * 1000 for r in reads]
    statuses = {}
    for r in results:
        key = f"{r[0]} {r[1]} {r[3]}".strip()
        statuses[key] = statuses.get(key, 0) + 1
    summary = {
        "scenario": args.scenario,
        "mode": args.mode,
        "concurrency": args.concurrency,
        "elapsed_s": round(elapsed, 3),
        "attempts": len(attempts),
        "successes": sum(1 for r in attempts if r[1] == 201),  # places booked, or entries made
        "server_errors": sum(1 for r in results if r[1] >= 500),
        "rps": round(len(attempts) / elapsed, 1),
        "all_rps": round(len(results) / elapsed, 1),
        "p50_ms": round(percentile(lat, 50), 1),
        "p90_ms": round(percentile(lat, 90), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "max_ms": round(max(lat), 1),
        "mean_ms": round(statistics.fmean(lat), 1),
        "reads": len(reads),
        "read_p50_ms": round(percentile(read_lat, 50), 1) if reads else None,
        "read_p99_ms": round(percentile(read_lat, 99), 1) if reads else None,
        "answers": dict(sorted(statuses.items())),
        # Answers per second of the burst, by kind and status: where a burst slows down.
        "timeline": timeline(results, started),
    }
    json.dump(summary, open(args.out, "w"), indent=2)
    print(json.dumps({k: v for k, v in summary.items() if k != "answers"}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("plan")
    parser.add_argument("scenario")
    parser.add_argument("mode", choices=["booking", "baseline", "entering"])
    parser.add_argument("base_url")
    parser.add_argument("at", type=float)
    parser.add_argument("out")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--reads-every", type=int, default=10)
    parser.add_argument("--limit", type=int, default=0, help="only the first N attempts (warm-up)")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
