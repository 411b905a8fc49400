"""The draw as a pure function of (seed, snapshot): what the stored result is and what anyone
can replay from what a release publishes. No database, no clock (docs/fair-release.md).

A snapshot is {"release": id, "slots": [{"id", "places"}], "entries": [{"id", "people",
"choices": [slot id, ...] best first]}}, written as canonical JSON (keys sorted, no spaces, lists
by id) so that its SHA-256 names exactly one list of entries."""

import hashlib
import hmac
import json
import secrets


def new_seed() -> str:
    """64 lowercase hex characters from the operating system's random source."""
    return secrets.token_hex(32)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_json(snapshot: dict) -> str:
    ordered = {
        "release": snapshot["release"],
        "slots": sorted(({"id": s["id"], "places": s["places"]} for s in snapshot["slots"]), key=lambda s: s["id"]),
        "entries": sorted(
            ({"id": e["id"], "people": e["people"], "choices": list(e["choices"])} for e in snapshot["entries"]),
            key=lambda e: e["id"],
        ),
    }
    return json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def order_key(seed: str, entries_sha256: str, entry_id: int) -> str:
    """HMAC-SHA256 with the seed's text as key over "<entries_sha256>:<entry id>", in hex."""
    message = f"{entries_sha256}:{entry_id}".encode()
    return hmac.new(seed.encode(), message, hashlib.sha256).hexdigest()


def draw_order(seed: str, snapshot_json: str) -> list[int]:
    """The entry ids of the snapshot in draw order (ascending order key)."""
    return _order(seed, snapshot_json, json.loads(snapshot_json)["entries"])


def _order(seed: str, snapshot_json: str, entries: list[dict]) -> list[int]:
    # The raw digests sort as their hex text does; hmac.digest is the one-shot C path.
    key, prefix = seed.encode(), f"{sha256_hex(snapshot_json)}:"
    keyed = sorted((hmac.digest(key, f"{prefix}{e['id']}".encode(), "sha256"), e["id"]) for e in entries)
    return [entry_id for _digest, entry_id in keyed]


def allocate(seed: str, snapshot_json: str) -> dict[str, int | None]:
    """Each entry's slot, or None: in draw order, its highest-ranked choice with room for all its
    people, together or not at all. Keys are entry ids as text (as JSON stores them)."""
    snapshot = json.loads(snapshot_json)
    places = {s["id"]: s["places"] for s in snapshot["slots"]}
    entries = {e["id"]: e for e in snapshot["entries"]}
    result: dict[str, int | None] = {}
    for entry_id in _order(seed, snapshot_json, snapshot["entries"]):
        entry = entries[entry_id]
        people = entry["people"]
        won = next((slot for slot in entry["choices"] if places.get(slot, 0) >= people), None)
        if won is not None:
            places[won] -= people
        result[str(entry_id)] = won
    return result
