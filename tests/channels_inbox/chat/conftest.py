"""A chat account embedded on shop.example, its visitors and agents over real sockets.

The sockets run the project's ASGI application in the test's own event loop
(``WebsocketCommunicator``), on a fresh in-memory channel layer; the database is real and
committed (``transaction=True``), since the consumer reads it from its own connections.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from channels_inbox.models import ChannelAccount
from helpdesk import ratelimits
from helpdesk.asgi import application
from helpdesk.models import Team, User
from tests.caches import clear_cache

SLUG = "shop-chat"
SHOP = "https://shop.example"
EVIL = "https://evil.example"
START_URL = f"/chat/{SLUG}/start/"
CONFIG_URL = f"/chat/{SLUG}/config/"
UPLOAD_URL = f"/chat/{SLUG}/upload/"
SOCKET_PATH = f"/ws/chat/{SLUG}/"


@pytest.fixture(autouse=True)
def _fresh_layer_and_counts(settings: Any) -> Iterator[None]:
    """A new in-memory layer and empty counters per test: groups, presence counts and rate
    limits of one test must not leak into the next (nor reach a Redis in CI)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "chat-tests",
        }
    }
    clear_cache()
    ratelimits.reset()
    yield
    ratelimits.reset()
    clear_cache()


@pytest.fixture
def chat_account(support_team: Team) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="chat",
        name="Shop chat",
        slug=SLUG,
        options={
            "allowed_origins": [SHOP],
            "brand_color": "#0a7d4f",
            "welcome_text": "Hello! Ask us anything.",
            "fallback_email_account": "support-mail",
        },
        default_team=support_team,
    )


@pytest.fixture
def online_agent(agent: User) -> User:
    """bob, on the Support team, with his availability set to online."""
    User.objects.filter(pk=agent.pk).update(availability=User.Availability.ONLINE)
    agent.refresh_from_db()
    return agent


def run(body: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body from a sync test, so pytest-django's database fixtures apply."""
    async_to_sync(body)()


def start(client: Client | None = None, origin: str = SHOP, **body: Any) -> Any:
    """POST the start endpoint the way the widget does (JSON as text/plain)."""
    return (client or Client()).post(
        START_URL, json.dumps(body), content_type="text/plain;charset=UTF-8", HTTP_ORIGIN=origin
    )


def new_token(**body: Any) -> str:
    response = start(**body)
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def visitor_socket(
    token: str, origin: str | None = SHOP, slug: str = SLUG
) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode())] if origin is not None else []
    return WebsocketCommunicator(application, f"/ws/chat/{slug}/?token={token}", headers=headers)


def _session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def agent_socket(user: User) -> WebsocketCommunicator:
    """The agent's own socket (/ws/agent/), signed in with a real session cookie, connected."""
    cookie = await database_sync_to_async(_session_cookie)(user)
    socket = WebsocketCommunicator(
        application,
        "/ws/agent/",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"cookie", cookie)],
    )
    connected, code = await socket.connect()
    assert connected, code
    return socket


async def receive_until(
    communicator: WebsocketCommunicator,
    wanted: Callable[[dict[str, Any]], bool],
    timeout: float = 3,
) -> dict[str, Any]:
    """The first frame ``wanted`` accepts, skipping others (an agent's socket also gets the
    inbox's ticket and message events)."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if wanted(frame):
            return frame
