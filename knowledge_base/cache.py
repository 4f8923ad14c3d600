"""The help center's page cache generation.

Public pages are cached under keys that include a generation number; anything that changes
what a visitor may see (publishing, unpublishing, editing a published article, a category
change) calls ``bump_generation()``, and every cached page is stale at once without
deleting keys one by one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

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


# --- Whole public pages ---------------------------------------------------------------------

PAGE_PREFIX = "help-center:page"
# The generation makes a page stale the moment anything changes; this bound only keeps
# pages nobody asks for from sitting in the cache forever.
PAGE_TIMEOUT_SECONDS = 60 * 60


@dataclass(frozen=True)
class CachedPage:
    """A rendered public page: what the response needs, plus the article it shows (whose
    views are still counted when the page comes from the cache)."""

    content: bytes
    content_type: str
    article_id: int | None = None


def page_key(path: str, locale: str) -> str:
    # Hashing keeps keys short and free of characters memcached-style backends refuse.
    digest = hashlib.sha256(path.encode()).hexdigest()[:32]
    return f"{PAGE_PREFIX}:{locale}:{digest}"


def lookup_page(path: str, locale: str) -> tuple[int, CachedPage | None]:
    """The current generation, and the page at ``path`` if it was built in it.

    One round trip to the cache: the generation and the page are read together, and a
    page stored under an older generation is a miss (``store_page`` overwrites it)."""
    key = page_key(path, locale)
    values = cache.get_many([GENERATION_KEY, key])
    current = values.get(GENERATION_KEY)
    if current is None:
        return generation(), None
    stored = values.get(key)
    if (
        isinstance(stored, tuple)
        and len(stored) == 2
        and stored[0] == current
        and isinstance(stored[1], CachedPage)
    ):
        return int(current), stored[1]
    return int(current), None


def store_page(path: str, locale: str, built_in: int, page: CachedPage) -> None:
    """Keep ``page``, built in generation ``built_in`` (read before building, so a page
    built while something was published is stale at once rather than kept)."""
    cache.set(page_key(path, locale), (built_in, page), timeout=PAGE_TIMEOUT_SECONDS)
