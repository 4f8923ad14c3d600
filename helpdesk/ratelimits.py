"""Rate limits shared by every process, through the ``limits`` library: fixed windows counted
in Redis when ``REDIS_URL`` is set (one round trip per hit, on a connection pool kept for
the process), in this process's memory otherwise (the embedded default is one process).

A limit is named by its caller: ``hit(EMAIL_SENDER, account.pk, sender)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage


@dataclass(frozen=True)
class Limit:
    """At most ``amount`` hits per ``seconds`` for each set of identifiers."""

    name: str
    amount: int
    seconds: int

    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.amount, self.seconds, namespace=self.name)


@dataclass(frozen=True)
class Outcome:
    allowed: bool
    count: int  # hits in the current window, this one included


@functools.cache
def _storage() -> Storage:
    if settings.REDIS_URL:
        return RedisStorage(settings.REDIS_URL, key_prefix=f"{settings.REDIS_KEY_PREFIX}:limits")
    return MemoryStorage()


def hit(limit: Limit, *identifiers: object) -> Outcome:
    """Count one hit; ``allowed`` is False once the window holds more than ``limit.amount``
    hits (every hit counts, refused ones too, so a flood stays refused until the window
    ends)."""
    # What limits' FixedWindowRateLimiter.hit() does, keeping the count it compares.
    item = limit.item()
    count = _storage().incr(item.key_for(*map(str, identifiers)), item.get_expiry())
    return Outcome(allowed=count <= limit.amount, count=count)


def reset() -> None:
    """Forget every count (tests; an operator lifting a block)."""
    _storage().reset()
