"""The visitor's socket against the real pipeline: a visitor and an agent, each on a real
WebSocket of the project's ASGI application."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core import mail

from channels_inbox.chat import tokens
from channels_inbox.chat.consumers import (
    BAD_TOKEN_CLOSE_CODE,
    MAX_FRAMES_PER_MINUTE,
    MAX_SOCKETS_PER_VISITOR,
    TOO_MANY_CLOSE_CODE,
)
from channels_inbox.chat.limits import MESSAGE_LIMIT
from channels_inbox.chat.presence import visitor_is_connected
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.tasks import deliver_message_task
from customers.models import Identity
from helpdesk.celery import app as celery_app
from helpdesk.events import ticket_group
from helpdesk.models import User
from tests.channels_inbox.chat.conftest import (
    EVIL,
    SHOP,
    agent_socket,
    new_token,
    receive_until,
    run,
    visitor_socket,
)
from tickets.models import Message, Ticket
from tickets.services import add_reply

pytestmark = pytest.mark.django_db(transaction=True)


def visitor_of(account: ChannelAccount, token: str) -> str:
    visitor_id = tokens.read_visitor_token(account.pk, token)
    assert visitor_id is not None
    return visitor_id


async def connected(token: str, origin: str | None = SHOP) -> Any:
    """A visitor socket past its opening history, which it returns with the socket."""
    socket = visitor_socket(token, origin)
    ok, code = await socket.connect()
    assert ok, code
    history = await socket.receive_json_from()
    assert history["type"] == "history"
    return socket, history


async def say(socket: Any, message_id: str, text: str) -> dict[str, Any]:
    await socket.send_json_to({"type": "message", "id": message_id, "text": text})
    return await socket.receive_json_from(timeout=5)


def reply(ticket_id: int, agent: User, text: str) -> Message:
    return add_reply(Ticket.objects.get(pk=ticket_id), author=agent, text=text)


# --- Who may connect ----------------------------------------------------------------------


@pytest.mark.parametrize("origin", [EVIL, "null", None, "https://shop.example:8443"])
def test_a_foreign_or_missing_origin_is_refused_at_the_handshake(
    chat_account: ChannelAccount, origin: str | None
) -> None:
    token = new_token()

    async def body() -> None:
        socket = visitor_socket(token, origin)
        ok, _ = await socket.connect()
        assert ok is False

    run(body)
    assert not visitor_is_connected(visitor_of(chat_account, token))


def test_tampered_expired_or_missing_tokens_close_with_4401(chat_account: ChannelAccount) -> None:
    good = new_token()
    issued_long_ago = time.time() - tokens.VISITOR_TOKEN_MAX_AGE.total_seconds() - 5
    with mock.patch("django.core.signing.time.time", return_value=issued_long_ago):
        expired = tokens.issue_visitor_token(chat_account.pk, tokens.new_visitor_id())
    value, _, signature = good.rpartition(":")
    tampered = f"{value}:{signature[::-1]}"

    async def body() -> None:
        for token in [tampered, expired, ""]:
            ok, code = await visitor_socket(token).connect()
            assert (ok, code) == (False, BAD_TOKEN_CLOSE_CODE), token
        ok, _ = await visitor_socket(good).connect()
        assert ok is True

    run(body)


def test_an_unknown_or_inactive_account_is_refused(chat_account: ChannelAccount) -> None:
    token = new_token()
    ChannelAccount.objects.filter(pk=chat_account.pk).update(is_active=False)

    async def body() -> None:
        ok, _ = await visitor_socket(token).connect()
        assert ok is False
        ok, _ = await visitor_socket(token, slug="no-such-chat").connect()
        assert ok is False

    run(body)


def test_one_visitor_opens_at_most_ten_sockets(chat_account: ChannelAccount) -> None:
    token = new_token()

    async def body() -> None:
        tabs = [(await connected(token))[0] for _ in range(MAX_SOCKETS_PER_VISITOR)]
        ok, code = await visitor_socket(token).connect()
        assert (ok, code) == (False, TOO_MANY_CLOSE_CODE)
        await tabs.pop().disconnect()
        another, _ = await connected(token)
        for tab in [*tabs, another]:
            await tab.disconnect()

    run(body)


def test_a_socket_flooding_frames_is_closed(chat_account: ChannelAccount) -> None:
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        for _ in range(MAX_FRAMES_PER_MINUTE):
            await visitor.send_json_to({"type": "ping"})
            assert (await visitor.receive_json_from())["type"] == "pong"
        await visitor.send_json_to({"type": "ping"})
        assert await visitor.receive_output() == {"type": "websocket.close", "code": 4429}

    run(body)


# --- Messages -----------------------------------------------------------------------------


def test_a_message_is_acknowledged_and_opens_a_ticket_the_agents_see(
    chat_account: ChannelAccount, online_agent: User
) -> None:
    token = new_token(name="Lena")
    visitor_id = visitor_of(chat_account, token)

    async def body() -> None:
        agent = await agent_socket(online_agent)
        visitor, history = await connected(token)
        assert history == {"type": "history", "messages": [], "agents_online": True}

        ack = await say(visitor, "msg-0001-lena", "Hi, where is my order 1042?")

        assert ack == {"type": "ack", "id": "msg-0001-lena"}
        created = await receive_until(agent, lambda frame: frame["event"] == "message.created")
        message = await database_sync_to_async(Message.objects.get)()
        assert created["data"] == {
            "ticket_id": message.ticket_id,
            "message_id": message.pk,
            "kind": "customer",
        }
        await visitor.disconnect()
        await agent.disconnect()

    run(body)
    message = Message.objects.select_related("ticket", "author_customer").get()
    assert message.text == "Hi, where is my order 1042?"
    assert message.provider_message_id == f"{visitor_id}:msg-0001-lena"
    assert (message.ticket.channel, message.ticket.channel_account) == ("chat", chat_account)
    assert message.ticket.subject == "Hi, where is my order 1042?"
    assert message.author_customer is not None
    assert message.author_customer.name == "Lena"
    identity = Identity.objects.get(kind="chat")
    assert (identity.address, identity.customer) == (visitor_id, message.author_customer)


def test_a_message_sent_again_is_stored_once(chat_account: ChannelAccount) -> None:
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        assert await say(visitor, "resent-0001", "Hello?") == {"type": "ack", "id": "resent-0001"}
        assert await say(visitor, "resent-0001", "Hello?") == {"type": "ack", "id": "resent-0001"}
        await visitor.disconnect()

    run(body)
    assert InboundEvent.objects.count() == 1
    assert Message.objects.count() == 1


def test_the_second_message_continues_the_conversation(chat_account: ChannelAccount) -> None:
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        await say(visitor, "first-00001", "Hello")
        await say(visitor, "second-0001", "Are you there?")
        await visitor.disconnect()

    run(body)
    assert Ticket.objects.count() == 1
    assert list(Message.objects.values_list("text", "threading_reason")) == [
        ("Hello", "new_conversation"),
        ("Are you there?", "active_conversation"),
    ]


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("not json", {"code": "bad_frame", "message": "Send a JSON object."}),
        ("[1, 2]", {"code": "bad_frame", "message": "Unknown message type."}),
        ('{"type": "shout"}', {"code": "bad_frame", "message": "Unknown message type."}),
        (
            '{"type": "message", "text": "hi"}',
            {
                "code": "bad_message",
                "message": "A message needs an id of 8 to 64 letters, digits, - or _.",
            },
        ),
        (
            '{"type": "message", "id": "../../etc", "text": "hi"}',
            {
                "code": "bad_message",
                "message": "A message needs an id of 8 to 64 letters, digits, - or _.",
            },
        ),
        (
            '{"type": "message", "id": "empty-0001", "text": "   "}',
            {"code": "bad_message", "message": "The message is empty.", "id": "empty-0001"},
        ),
        (
            '{"type": "message", "id": "long-00001", "text": "' + "x" * 5001 + '"}',
            {
                "code": "bad_message",
                "message": "Messages are at most 5000 characters.",
                "id": "long-00001",
            },
        ),
        (
            '{"type": "read", "ids": "m1"}',
            {"code": "bad_receipt", "message": "Send at most 100 message ids."},
        ),
        (
            '{"type": "message", "id": "huge-00001", "text": "' + "x" * 20_001 + '"}',
            {
                "code": "bad_frame",
                "message": "Send JSON text frames of at most 20,000 characters.",
            },
        ),
    ],
)
def test_a_frame_that_cannot_be_taken_gets_an_error_and_the_socket_stays_open(
    chat_account: ChannelAccount, frame: str, error: dict[str, str]
) -> None:
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        await visitor.send_to(text_data=frame)
        assert await visitor.receive_json_from() == {"type": "error", **error}
        # Still open, and still taking messages.
        assert await say(visitor, "after-0001", "Still here") == {"type": "ack", "id": "after-0001"}
        await visitor.disconnect()

    run(body)
    assert list(Message.objects.values_list("text", flat=True)) == ["Still here"]


def test_messages_over_the_rate_limit_are_refused_and_not_stored(
    chat_account: ChannelAccount,
) -> None:
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        for number in range(MESSAGE_LIMIT.amount):
            ack = await say(visitor, f"flood-{number:04d}", f"message {number}")
            assert ack["type"] == "ack"
        refused = await say(visitor, "flood-over", "one too many")
        assert refused == {
            "type": "error",
            "code": "rate_limited",
            "message": "You are sending messages too fast; wait a moment.",
            "id": "flood-over",
        }
        await visitor.disconnect()

    run(body)
    assert InboundEvent.objects.count() == MESSAGE_LIMIT.amount
    assert not Message.objects.filter(text="one too many").exists()


# --- Replies, receipts and history ----------------------------------------------------------


def test_reply_reaches_the_open_chat_is_delivered_read_and_in_the_history_after_reconnect(
    chat_account: ChannelAccount, online_agent: User
) -> None:
    token = new_token()
    visitor_id = visitor_of(chat_account, token)

    async def body() -> None:
        visitor, _ = await connected(token)
        await say(visitor, "ask-000001", "Do you ship to Austria?")
        ticket_id = await database_sync_to_async(lambda: Message.objects.get().ticket_id)()

        sent = await database_sync_to_async(reply)(ticket_id, online_agent, "Yes, in 3 days.")

        pushed = await visitor.receive_json_from(timeout=5)
        assert pushed["type"] == "message"
        assert pushed["message"] | {"sent_at": "…"} == {
            "id": f"m{sent.pk}",
            "author": "agent",
            "name": "Bob Agent",
            "text": "Yes, in 3 days.",
            "sent_at": "…",
            "attachments": [],
            "status": "queued",
        }
        await visitor.send_json_to({"type": "received", "ids": [f"m{sent.pk}"]})
        await _until_status(sent.pk, "delivered")
        await visitor.send_json_to({"type": "read", "ids": [f"m{sent.pk}"]})
        await _until_status(sent.pk, "read")
        await visitor.disconnect()

        # A reload: a new socket with the same token gets the conversation back.
        again, history = await connected(token)
        assert [
            (item["id"], item["author"], item["text"], item.get("status"))
            for item in history["messages"]
        ] == [
            ("ask-000001", "visitor", "Do you ship to Austria?", None),
            (f"m{sent.pk}", "agent", "Yes, in 3 days.", "read"),
        ]
        await again.disconnect()

    run(body)
    sent = Message.objects.get(direction="outbound")
    assert sent.provider_message_id == f"chat:{sent.pk}"
    assert mail.outbox == []  # the open chat took it; no email
    assert not visitor_is_connected(visitor_id)


async def _until_status(message_id: int, status: str) -> None:
    """The receipt is recorded by the consumer after the frame; wait for it briefly."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        current = await database_sync_to_async(
            lambda: Message.objects.values_list("delivery_status", flat=True).get(pk=message_id)
        )()
        if current == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"message {message_id} is {current!r}, not {status!r}")


def test_a_receipt_that_arrives_before_the_send_is_recorded_still_counts(
    chat_account: ChannelAccount, online_agent: User
) -> None:
    """The widget can acknowledge a reply before the delivery task has marked it sent (the
    push comes first); the receipt waits for the send instead of being lost."""
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        await say(visitor, "early-0001", "Hello")
        ticket_id = await database_sync_to_async(lambda: Message.objects.get().ticket_id)()
        # No worker takes the queued reply yet.
        celery_app.conf.task_always_eager = False
        try:
            queued = await database_sync_to_async(reply)(ticket_id, online_agent, "Hi there")
        finally:
            celery_app.conf.task_always_eager = True
        assert queued.delivery_status == "queued"

        await visitor.send_json_to({"type": "received", "ids": [f"m{queued.pk}"]})
        await asyncio.sleep(0.1)
        assert await database_sync_to_async(deliver_message_task)(queued.pk) == "sent"

        await _until_status(queued.pk, "delivered")
        await visitor.disconnect()

    run(body)


def test_every_open_tab_of_the_visitor_gets_the_reply(
    chat_account: ChannelAccount, online_agent: User
) -> None:
    token = new_token()

    async def body() -> None:
        first, _ = await connected(token)
        second, _ = await connected(token)
        await say(first, "tab-000001", "Hello from tab one")
        ticket_id = await database_sync_to_async(lambda: Message.objects.get().ticket_id)()

        await database_sync_to_async(reply)(ticket_id, online_agent, "Hello to both tabs")

        for tab in (first, second):
            pushed = await tab.receive_json_from(timeout=5)
            assert pushed["message"]["text"] == "Hello to both tabs"
        await first.disconnect()
        await second.disconnect()

    run(body)


def test_receipts_for_someone_elses_replies_change_nothing(
    chat_account: ChannelAccount, online_agent: User
) -> None:
    lena, mo = new_token(), new_token()

    async def body() -> None:
        lena_socket, _ = await connected(lena)
        await say(lena_socket, "lena-00001", "Lena here")
        ticket_id = await database_sync_to_async(lambda: Message.objects.get().ticket_id)()
        sent = await database_sync_to_async(reply)(ticket_id, online_agent, "Hi Lena")
        await lena_socket.receive_json_from(timeout=5)
        mo_socket, _ = await connected(mo)

        await mo_socket.send_json_to({"type": "read", "ids": [f"m{sent.pk}", "m999999", "x"]})
        await mo_socket.send_json_to({"type": "ping"})
        assert (await mo_socket.receive_json_from())["type"] == "pong"

        assert (
            await database_sync_to_async(lambda: Message.objects.get(pk=sent.pk).delivery_status)()
            == "sent"
        )
        await lena_socket.disconnect()
        await mo_socket.disconnect()

    run(body)


def test_ping_keeps_the_visitor_present_and_says_who_is_online(
    chat_account: ChannelAccount, online_agent: User
) -> None:
    token = new_token()
    visitor_id = visitor_of(chat_account, token)

    async def body() -> None:
        visitor, _ = await connected(token)
        assert await database_sync_to_async(visitor_is_connected)(visitor_id) is True
        await visitor.send_json_to({"type": "ping"})
        assert await visitor.receive_json_from() == {"type": "pong", "agents_online": True}
        await visitor.disconnect()
        assert await database_sync_to_async(visitor_is_connected)(visitor_id) is False

    run(body)


# --- Typing -------------------------------------------------------------------------------


def test_typing_goes_both_ways_through_the_ticket_group(
    chat_account: ChannelAccount, online_agent: User, teammate: User
) -> None:
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        await say(visitor, "typing-0001", "Quick question")
        ticket_id, customer_id = await database_sync_to_async(
            lambda: Ticket.objects.values_list("pk", "customer_id").get()
        )()
        bob, carol = await agent_socket(online_agent), await agent_socket(teammate)
        for agent in (bob, carol):
            await agent.send_json_to({"subscribe": ticket_id})
            assert await receive_until(agent, lambda frame: "subscribed" in frame) == {
                "subscribed": ticket_id
            }

        # The visitor types: both agents viewing the ticket see it.
        await visitor.send_json_to({"type": "typing", "typing": True})
        for agent in (bob, carol):
            typing = await receive_until(agent, lambda frame: frame.get("event") == "ticket.typing")
            assert typing["data"] == {
                "ticket_id": ticket_id,
                "author": "customer",
                "typing": True,
                "customer_id": customer_id,
            }

        # bob types: the visitor sees his name, carol sees him too, bob hears no echo.
        await bob.send_json_to({"typing": ticket_id})
        assert await visitor.receive_json_from() == {
            "type": "typing",
            "name": "Bob Agent",
            "typing": True,
        }
        carol_sees = await receive_until(carol, lambda frame: frame.get("event") == "ticket.typing")
        assert carol_sees["data"] == {
            "ticket_id": ticket_id,
            "author": "agent",
            "typing": True,
            "agent_id": online_agent.pk,
            "name": "Bob Agent",
        }
        await bob.send_json_to({"stopped_typing": ticket_id})
        assert await visitor.receive_json_from() == {
            "type": "typing",
            "name": "Bob Agent",
            "typing": False,
        }
        assert await bob.receive_nothing(0.2) is True
        # The visitor does not hear their own typing back.
        assert await visitor.receive_nothing(0.1) is True
        for socket in (visitor, bob, carol):
            await socket.disconnect()

    run(body)


def test_events_pushed_together_reach_the_visitor_as_if_pushed_alone(
    chat_account: ChannelAccount, online_agent: User
) -> None:
    """A burst arrives as one helpdesk.events message (helpdesk.events._BackgroundLoop):
    the visitor still hears each agent typing, in order, and nothing else."""
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        await say(visitor, "together-0001", "Hello")
        ticket_id = await database_sync_to_async(lambda: Ticket.objects.get().pk)()

        def typing(typing: bool) -> dict[str, Any]:
            data = {"ticket_id": ticket_id, "author": "agent", "typing": typing, "name": "Bob"}
            return {"type": "helpdesk.event", "event": "ticket.typing", "data": data}

        other = {"type": "helpdesk.event", "event": "ticket.updated", "data": {"ticket_id": 1}}
        await get_channel_layer().group_send(
            ticket_group(ticket_id),
            {"type": "helpdesk.events", "events": [typing(True), other, typing(False)]},
        )

        assert await visitor.receive_json_from() == {
            "type": "typing",
            "name": "Bob",
            "typing": True,
        }
        assert await visitor.receive_json_from() == {
            "type": "typing",
            "name": "Bob",
            "typing": False,
        }
        assert await visitor.receive_nothing(0.1) is True
        await visitor.disconnect()

    run(body)


def test_an_agent_types_only_on_a_ticket_they_view(
    chat_account: ChannelAccount, online_agent: User
) -> None:
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        await say(visitor, "typing-0002", "Hello")
        ticket_id = await database_sync_to_async(lambda: Ticket.objects.get().pk)()
        bob = await agent_socket(online_agent)

        await bob.send_json_to({"typing": ticket_id})

        error = await receive_until(bob, lambda frame: "error" in frame)
        assert error == {"error": f"Subscribe to ticket {ticket_id} before typing on it."}
        assert await visitor.receive_nothing(0.2) is True
        await visitor.disconnect()
        await bob.disconnect()

    run(body)


def test_typing_repeats_are_thinned_out(chat_account: ChannelAccount, online_agent: User) -> None:
    """A widget that sends "typing" on every key press reaches the agents once a second."""
    token = new_token()

    async def body() -> None:
        visitor, _ = await connected(token)
        await say(visitor, "typing-0003", "Hello")
        ticket_id = await database_sync_to_async(lambda: Ticket.objects.get().pk)()
        bob = await agent_socket(online_agent)
        await bob.send_json_to({"subscribe": ticket_id})
        await receive_until(bob, lambda frame: "subscribed" in frame)

        for _ in range(5):
            await visitor.send_json_to({"type": "typing", "typing": True})
        await visitor.send_json_to({"type": "typing", "typing": False})

        first = await receive_until(bob, lambda frame: frame.get("event") == "ticket.typing")
        second = await receive_until(bob, lambda frame: frame.get("event") == "ticket.typing")
        assert (first["data"]["typing"], second["data"]["typing"]) == (True, False)
        assert await bob.receive_nothing(0.2) is True
        await visitor.disconnect()
        await bob.disconnect()

    run(body)
