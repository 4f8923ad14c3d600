"""Fixed-window rate limits: counted per identifiers, refused past the amount, reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpdesk import ratelimits
from helpdesk.ratelimits import Limit


@pytest.fixture(autouse=True)
def _fresh_counts() -> Iterator[None]:
    ratelimits.reset()
    yield
    ratelimits.reset()


def test_hits_past_the_amount_are_refused_and_counted() -> None:
    limit = Limit("test-search", 2, 60)

    outcomes = [ratelimits.hit(limit, "203.0.113.7") for _ in range(4)]

    assert [(o.allowed, o.count) for o in outcomes] == [
        (True, 1),
        (True, 2),
        (False, 3),
        (False, 4),
    ]


def test_each_set_of_identifiers_and_each_limit_counts_apart() -> None:
    search = Limit("test-search", 1, 60)
    contact = Limit("test-contact", 1, 60)

    assert ratelimits.hit(search, "a").allowed
    assert ratelimits.hit(search, "b").allowed
    assert ratelimits.hit(search, "a", "x").allowed
    assert ratelimits.hit(contact, "a").allowed
    assert not ratelimits.hit(search, "a").allowed


def test_reset_forgets_every_count() -> None:
    limit = Limit("test-search", 1, 60)
    ratelimits.hit(limit, "a")

    ratelimits.reset()

    assert ratelimits.hit(limit, "a") == ratelimits.Outcome(allowed=True, count=1)
