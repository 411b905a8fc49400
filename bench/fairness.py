"""Fairness of a release, first come against draw: a model of who gets the places, and the
draw's planning time at scale. Writes bench/FAIRNESS.md. Run: `make bench-fairness`.

The model: N accounts each want one place; a fast group (scripts) sends its first request at the
opening's first millisecond and retries ten times a second; a slow group (people) sends once,
late in the window. First come hands the places out in arrival order; the draw orders the
entries by the HMAC order key of allocation.draw, the function the portal runs. The planning
time is that of the stored plan (allocation.draw.allocate) for 100,000 entries on 10,000 places.
No database: the application of a plan is measured by the draw's tests and `manage.py draw`."""

import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mpaspor.settings")

from allocation.draw import allocate, canonical_json, new_seed  # noqa: E402 - after the path

ACCOUNTS = 2_000
FAST_SHARE = 0.2
PLACES = 200
SEEDS = 20
Z99 = 2.576


def first_come(rng: random.Random) -> float:
    """The fast group's share of the places when they go in arrival order."""
    arrivals = []
    for account in range(ACCOUNTS):
        if account < ACCOUNTS * FAST_SHARE:
            arrivals.append((rng.uniform(0.000, 0.050), "fast"))  # the first millisecond, network jitter
        else:
            arrivals.append((rng.uniform(5.0, 600.0), "slow"))  # once, minutes in
    arrivals.sort()
    winners = [group for _at, group in arrivals[:PLACES]]
    return winners.count("fast") / PLACES


def draw(seed: str) -> float:
    entries = [{"id": i + 1, "people": 1, "choices": [1]} for i in range(ACCOUNTS)]
    text = canonical_json({"release": 1, "slots": [{"id": 1, "places": PLACES}], "entries": entries})
    result = allocate(seed, text)
    fast = sum(1 for entry_id, slot in result.items() if slot and int(entry_id) <= ACCOUNTS * FAST_SHARE)
    return fast / PLACES


def plan_time(entries: int = 100_000, places: int = 10_000, sessions: int = 100) -> tuple[float, float]:
    """Wall and CPU seconds of the plan (the CPU time is what the draw costs on a shared machine)."""
    rng = random.Random(7)
    per = places // sessions
    slots = [{"id": s + 1, "places": per} for s in range(sessions)]
    rows = [
        {"id": i + 1, "people": rng.choice((1, 1, 1, 2, 3)), "choices": rng.sample(range(1, sessions + 1), 3)}
        for i in range(entries)
    ]
    text = canonical_json({"release": 1, "slots": slots, "entries": rows})
    started, cpu = time.perf_counter(), time.process_time()
    allocate(new_seed(), text)
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    rng = random.Random(1)
    fc = [first_come(rng) for _ in range(SEEDS)]
    dr = [draw(new_seed()) for _ in range(SEEDS)]
    p = FAST_SHARE
    half = Z99 * math.sqrt(p * (1 - p) / PLACES)
    inside = sum(1 for share in dr if p - half <= share <= p + half)
    wall, cpu = plan_time()
    load = os.getloadavg()[0]
    report = f"""# Fairness of a release (model), {ACCOUNTS} accounts, {PLACES} places, {SEEDS} seeds

The fast group is {p:.0%} of the accounts (first millisecond, ten retries a second); the slow
group sends once, minutes into the window.

| mode | fast group's share of places (mean, min-max) |
|---|---|
| first come | {statistics.mean(fc):.1%} ({min(fc):.1%}-{max(fc):.1%}) |
| draw | {statistics.mean(dr):.1%} ({min(dr):.1%}-{max(dr):.1%}) |

Under the draw the fast group's share was inside the 99% binomial interval of its share of
entries ({p - half:.1%}-{p + half:.1%}) for {inside} of {SEEDS} seeds; the slow group's share is the rest.

The plan of a draw of 100,000 entries (1-3 people, 3 choices) on 10,000 places in 100
sessions took {cpu:.2f} s of CPU on one core ({wall:.2f} s wall, load average {load:.1f} on
{os.cpu_count()} cores) (limit: 10 s).
"""
    out = Path(__file__).with_name("FAIRNESS.md")
    out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
