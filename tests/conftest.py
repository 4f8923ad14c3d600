"""Actors and helpers shared by the whole suite.

alice is the admin, bob and carol are agents on the Support team, dave is an agent on
another team, erin is a deactivated agent; customers are Customer rows, never users.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings as settings_module
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount
from customers.models import Customer
from customers.services import create_customer
from helpdesk.celery import app as celery_app
from helpdesk.models import Team, User
from tickets.models import Ticket
from tickets.services import InboundMessage, receive_message


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True, scope="session")
def _rate_limit_counts_per_process() -> None:
    """Rate-limit counts live under ``REDIS_KEY_PREFIX`` (read when first used), and a test's
    ``ratelimits.reset()`` clears that prefix: in Redis shared by the xdist processes, each
    process counts under a prefix of its own so no reset wipes another's counts mid-test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        settings_module.REDIS_KEY_PREFIX = f"{settings_module.REDIS_KEY_PREFIX}-{worker}"
        # Django's cache too: each test empties it (tests/caches.py), which must not drop
        # another process's keys mid-test (cached counts, a send's progress). A real worker
        # a test starts inherits the variable, so it shares this process's cache.
        prefix = f"{settings_module.CACHE_KEY_PREFIX}-{worker}"
        os.environ["CACHE_KEY_PREFIX"] = prefix
        for alias, config in settings_module.CACHES.items():
            if "KEY_PREFIX" in config:
                config["KEY_PREFIX"] = prefix
                caches[alias].key_prefix = prefix


@pytest.fixture(autouse=True)
def _fresh_local_cache() -> None:
    """The in-memory cache outlives a test's rolled-back rows, and on SQLite a later test can
    get the same ids and times (a frozen clock) and so the same cache keys. Redis, in the
    PostgreSQL run, is shared with the real worker and never cleared here; its ids never
    repeat."""
    for alias in settings_module.CACHES:
        backend = caches[alias]
        if isinstance(backend, LocMemCache):
            backend.clear()


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in the test's own process after commit, even when REDIS_URL is set: a task
    published to a real broker would outlive its test and its database rows. The
    integration tests, which start a real worker, opt out by their marker."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = was_eager


@pytest.fixture
def support_team(db: None) -> Team:
    return Team.objects.create(name="Support", slug="support")


@pytest.fixture
def returns_team(db: None) -> Team:
    return Team.objects.create(name="Returns", slug="returns")


@pytest.fixture
def admin(db: None) -> User:
    return User.objects.create_user(
        "alice", "alice@shop.test", "pw", role=User.Role.ADMIN, display_name="Alice Admin"
    )


@pytest.fixture
def agent(support_team: Team) -> User:
    user = User.objects.create_user(
        "bob", "bob@shop.test", "pw", role=User.Role.AGENT, display_name="Bob Agent"
    )
    user.teams.add(support_team)
    return user


@pytest.fixture
def teammate(support_team: Team) -> User:
    user = User.objects.create_user(
        "carol", "carol@shop.test", "pw", role=User.Role.AGENT, display_name="Carol Agent"
    )
    user.teams.add(support_team)
    return user


@pytest.fixture
def other_agent(returns_team: Team) -> User:
    user = User.objects.create_user("dave", "dave@shop.test", "pw", role=User.Role.AGENT)
    user.teams.add(returns_team)
    return user


@pytest.fixture
def inactive_agent(db: None) -> User:
    return User.objects.create_user("erin", "erin@shop.test", "pw", is_active=False)


@pytest.fixture
def customer(db: None) -> Customer:
    return create_customer(name="Ana Souza", email="ana@example.com", locale="pt-BR")


@pytest.fixture
def email_account(support_team: Team) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="email",
        name="Support mailbox",
        slug="support-mail",
        address="support@shop.test",
        credentials={"password": "mailbox-secret"},
        default_team=support_team,
    )


@pytest.fixture
def whatsapp_account(support_team: Team) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="whatsapp",
        name="WhatsApp",
        slug="whatsapp-main",
        address="+14155550100",
        credentials={"access_token": "wa-secret-token", "app_secret": "wa-app-secret"},
        default_team=support_team,
    )


@pytest.fixture
def make_ticket(db: None, django_capture_on_commit_callbacks: Any) -> Callable[..., Ticket]:
    """A ticket started by a customer email; keyword arguments override the message."""
    counter = {"n": 0}

    def make(**overrides: Any) -> Ticket:
        counter["n"] += 1
        fields: dict[str, Any] = {
            "channel": "email",
            "sender_address": f"customer{counter['n']}@example.com",
            "sender_name": f"Customer {counter['n']}",
            "subject": f"Question {counter['n']}",
            "text": "Where is my order?",
            "starts_conversation": True,
        }
        fields.update(overrides)
        with django_capture_on_commit_callbacks(execute=True):
            message = receive_message(InboundMessage(**fields))
        ticket = Ticket.objects.get(pk=message.ticket_id)
        return ticket

    return make


@pytest.fixture
def ticket(make_ticket: Callable[..., Ticket]) -> Ticket:
    return make_ticket(sender_address="ana@example.com", sender_name="Ana Souza")


def api_client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def admin_client_api(admin: User) -> APIClient:
    return api_client_for(admin)


@pytest.fixture
def agent_client(agent: User) -> APIClient:
    return api_client_for(agent)
