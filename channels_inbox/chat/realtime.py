"""What travels over the channel layer for the chat, and to whom.

Each visitor has a group (``visitor_group``) that all their open sockets join, so every tab
gets an agent's reply. The visitor's sockets also join the group of their current ticket
(``helpdesk.events.ticket_group``), the conversation-level channel that agents viewing the
ticket are in: who is typing goes there as a ``ticket.typing`` push, the same from either
side, and each side's consumer passes on only the other side's.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from channels_inbox.adapters.base import ChannelError

TYPING_EVENT = "ticket.typing"
# Channel-layer message types the visitor's consumer handles (``chat.message`` calls
# ``ChatVisitorConsumer.chat_message``).
CHAT_MESSAGE = "chat.message"


def visitor_group(visitor_id: str) -> str:
    return f"chat-visitor.{visitor_id}"


def typing_push(ticket_id: int, *, author: str, typing: bool, **who: Any) -> dict[str, Any]:
    """The ticket-group message saying someone started or stopped typing. ``author`` is
    ``agent`` (with ``agent_id`` and ``name``) or ``customer`` (with ``customer_id``)."""
    return {
        "type": "helpdesk.event",
        "event": TYPING_EVENT,
        "data": {"ticket_id": ticket_id, "author": author, "typing": typing, **who},
    }


def push_to_visitor(visitor_id: str, ticket_id: int, message: dict[str, Any]) -> None:
    """Hand an agent's message to the visitor's open sockets. Called from sync code (the
    delivery task); a layer that cannot take it is a transient ChannelError, so the pipeline
    tries again."""
    layer = get_channel_layer()
    if layer is None:
        raise ChannelError("No channel layer is configured for the chat.", permanent=True)
    try:
        async_to_sync(layer.group_send)(
            visitor_group(visitor_id),
            {"type": CHAT_MESSAGE, "ticket_id": ticket_id, "message": message},
        )
    except Exception as error:
        raise ChannelError(
            f"The chat could not reach the visitor: {error}", permanent=False
        ) from error
