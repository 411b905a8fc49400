import importlib
import os

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache

from quotas.services.searches import send_search_counts
from tests.factories import OfficeFactory, SlotFactory, UserFactory

# Several nodes, a real replica and two beats: only under `make test-scale`, which starts them.
collect_ignore = [] if os.environ.get("SCALE_TESTS") else ["scale"]


@pytest.fixture(autouse=True, scope="session")
def _plain_static_storage(tmp_path_factory):
    """Pages render without `collectstatic` (the manifest storage of production needs its
    manifest, which tests with DEBUG off do not build), uploaded documents go to a temporary
    folder (never into the checkout), and passwords hash fast."""
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "documents": {
            **settings.STORAGES["documents"],
            "OPTIONS": {**settings.STORAGES["documents"]["OPTIONS"], "location": str(tmp_path_factory.mktemp("docs"))},
        },
    }
    # A fast hasher: PBKDF2's million rounds cost ~0.3 s per user created or logged in.
    with override_settings(STORAGES=storages, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True, scope="session")
def _cache_per_worker(worker_id):
    """pytest-xdist workers share one Redis database: each gets its own key prefix, so that
    one worker's clean-up never wipes another's counters (or a Celery test's queue)."""
    from django.test import override_settings

    caches = {name: {**conf, "KEY_PREFIX": f"test-{worker_id}"} for name, conf in settings.CACHES.items()}
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _clean_cache(_cache_per_worker):
    """Rate limits and cached availability live in Redis: each test starts from none of its
    worker's keys (never FLUSHDB, which `cache.clear()` is on Redis)."""
    send_search_counts()  # an earlier test's unsent search counts go, with the rest, below
    client = getattr(cache, "_cache", None)
    if client is not None and hasattr(client, "get_client"):
        redis = client.get_client(None, write=True)
        prefix = cache.make_key("*").split(":", 1)[0]
        for key in redis.scan_iter(match=f"{prefix}:*", count=500):
            redis.delete(key)
    else:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _pnbp_fees(request):
    """The fee and required-document tables are data from migrations; a transactional test's
    flush removes them."""
    marker = request.node.get_closest_marker("django_db")
    if not marker and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = (marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames
    request.getfixturevalue("transactional_db" if transactional else "db")
    importlib.import_module("appointments.migrations.0002_pnbp_fees").add_fees(apps, None)
    importlib.import_module("appointments.migrations.0008_fines_married_and_skipped_messages").add_fines(apps, None)
    importlib.import_module("appointments.migrations.0011_required_documents").add_required_documents(apps, None)


@pytest.fixture
def applicant_user(db):
    return UserFactory(email="pemohon@example.com")


@pytest.fixture
def office(db):
    return OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri", city="Kediri")


@pytest.fixture
def slot(office):
    return SlotFactory(office=office, capacity=10)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On the embedded default (SQLite, as `make run` uses it), each worker's test database is a
    file in pytest's temporary folder: WAL and immediate transactions as under `make run`, and
    nothing left in the checkout."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")
    elif "replica" not in settings.DATABASES:
        # A second connection to the test database, for the router's tests: it is read only when
        # a test sets REPLICA_DATABASE_URL (tests/test_db_router.py), and a test that reads it
        # must name it in django_db(databases=...). The real replica is make test-scale's.
        settings.DATABASES["replica"] = {**database, "TEST": {**database.get("TEST", {}), "MIRROR": "default"}}


def pytest_sessionstart(session):
    """Say plainly which service is missing instead of failing a thousand tests. PostgreSQL is
    checked when DATABASE_URL names it, Redis when REDIS_URL is set: the browser walks also run
    on the embedded default of `make run` (SQLite, local-memory cache, file broker), which needs
    neither."""
    import os

    import environ
    import psycopg2
    import redis

    db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    problems = []
    if "postgresql" in db["ENGINE"]:
        try:
            psycopg2.connect(
                dbname="postgres",
                user=db["USER"],
                password=db["PASSWORD"],
                host=db["HOST"],
                port=db["PORT"] or 5432,
                connect_timeout=3,
            ).close()
        except psycopg2.Error as exc:
            problems.append(f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT'] or 5432} ({exc}).")
    if os.environ.get("REDIS_URL"):
        try:
            redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis is not reachable at {os.environ['REDIS_URL']} ({exc}).")
    if problems:
        raise pytest.UsageError(
            "The tests need PostgreSQL and Redis:\n  "
            + "\n  ".join(problems)
            + "\nStart them, or point DATABASE_URL / REDIS_URL at running ones."
        )
