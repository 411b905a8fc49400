"""The default cache's counter (mpaspor/cache.py), on the real Redis and on the embedded default."""

import time

import pytest
from django.core.cache import cache

from mpaspor.cache import LocMemCache


def _ttl(key):
    client = cache._cache.get_client(write=True)
    return client.ttl(cache.make_and_validate_key(key))


def test_count_adds_and_keeps_the_first_expiry():
    assert cache.count("c:a", 1, 60) == 1
    assert _ttl("c:a") == 60
    client = cache._cache.get_client(write=True)
    client.expire(cache.make_and_validate_key("c:a"), 30)
    assert cache.count("c:a", 4, 60) == 5
    assert _ttl("c:a") <= 30  # a later count does not extend the window
    assert cache.get("c:a") == 5  # readable by the cache API, as the search flush reads it


def test_count_is_one_round_trip_with_one_reused_client():
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    commands = []
    original = client.connection_pool.get_connection

    def counted(*args, **kwargs):
        commands.append(args)
        return original(*args, **kwargs)

    client.connection_pool.get_connection = counted
    try:
        cache.count("c:b", 1, 60)
    finally:
        del client.connection_pool.get_connection
    assert len(commands) == 1


def test_count_starts_again_after_expiry():
    cache.count("c:c", 3, 1)
    time.sleep(1.1)
    assert cache.count("c:c", 1, 60) == 1


@pytest.mark.parametrize("first,then", [(1, 2), (5, 7)])
def test_locmem_count_for_the_embedded_default(first, then):
    local = LocMemCache(f"counter-test-{first}", {})
    assert local.count("k", first, 60) == first
    assert local.count("k", then - first, 60) == then
