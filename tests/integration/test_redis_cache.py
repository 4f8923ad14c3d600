"""The Redis cache keeps one client per connection pool, and behaves as Django's does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis._parsers import _HiredisParser

from helpdesk.cache import RedisCache
from tests.integration.conftest import needs_redis

pytestmark = [pytest.mark.integration, needs_redis]


@pytest.fixture
def backend() -> Iterator[RedisCache]:
    """A cache of its own on the run's Redis, under a prefix nothing else uses."""
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"cache-test-{uuid.uuid4().hex}"})
    yield cache
    client = cache.client(write=True)
    keys = list(client.scan_iter(match=cache.make_key("*")))
    if keys:
        client.delete(*keys)


def test_the_configured_cache_is_this_one() -> None:
    assert isinstance(caches["default"], RedisCache)
    # What code checking for Django's Redis cache (bare commands on its client) still finds.
    assert isinstance(caches["default"], DjangoRedisCache)


def test_every_operation_uses_the_same_client_and_connection(backend: RedisCache) -> None:
    client = backend.client(write=True)

    backend.set("order", {"number": 1042}, timeout=60)
    assert backend.add("order", "other", timeout=60) is False
    assert backend.add("refund", 1, timeout=60) is True
    assert backend.incr("refund") == 2
    assert backend.get("order") == {"number": 1042}
    assert backend.get_many(["order", "refund", "missing"]) == {
        "order": {"number": 1042},
        "refund": 2,
    }
    assert backend.touch("order", timeout=120) is True
    assert backend.delete("order") is True
    assert backend.get("order", "gone") == "gone"

    # Reads and writes share it: there is one server.
    assert backend.client() is client
    # One after another, the operations never needed a second connection.
    assert len(client.connection_pool._available_connections) == 1
    assert client.connection_pool._created_connections == 1


def test_a_lost_connection_is_replaced_on_the_kept_client(backend: RedisCache) -> None:
    backend.set("ticket", "open", timeout=60)
    client = backend.client(write=True)
    client.connection_pool.disconnect()

    assert backend.get("ticket") == "open"
    assert backend.client(write=True) is client


def test_replies_are_parsed_by_hiredis(backend: RedisCache) -> None:
    # Installed with redis[hiredis]: it parses in C and takes a third off the CPU of each
    # command (the webhooks' slot check, the broker, the cache). Without it redis-py falls
    # back to its Python parser silently.
    backend.set("ticket", "open", timeout=60)
    connection = backend.client(write=True).connection_pool.get_connection()
    try:
        assert isinstance(connection._parser, _HiredisParser)
    finally:
        backend.client(write=True).connection_pool.release(connection)
