"""The help center's page cache generation.

Public pages are cached under keys that include a generation number; anything that changes
what a visitor may see (publishing, unpublishing, editing a published article, a category
change) calls ``bump_generation()``, and every cached page is stale at once without
deleting keys one by one.
"""

from __future__ import annotations

from django.core.cache import cache

GENERATION_KEY = "help-center:generation"


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return int(value)


def bump_generation() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): start a new generation
        cache.set(GENERATION_KEY, generation() + 1, timeout=None)
