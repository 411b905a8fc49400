from django.core.management.base import BaseCommand

from .seed_demo import DEMO_ACCOUNTS


class Command(BaseCommand):
    help = "Print where the portal runs and the demo logins (used by `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url, **options):
        url = url if url.endswith("/") else url + "/"
        line = "=" * 72
        self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"  mpaspor is starting at {url}"))
        self.stdout.write(f"  Staff pages (Django admin): {url}admin/")
        self.stdout.write("  Demo logins (e-mail / password):")
        width = max(len(email) for email, *_ in DEMO_ACCOUNTS)
        for email, password, _name, role in DEMO_ACCOUNTS:
            self.stdout.write(f"    {email.ljust(width)}  {password.ljust(18)}  {role}")
        # `make run` keeps this true: the web server and the worker print their e-mails (console
        # backend) to this console; the worker's log, with the text messages, goes to the file.
        self.stdout.write("  Every e-mail (verification codes, bookings, payments) is printed in this console.")
        self.stdout.write("  Text messages (SMS/WhatsApp) and the worker's log: .celery/worker.log. Stop with Ctrl+C.")
        self.stdout.write(line)
