"""Emptying Django's cache between tests without harming the other test processes.

``cache.clear()`` on the Redis cache is FLUSHDB: in the PostgreSQL + Redis run it would also
wipe the other xdist processes' rate-limit counts, channel-layer messages and the real
worker's Celery queue in the middle of their tests. ``clear_cache()`` deletes only the keys
of Django's cache (its ``KEY_PREFIX:version:`` namespace) there, and clears the in-memory
cache of the embedded run as before.
"""

from __future__ import annotations

from django.core.cache import caches

from helpdesk.cache import RedisCache


def clear_cache() -> None:
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        backend.clear()
        return
    client = backend.client(write=True)
    batch = []
    for key in client.scan_iter(match=backend.make_key("*"), count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)
