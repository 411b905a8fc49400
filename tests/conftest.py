import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache

from tests.factories import OfficeFactory, SlotFactory, UserFactory


@pytest.fixture(autouse=True, scope="session")
def _plain_static_storage():
    """Pages render without `collectstatic` (the manifest storage of production needs its
    manifest, which tests with DEBUG off do not build), and passwords hash fast."""
    from django.test import override_settings

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    # A fast hasher: PBKDF2's million rounds cost ~0.3 s per user created or logged in.
    with override_settings(STORAGES=storages, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits and cached availability live in Redis: each test starts from none."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _pnbp_fees(request):
    """The fee table is data from a migration; a transactional test's flush removes it."""
    marker = request.node.get_closest_marker("django_db")
    if not marker and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = (marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames
    request.getfixturevalue("transactional_db" if transactional else "db")
    importlib.import_module("appointments.migrations.0002_pnbp_fees").add_fees(apps, None)


@pytest.fixture
def applicant_user(db):
    return UserFactory(email="pemohon@example.com")


@pytest.fixture
def office(db):
    return OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri", city="Kediri")


@pytest.fixture
def slot(office):
    return SlotFactory(office=office, capacity=10)


def pytest_configure(config):
    """Each xdist worker gets its own Redis database for the cache, since every test starts
    with `cache.clear()` (a FLUSHDB) that would wipe the other worker's counters mid-test."""
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker:
        from django.conf import settings

        cache_settings = settings.CACHES["default"]
        if cache_settings["BACKEND"].endswith("RedisCache"):
            base, _, db = cache_settings["LOCATION"].rpartition("/")
            cache_settings["LOCATION"] = f"{base}/{int(db or 0) + 1 + int(worker.removeprefix('gw'))}"


def pytest_sessionstart(session):
    """Say plainly which service is missing instead of failing a thousand tests."""
    import os

    import environ
    import psycopg2
    import redis

    db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    problems = []
    try:
        psycopg2.connect(
            dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432,
            connect_timeout=3,
        ).close()
    except psycopg2.Error as exc:
        problems.append(f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT'] or 5432} ({exc}).")
    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis is not reachable at {os.environ['REDIS_URL']} ({exc}).")
    if problems:
        raise pytest.UsageError(
            "The tests need PostgreSQL and Redis:\n  " + "\n  ".join(problems)
            + "\nStart them, or point DATABASE_URL / REDIS_URL at running ones."
        )
