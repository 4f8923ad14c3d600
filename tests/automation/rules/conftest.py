"""Helpers for the rules tests: rules are saved through ``save_rule``, as the settings page
and the API save them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from automation.models import Rule
from automation.rules.engine import invalidate_rules
from automation.rules.services import save_rule
from helpdesk.models import User
from tests.e2e.conftest import artifacts  # noqa: F401 - browser test
from tests.workspace.browser.conftest import asgi_server, browser, page  # noqa: F401 - browser test


@pytest.fixture(autouse=True)
def _fresh_rules_cache() -> Iterator[None]:
    """Each test starts and ends with no compiled rules: the test database is rolled back
    under a cache that outlives it."""
    invalidate_rules()
    yield
    invalidate_rules()


@pytest.fixture
def make_rule(admin: User) -> Callable[..., Rule]:
    def make(**fields: Any) -> Rule:
        values: dict[str, Any] = {
            "name": "A rule",
            "trigger": Rule.Trigger.TICKET_CREATED,
            "active": True,
            "conditions": {},
            "actions": [{"type": "add_tags", "tags": ["ruled"]}],
        }
        values.update(fields)
        return save_rule(Rule(**values), actor=admin)

    return make
