"""The default cache's backends, with a one-call counter for rate limits and demand signals.

`cache.count(key, delta, timeout)` adds to a counter that expires `timeout` seconds after it
was first counted and returns the new value: on Redis one round trip (SET NX EX and INCRBY in
one MULTI) instead of Django's add() + incr(), which take three.
"""

from django.core.cache.backends import locmem, redis


class _RedisClient(redis.RedisCacheClient):
    """Keeps one redis client per connection pool. Django builds a new `redis.Redis` for every
    cache call, and building one (redis-py sets up its response callbacks) costs more CPU than
    the round trip itself. A client is thread-safe: it takes a connection from the pool for each
    command."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))  # pools live as long as this object
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def count(self, key, delta, timeout):
        with self.get_client(key, write=True).pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=timeout, nx=True)  # the first count starts the window
            pipe.incrby(key, delta)
            return pipe.execute()[1]


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _RedisClient

    def count(self, key, delta, timeout):
        return self._cache.count(self.make_and_validate_key(key), delta, self.get_backend_timeout(timeout))


class LocMemCache(locmem.LocMemCache):
    """The embedded default's (`make run`) per-process cache."""

    def count(self, key, delta, timeout):
        self.add(key, 0, timeout)
        try:
            return self.incr(key, delta)
        except ValueError:  # expired between add() and incr(): this count starts it again
            self.set(key, delta, timeout)
            return delta
