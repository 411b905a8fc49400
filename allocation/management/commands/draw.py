"""Run a release's draw now: after an outage, or to close a window early (tests, demos)."""

from django.core.management.base import BaseCommand, CommandError

from allocation.exceptions import AllocationError
from allocation.services.draws import run_draw


class Command(BaseCommand):
    help = "Close, draw and apply a release whose entry window has closed (or close it now with --close-now)."

    def add_arguments(self, parser):
        parser.add_argument("release_id", type=int)
        parser.add_argument("--close-now", action="store_true", help="End the entry window now if it is still open.")

    def handle(self, *args, release_id, close_now, **options):
        def progress(done: int, total: int) -> None:
            self.stdout.write(f"applied {done}/{total} entries")

        try:
            release = run_draw(release_id=release_id, close_now=close_now, progress=progress)
        except AllocationError as error:
            raise CommandError(error.message) from error
        won = sum(1 for slot in release.plan.values() if slot is not None)
        self.stdout.write(f"release {release.pk}: {won} of {len(release.plan)} entries drawn a place")
