"""The agents' WebSocket (/ws/agent/) on the in-memory channel layer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from helpdesk.asgi import application
from helpdesk.consumers import (
    MAX_TICKET_SUBSCRIPTIONS,
    UNAUTHENTICATED_CLOSE_CODE,
    AgentEventsConsumer,
)
from helpdesk.events import ticket_group
from helpdesk.models import User
from tickets.models import Ticket
from tickets.services import change_status

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture(autouse=True)
def _in_memory_layer(settings: Any) -> None:
    # A fresh layer per test: the CI run with REDIS_URL must not reach Redis here, and groups
    # left by one test must not leak into the next.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def run(coroutine_function: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body from a sync test, so pytest-django's database fixtures apply."""
    async_to_sync(coroutine_function)()


def session_cookie(user: User) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def direct(user: Any) -> WebsocketCommunicator:
    """The consumer without the auth middleware, for a user the test chooses."""
    communicator = WebsocketCommunicator(AgentEventsConsumer.as_asgi(), "/ws/agent/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
def test_anonymous_visitor_is_refused() -> None:
    """Without a session the socket is closed before it is accepted."""

    async def body() -> None:
        communicator = WebsocketCommunicator(application, "/ws/agent/", headers=[ORIGIN])
        connected, code = await communicator.connect()
        assert (connected, code) == (False, UNAUTHENTICATED_CLOSE_CODE)

    run(body)


@pytest.mark.django_db(transaction=True)
def test_foreign_origin_is_refused(agent: User) -> None:
    """A page on another site cannot open a socket with the agent's cookie."""
    cookie = session_cookie(agent)

    async def body() -> None:
        communicator = WebsocketCommunicator(
            application, "/ws/agent/", headers=[(b"origin", b"https://evil.test"), cookie]
        )
        connected, _code = await communicator.connect()
        assert connected is False

    run(body)


@pytest.mark.django_db(transaction=True)
def test_deactivated_agent_is_refused(inactive_agent: User) -> None:
    async def body() -> None:
        connected, code = await direct(inactive_agent).connect()
        assert (connected, code) == (False, UNAUTHENTICATED_CLOSE_CODE)

    run(body)


@pytest.mark.django_db(transaction=True)
def test_signed_in_agent_receives_a_ticket_event_only_after_commit(
    agent: User, ticket: Ticket
) -> None:
    """The status change is pushed once its transaction commits, never before."""
    cookie = session_cookie(agent)

    async def body() -> None:
        communicator = WebsocketCommunicator(application, "/ws/agent/", headers=[ORIGIN, cookie])
        connected, _ = await communicator.connect()
        assert connected is True

        def solve_in_a_transaction() -> bool:
            with transaction.atomic():
                change_status(ticket, Ticket.Status.SOLVED, actor=agent)
                return async_to_sync(communicator.receive_nothing)(0.2)

        nothing_before_commit = await sync_to_async(solve_in_a_transaction)()

        assert nothing_before_commit is True
        assert await communicator.receive_json_from() == {
            "event": "ticket.updated",
            "data": {"ticket_id": ticket.pk, "fields": ["solved_at", "status"]},
        }
        assert await communicator.receive_nothing(0.1) is True
        await communicator.disconnect()

    run(body)


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_is_never_pushed(agent: User, ticket: Ticket) -> None:
    async def body() -> None:
        communicator = direct(agent)
        await communicator.connect()

        def solve_then_roll_back() -> None:
            with transaction.atomic():
                change_status(ticket, Ticket.Status.SOLVED, actor=agent)
                transaction.set_rollback(True)

        await sync_to_async(solve_then_roll_back)()

        assert await communicator.receive_nothing(0.2) is True
        await communicator.disconnect()

    run(body)


@pytest.mark.django_db(transaction=True)
def test_subscribe_and_unsubscribe_follow_one_ticket(agent: User) -> None:
    """A subscribed socket gets the ticket group's messages; after unsubscribe it does not."""

    async def body() -> None:
        layer = get_channel_layer()
        assert layer is not None
        push = {"type": "helpdesk.event", "event": "ticket.viewing", "data": {"ticket_id": 7}}
        communicator = direct(agent)
        await communicator.connect()

        await communicator.send_json_to({"subscribe": 7})
        assert await communicator.receive_json_from() == {"subscribed": 7}
        await layer.group_send(ticket_group(7), push)
        assert await communicator.receive_json_from() == {
            "event": "ticket.viewing",
            "data": {"ticket_id": 7},
        }

        await communicator.send_json_to({"unsubscribe": 7})
        assert await communicator.receive_json_from() == {"unsubscribed": 7}
        await layer.group_send(ticket_group(7), push)
        assert await communicator.receive_nothing(0.1) is True
        await communicator.disconnect()

    run(body)


@pytest.mark.django_db(transaction=True)
def test_subscriptions_are_capped(agent: User) -> None:
    async def body() -> None:
        communicator = direct(agent)
        await communicator.connect()
        for ticket_id in range(1, MAX_TICKET_SUBSCRIPTIONS + 1):
            await communicator.send_json_to({"subscribe": ticket_id})
            assert await communicator.receive_json_from() == {"subscribed": ticket_id}

        await communicator.send_json_to({"subscribe": MAX_TICKET_SUBSCRIPTIONS + 1})

        assert await communicator.receive_json_from() == {
            "error": f"At most {MAX_TICKET_SUBSCRIPTIONS} tickets at once."
        }
        # Subscribing again to a ticket already followed is not a new subscription.
        await communicator.send_json_to({"subscribe": 1})
        assert await communicator.receive_json_from() == {"subscribed": 1}
        await communicator.disconnect()

    run(body)


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("not json", "Send a JSON object."),
        ("[1, 2]", "Send a JSON object."),
        ('"subscribe"', "Send a JSON object."),
        ("{}", "Send exactly one of subscribe or unsubscribe."),
        ('{"follow": 3}', "Send exactly one of subscribe or unsubscribe."),
        ('{"subscribe": 3, "unsubscribe": 4}', "Send exactly one of subscribe or unsubscribe."),
        ('{"subscribe": 3, "extra": true}', "Send exactly one of subscribe or unsubscribe."),
        ('{"subscribe": "3"}', "subscribe takes a ticket id."),
        ('{"subscribe": 0}', "subscribe takes a ticket id."),
        ('{"subscribe": -2}', "subscribe takes a ticket id."),
        ('{"subscribe": true}', "subscribe takes a ticket id."),
        ('{"subscribe": 1.5}', "subscribe takes a ticket id."),
        ('{"unsubscribe": null}', "unsubscribe takes a ticket id."),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_bad_messages_get_an_error_and_the_socket_stays_open(
    agent: User, frame: str, error: str
) -> None:
    async def body() -> None:
        communicator = direct(agent)
        await communicator.connect()

        await communicator.send_to(text_data=frame)

        assert await communicator.receive_json_from() == {"error": error}
        await communicator.send_json_to({"subscribe": 9})
        assert await communicator.receive_json_from() == {"subscribed": 9}
        await communicator.disconnect()

    run(body)


@pytest.mark.django_db(transaction=True)
def test_binary_frames_get_an_error(agent: User) -> None:
    async def body() -> None:
        communicator = direct(agent)
        await communicator.connect()

        await communicator.send_to(bytes_data=b"\x00\x01")

        assert await communicator.receive_json_from() == {"error": "Send JSON text frames."}
        await communicator.disconnect()

    run(body)
