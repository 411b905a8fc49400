"""Replay a draw from what its release published: the seed and the snapshot. Needs no
database: anyone can check that the stored result is the allocation of the published inputs."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from allocation.draw import allocate, canonical_json, sha256_hex


class Command(BaseCommand):
    help = (
        "Print the allocation of a published draw. Input: the JSON of GET /api/v1/releases/{id}/draw/ "
        "(a file, or - for standard input)."
    )
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("published", help="file with the release's published draw, or - for stdin")

    def handle(self, *args, published, **options):
        text = sys.stdin.read() if published == "-" else open(published, encoding="utf-8").read()
        result = replay(json.loads(text))
        self.stdout.write(json.dumps(result, sort_keys=True, indent=1))


def replay(published: dict) -> dict[str, int | None]:
    """Rebuild the canonical snapshot, check both commitments, then allocate: the same
    function the draw ran."""
    seed = published["seed"]
    snapshot = canonical_json(
        {"release": published["id"], "slots": published["slots"], "entries": published["entries"]}
    )
    if sha256_hex(seed) != published["seed_sha256"]:
        raise CommandError("The seed does not match its published commitment (seed_sha256).")
    if sha256_hex(snapshot) != published["entries_sha256"]:
        raise CommandError("The snapshot does not match its published SHA-256 (entries_sha256).")
    return allocate(seed, snapshot)
