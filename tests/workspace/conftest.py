"""Signed-in clients for the workspace's view tests."""

from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.models import User


@pytest.fixture
def bob_client(agent: User) -> Client:
    """bob, an agent on the Support team, signed in."""
    client = Client()
    client.force_login(agent)
    return client
