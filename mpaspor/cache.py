"""The default cache's backends, with a one-call counter for rate limits and demand signals.

`cache.count(key, delta, timeout)` adds to a counter that expires `timeout` seconds after it
was first counted and returns the new value: on Redis one command (a script doing SET NX EX and
INCRBY) instead of Django's add() + incr(), which take three round trips. `cache.count_many(deltas,
timeout)` does the same for several counters in that one command.
"""

from django.core.cache.backends import locmem, redis

# KEYS: the counters; ARGV: the window in seconds (0: none), then each counter's delta. Atomic, and one
# command to send and one reply to parse: a MULTI of two commands per counter cost the client
# more CPU than the rest of an availability read from the cache.
_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  if ARGV[1] == '0' then
    redis.call('SET', key, 0, 'NX')
  else
    redis.call('SET', key, 0, 'EX', ARGV[1], 'NX')
  end
  counts[i] = redis.call('INCRBY', key, ARGV[i + 1])
end
return counts
"""


class _RedisClient(redis.RedisCacheClient):
    """Keeps one redis client per connection pool. Django builds a new `redis.Redis` for every
    cache call, and building one (redis-py sets up its response callbacks) costs more CPU than
    the round trip itself. A client is thread-safe: it takes a connection from the pool for each
    command."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._count_script = None

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))  # pools live as long as this object
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def count(self, key, delta, timeout):
        return self.count_many({key: delta}, timeout)[0]

    def count_many(self, deltas, timeout):
        client = self.get_client(None, write=True)
        if self._count_script is None:
            self._count_script = client.register_script(_COUNT_SCRIPT)  # EVALSHA, loaded once
        return self._count_script(keys=list(deltas), args=[timeout or 0, *deltas.values()], client=client)


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _RedisClient

    def count(self, key, delta, timeout):
        return self._cache.count(self.make_and_validate_key(key), delta, self.get_backend_timeout(timeout))

    def count_many(self, deltas, timeout):
        keys = {self.make_and_validate_key(key): delta for key, delta in deltas.items()}
        return self._cache.count_many(keys, self.get_backend_timeout(timeout))


class LocMemCache(locmem.LocMemCache):
    """The embedded default's (`make run`) per-process cache."""

    def count(self, key, delta, timeout):
        self.add(key, 0, timeout)
        try:
            return self.incr(key, delta)
        except ValueError:  # expired between add() and incr(): this count starts it again
            self.set(key, delta, timeout)
            return delta

    def count_many(self, deltas, timeout):
        return [self.count(key, delta, timeout) for key, delta in deltas.items()]
