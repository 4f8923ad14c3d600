"""The chat adapter's reading of stored visitor events, through the pipeline's task: what
the entry points store becomes a message; anything else fails for good, saying why."""

from __future__ import annotations

from typing import Any

import pytest

from channels_inbox.chat import tokens
from channels_inbox.chat.adapter import ChatAdapter
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.tasks import process_inbound_event_task
from tickets.models import Message

pytestmark = pytest.mark.django_db

VISITOR = tokens.new_visitor_id()


def processed(account: ChannelAccount, payload: bytes, **headers: str) -> InboundEvent:
    event = InboundEvent.objects.create(
        channel_account=account,
        external_id=f"{VISITOR}:event-{InboundEvent.objects.count() + 1:04d}",
        payload=payload,
        headers=headers,
    )
    process_inbound_event_task(event.pk)
    event.refresh_from_db()
    return event


def test_a_text_event_becomes_the_visitors_message(chat_account: ChannelAccount) -> None:
    event = processed(
        chat_account,
        '{"id": "event-0001", "text": "Grüße aus Wien"}'.encode(),
        **{"Chat-Kind": "message", "Chat-Visitor": VISITOR},
    )

    assert event.status == "processed"
    message = Message.objects.get()
    assert (message.text, message.provider_message_id) == ("Grüße aus Wien", event.external_id)
    assert message.author_customer is not None
    assert message.author_customer.identities.get().address == VISITOR


@pytest.mark.parametrize(
    ("payload", "headers", "error"),
    [
        (b'{"text": "hi"}', {"Chat-Kind": "message"}, "The chat event names no visitor."),
        (
            b'{"text": "hi"}',
            {"Chat-Kind": "message", "Chat-Visitor": "v-short"},
            "The chat event names no visitor.",
        ),
        (b'{"text": "hi"}', {"Chat-Kind": "poll", "Chat-Visitor": VISITOR}, "Unknown chat event"),
        (b"\xff not json", {"Chat-Kind": "message", "Chat-Visitor": VISITOR}, "is not JSON"),
        (b'{"text": "  "}', {"Chat-Kind": "message", "Chat-Visitor": VISITOR}, "has no text"),
        (b"[]", {"Chat-Kind": "message", "Chat-Visitor": VISITOR}, "has no text"),
    ],
)
def test_an_event_the_entry_points_never_store_fails_for_good(
    chat_account: ChannelAccount, payload: bytes, headers: dict[str, Any], error: str
) -> None:
    event = processed(chat_account, payload, **headers)

    assert event.status == "failed"
    assert error in event.error
    assert event.next_attempt_at is None  # permanent: no retry
    assert not Message.objects.exists()


def test_the_adapter_is_registered_for_chat() -> None:
    from channels_inbox.adapters import get_adapter

    assert isinstance(get_adapter("chat"), ChatAdapter)
