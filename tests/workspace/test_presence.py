"""Who else is viewing a ticket: presence pushed to the ticket's group on the agents'
socket when an agent opens it, says again that they are there, leaves it or goes away."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from helpdesk.consumers import PRESENCE_EVENT, AgentEventsConsumer
from helpdesk.models import User
from tests.helpdesk.test_consumers import run


@pytest.fixture(autouse=True)
def _in_memory_layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def socket_for(user: User) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(AgentEventsConsumer.as_asgi(), "/ws/agent/")
    communicator.scope["user"] = user
    return communicator


def presence(agent: User, *, viewing: bool, ticket_id: int = 7) -> dict[str, Any]:
    return {
        "event": PRESENCE_EVENT,
        "data": {
            "ticket_id": ticket_id,
            "agent_id": agent.pk,
            "name": agent.name,
            "viewing": viewing,
        },
    }


@pytest.mark.django_db(transaction=True)
def test_viewers_see_each_other_come_and_go(agent: User, teammate: User) -> None:
    async def body() -> None:
        bob, carol = socket_for(agent), socket_for(teammate)
        await bob.connect()
        await carol.connect()
        await bob.send_json_to({"subscribe": 7})
        assert await bob.receive_json_from() == {"subscribed": 7}
        # Nobody else was there: bob hears nothing, not even his own arrival.
        assert await bob.receive_nothing(0.1) is True

        await carol.send_json_to({"subscribe": 7})
        assert await carol.receive_json_from() == {"subscribed": 7}
        assert await bob.receive_json_from() == presence(teammate, viewing=True)
        # bob answers that he is there too, so carol learns of him at once.
        await bob.send_json_to({"viewing": 7})
        assert await carol.receive_json_from() == presence(agent, viewing=True)
        assert await bob.receive_nothing(0.1) is True

        await carol.send_json_to({"unsubscribe": 7})
        assert await carol.receive_json_from() == {"unsubscribed": 7}
        assert await bob.receive_json_from() == presence(teammate, viewing=False)

        await carol.send_json_to({"subscribe": 7})
        assert await carol.receive_json_from() == {"subscribed": 7}
        assert await bob.receive_json_from() == presence(teammate, viewing=True)
        await carol.disconnect()
        assert await bob.receive_json_from() == presence(teammate, viewing=False)
        await bob.disconnect()

    run(body)


@pytest.mark.django_db(transaction=True)
def test_viewing_a_ticket_not_subscribed_to_is_refused(agent: User, teammate: User) -> None:
    async def body() -> None:
        bob, carol = socket_for(agent), socket_for(teammate)
        await bob.connect()
        await carol.connect()
        await carol.send_json_to({"subscribe": 7})
        assert await carol.receive_json_from() == {"subscribed": 7}

        await bob.send_json_to({"viewing": 7})
        await bob.send_json_to({"viewing": "7"})

        assert await bob.receive_json_from() == {"error": "Subscribe to ticket 7 first."}
        assert await bob.receive_json_from() == {"error": "viewing takes a ticket id."}
        assert await carol.receive_nothing(0.1) is True
        await bob.disconnect()
        await carol.disconnect()

    run(body)
