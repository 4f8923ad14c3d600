"""A Messenger account served by the fake Graph API (``FB`` builds its notifications)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from channels_inbox.models import ChannelAccount
from helpdesk.models import Team
from tests.caches import clear_cache
from tests.channels_inbox.meta_messaging.fake_graph import FakeGraph
from tests.channels_inbox.meta_messaging.notifications import MESSENGER as FB


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Profile names, our own mids and replies sent in parts are remembered in the cache."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def graph(settings: Any) -> Iterator[FakeGraph]:
    fake = FB.fake_graph()
    settings.META_GRAPH_API_URL = fake.url
    settings.META_GRAPH_TIMEOUT_SECONDS = 5
    yield fake
    fake.close()


@pytest.fixture
def account(support_team: Team, graph: FakeGraph) -> ChannelAccount:
    return FB.make_account(support_team)
