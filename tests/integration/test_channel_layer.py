"""The Redis channel layer carries one event to every connected agent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction

from helpdesk.consumers import AgentEventsConsumer
from helpdesk.events import TicketUpdated, delivered_together, emit
from helpdesk.models import User
from tests.integration.conftest import needs_redis
from tickets.models import Ticket
from tickets.services import change_status

pytestmark = [pytest.mark.integration, needs_redis]


def agent_socket(user: User) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(AgentEventsConsumer.as_asgi(), "/ws/agent/")
    communicator.scope["user"] = user
    return communicator


async def _events_of(
    socket: WebsocketCommunicator, ticket_id: int, *, seconds: float
) -> list[dict[str, Any]]:
    """Every push about ``ticket_id`` that arrives within ``seconds``. (A receive that times
    out would cancel the consumer, so it polls with ``receive_nothing`` and reads only what
    is there.)"""
    found: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await socket.receive_nothing(timeout=0.1):
            continue
        event = await socket.receive_json_from()
        if isinstance(event.get("data"), dict) and event["data"].get("ticket_id") == ticket_id:
            found.append(event)
    return found


def test_settings_select_the_redis_channel_layer() -> None:
    layer = get_channel_layer()

    assert type(layer).__module__ == "channels_redis.core"
    assert type(layer).__name__ == "RedisChannelLayer"


@pytest.mark.django_db(transaction=True)
def test_two_agents_receive_one_ticket_event_through_redis(
    agent: User, teammate: User, ticket: Ticket
) -> None:
    async def body() -> None:
        sockets = [agent_socket(agent), agent_socket(teammate)]
        for socket in sockets:
            connected, _ = await socket.connect()
            assert connected is True

        await sync_to_async(change_status)(ticket, Ticket.Status.PENDING, actor=agent)

        expected = {
            "event": "ticket.updated",
            "data": {"ticket_id": ticket.pk, "fields": ["status"]},
        }
        for socket in sockets:
            # The agents' group is the whole desk's: other test processes sharing this Redis,
            # and the real worker's automation, push events of their own tickets meanwhile.
            # This ticket's status change must arrive exactly once.
            received = await _events_of(socket, ticket.pk, seconds=3)
            assert received.count(expected) == 1, received
            await socket.disconnect()

    async_to_sync(body)()


def test_group_send_reaches_two_channels_and_not_a_third() -> None:
    layer = get_channel_layer()
    assert layer is not None
    message = {"type": "helpdesk.event", "event": "ticket.updated", "data": {"ticket_id": 1}}

    async def body() -> list[dict[str, object]]:
        members = [await layer.new_channel(), await layer.new_channel()]
        outsider = await layer.new_channel()
        for channel in members:
            await layer.group_add("integration-group", channel)
        await layer.group_send("integration-group", message)
        received = [await layer.receive(channel) for channel in members]
        for channel in members:
            await layer.group_discard("integration-group", channel)
        await layer.group_add("integration-other", outsider)
        await layer.group_send("integration-other", {**message, "event": "other"})
        received.append(await layer.receive(outsider))
        await layer.group_discard("integration-other", outsider)
        return received

    assert async_to_sync(body)() == [message, message, {**message, "event": "other"}]


@pytest.mark.django_db(transaction=True)
def test_a_burst_committed_at_once_reaches_the_agent_whole_and_in_order(
    agent: User, ticket: Ticket
) -> None:
    """One commit of an inbound batch pushes a hundred and fifty events, more than a
    socket's channel holds (100 messages), while automation waits for the batch's end (as
    in the batch task): sent together, every one arrives, a frame each, in order."""
    fields = [f"field-{number}" for number in range(150)]

    def commit_burst() -> None:
        with delivered_together(), transaction.atomic():
            for name in fields:
                emit(TicketUpdated(ticket_id=ticket.pk, fields=(name,)))

    async def body() -> None:
        socket = agent_socket(agent)
        connected, _ = await socket.connect()
        assert connected is True
        await sync_to_async(commit_burst)()
        received = await _events_of(socket, ticket.pk, seconds=3)
        burst = [
            event["data"]["fields"][0]
            for event in received
            if event["event"] == "ticket.updated" and event["data"]["fields"][0] in fields
        ]
        assert burst == fields
        await socket.disconnect()

    async_to_sync(body)()
