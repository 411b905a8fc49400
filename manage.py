#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def main():
    """Run administrative tasks."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mpaspor.settings")
    try:
        import environ
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    # A checkout with no secret key (in the environment or .env) is a developer's: commands run
    # in debug there. Production sets DJANGO_SECRET_KEY, and debug then stays off by default.
    environ.Env.read_env(Path(__file__).with_name(".env"), overwrite=False)
    if not os.environ.get("DJANGO_SECRET_KEY"):
        os.environ.setdefault("DJANGO_DEBUG", "1")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
