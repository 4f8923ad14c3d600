"""The live chat channel: the widget on the shop's own site, over a WebSocket.

Reading (``parse``) takes one stored visitor message (``channels_inbox.chat.services``
stored it from the visitor's socket or the upload endpoint): a text message or one file.
The sender's address is the visitor id (a ``chat`` identity); the name is the one the
visitor gave, if any. The provider id is ``<visitor id>:<the widget's message id>``, which
is also the event's key, so a message the widget sends twice is stored and threaded once.
Chat messages never start a conversation by themselves: the visitor's active conversation
on the account continues (``starts_conversation=False``).

Sending (``send``) goes one of two ways:

- The visitor has the chat open (``presence.visitor_is_connected``): the reply is pushed to
  their sockets through the channel layer and is ``sent``. The widget acknowledges it
  (``delivered``) and says when the visitor has seen it (``read``).
- The visitor has left: the conversation continues by email, through the email account the
  chat account names in its ``fallback_email_account`` option, to the visitor's address
  (``queries.visitor_email``). The email carries the ticket's signed reply address, so the
  visitor's answer lands on the same ticket. Without an address, or without a fallback
  account, the reply fails for good and says why; it still waits in the chat's history
  for the visitor's return.

The visitor a reply is for is the one who last wrote on the ticket through the chat, not
the newest chat identity of the customer, which may be another device.

Options: ``allowed_origins`` (the sites that may embed the widget), ``brand_color``,
``title``, ``welcome_text``, ``fallback_email_account``. Chat accounts take no credentials.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar

from channels_inbox.adapters import get_adapter
from channels_inbox.adapters.base import (
    ChannelAdapter,
    ChannelError,
    OutboundMessage,
    ParseResult,
    SendCheck,
    SendResult,
    payload_bytes,
)
from channels_inbox.chat import services
from channels_inbox.chat.models import ChatVisitor
from channels_inbox.chat.presence import visitor_is_connected
from channels_inbox.chat.queries import message_payload, ticket_visitor_id, visitor_email
from channels_inbox.chat.realtime import push_to_visitor
from channels_inbox.chat.tokens import VISITOR_ID
from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.channel_kinds import ChannelKind
from tickets.models import Message, Ticket
from tickets.services import InboundAttachment, InboundMessage


def provider_message_id(message_id: int) -> str:
    return f"chat:{message_id}"


class ChatAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.CHAT

    # --- Reading -------------------------------------------------------------------------

    def parse(self, account: ChannelAccount, event: InboundEvent) -> ParseResult:
        headers = event.headers if isinstance(event.headers, dict) else {}
        visitor_id = str(headers.get(services.VISITOR_HEADER, ""))
        if not VISITOR_ID.fullmatch(visitor_id):
            raise ChannelError("The chat event names no visitor.", permanent=True)
        kind = headers.get(services.KIND_HEADER)
        text = ""
        attachments: tuple[InboundAttachment, ...] = ()
        if kind == "message":
            text = _message_text(payload_bytes(event))
        elif kind == "file":
            attachments = (
                InboundAttachment(
                    name=str(headers.get(services.FILE_NAME_HEADER) or "file"),
                    content_type=str(headers.get(services.CONTENT_TYPE_HEADER) or ""),
                    content=payload_bytes(event),
                ),
            )
        else:
            raise ChannelError(f"Unknown chat event kind {kind!r}.", permanent=True)
        name = (
            ChatVisitor.objects.filter(visitor_id=visitor_id).values_list("name", flat=True).first()
        )
        return ParseResult(
            messages=(
                InboundMessage(
                    channel=ChannelKind.CHAT,
                    sender_address=visitor_id,
                    sender_name=name or "",
                    text=text,
                    attachments=attachments,
                    provider_message_id=event.external_id,
                    starts_conversation=False,
                    received_at=event.received_at,
                ),
            )
        )

    # --- Sending -------------------------------------------------------------------------

    def can_send(self, account: ChannelAccount, ticket: Ticket) -> SendCheck:
        """Always allowed; the reason says whether the visitor sees the reply in the chat
        or gets it by email (a presence lookup in the cache, no provider call)."""
        visitor_id = ticket_visitor_id(account, ticket.pk)
        if visitor_id and visitor_is_connected(visitor_id):
            return SendCheck(allowed=True, reason="The visitor has the chat open.")
        return SendCheck(allowed=True, reason="Visitor offline: the reply goes by email.")

    def send(self, account: ChannelAccount, outbound: OutboundMessage) -> SendResult:
        visitor_id = ticket_visitor_id(account, outbound.ticket_id) or outbound.to_address
        if not VISITOR_ID.fullmatch(visitor_id):
            raise ChannelError("The ticket has no chat visitor to answer.", permanent=True)
        if visitor_is_connected(visitor_id):
            message = (
                Message.objects.select_related("author_agent")
                .prefetch_related("attachments")
                .get(pk=outbound.message_id)
            )
            push_to_visitor(
                visitor_id,
                outbound.ticket_id,
                message_payload(message, account=account, visitor_id=visitor_id),
            )
            return SendResult(provider_message_id=provider_message_id(outbound.message_id))
        return self._send_by_email(account, outbound, visitor_id)

    def _send_by_email(
        self, account: ChannelAccount, outbound: OutboundMessage, visitor_id: str
    ) -> SendResult:
        customer = Ticket.objects.select_related("customer").get(pk=outbound.ticket_id).customer
        address = visitor_email(customer, visitor_id)
        if not address:
            raise ChannelError(
                "The visitor has left the chat and gave no email address, so the reply cannot "
                "reach them now; they will see it if they come back to the chat.",
                permanent=True,
            )
        slug = account.option("fallback_email_account")
        if not isinstance(slug, str) or not slug:
            raise ChannelError(
                "The visitor has left the chat. To continue by email, set the chat account's "
                "fallback_email_account option to an email account.",
                permanent=True,
            )
        email_account = ChannelAccount.objects.filter(
            slug=slug, kind=ChannelKind.EMAIL, is_active=True
        ).first()
        if email_account is None:
            raise ChannelError(
                f"The visitor has left the chat, and the fallback email account {slug!r} is "
                "not an active email account.",
                permanent=True,
            )
        by_email = dataclasses.replace(outbound, to_address=address, to_name=customer.name)
        return get_adapter(ChannelKind.EMAIL).send(email_account, by_email)


def _message_text(raw: bytes) -> str:
    try:
        data: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ChannelError(f"The chat message is not JSON: {error}", permanent=True) from None
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ChannelError("The chat message has no text.", permanent=True)
    return text
