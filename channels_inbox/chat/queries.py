"""Reads the chat shares: a visitor's conversation, their current ticket, where to reach
them, and a message as the widget shows it."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Prefetch, When
from django.urls import reverse

from channels_inbox.chat.models import ChatVisitor
from channels_inbox.chat.tokens import VISITOR_ID, sign_file_link
from channels_inbox.models import ChannelAccount
from customers.models import Customer, Identity
from helpdesk.channel_kinds import ChannelKind
from tickets.models import Attachment, Message, Ticket

# Enough to pick a conversation up again; the agents' inbox holds the rest.
HISTORY_LIMIT = 50
PICTURE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def visitor_customer_id(visitor_id: str) -> int | None:
    """The customer the visitor's chat identity belongs to; None before their first
    message (or their name or email) made one."""
    return (
        Identity.objects.filter(kind=ChannelKind.CHAT, address=visitor_id)
        .values_list("customer_id", flat=True)
        .first()
    )


def visitor_tickets(account: ChannelAccount, customer_id: int) -> Any:
    """The customer's conversations on this chat account (not those merged away)."""
    return Ticket.objects.filter(
        customer_id=customer_id, channel_account=account, merged_into__isnull=True
    )


def current_ticket_id(account: ChannelAccount, visitor_id: str) -> int | None:
    """The conversation the visitor's next message continues: their active ticket on the
    account, else their latest one (a message reopens it or starts its follow-up)."""
    customer_id = visitor_customer_id(visitor_id)
    if customer_id is None:
        return None
    return (
        visitor_tickets(account, customer_id)
        .order_by(Case(When(status__in=Ticket.ACTIVE_STATUSES, then=0), default=1), "-id")
        .values_list("pk", flat=True)
        .first()
    )


def conversation_history(
    account: ChannelAccount, visitor_id: str, *, limit: int = HISTORY_LIMIT
) -> list[Message]:
    """The latest ``limit`` messages the visitor and the agents exchanged on the account,
    oldest first: the customer's messages (also those that came by email once the chat went
    on by email) and the replies, never internal notes or bounces."""
    customer_id = visitor_customer_id(visitor_id)
    if customer_id is None:
        return []
    messages = (
        Message.objects.filter(
            ticket__in=visitor_tickets(account, customer_id).values("pk"),
            kind__in=[Message.Kind.CUSTOMER, Message.Kind.REPLY],
        )
        .exclude(direction=Message.Direction.INBOUND, is_automated=True)
        .select_related("author_agent")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("-created_at", "-id")[:limit]
    )
    return list(reversed(messages))


def message_payload(
    message: Message, *, account: ChannelAccount, visitor_id: str
) -> dict[str, Any]:
    """A message as the widget shows it. A visitor's own message keeps the id the widget gave
    it, so the widget recognises what it already shows; every other message is ``m<id>``."""
    from_visitor = message.direction == Message.Direction.INBOUND
    prefix = f"{visitor_id}:"
    if from_visitor and message.provider_message_id.startswith(prefix):
        message_id = message.provider_message_id[len(prefix) :]
    else:
        message_id = f"m{message.pk}"
    payload: dict[str, Any] = {
        "id": message_id,
        "author": "visitor" if from_visitor else "agent",
        "name": "" if from_visitor or message.author_agent is None else message.author_agent.name,
        "text": message.text,
        "sent_at": message.created_at.isoformat(),
        "attachments": [
            {
                "name": attachment.name,
                "type": attachment.content_type,
                "size": attachment.size,
                "picture": attachment.content_type in PICTURE_TYPES,
                "url": reverse(
                    "channels_inbox:chat_file",
                    args=[account.slug, sign_file_link(attachment.pk, visitor_id)],
                ),
            }
            for attachment in message.attachments.all()
        ],
    }
    if not from_visitor:
        payload["status"] = message.delivery_status
    return payload


def ticket_visitor_id(account: ChannelAccount, ticket_id: int) -> str | None:
    """The visitor who last wrote on the ticket through the chat: the one a reply is for,
    even when the customer has several chat identities (two devices, or a merge)."""
    latest = (
        Message.objects.filter(
            ticket_id=ticket_id,
            channel_account=account,
            direction=Message.Direction.INBOUND,
        )
        .exclude(provider_message_id="")
        .order_by("-created_at", "-id")
        .values_list("provider_message_id", flat=True)
        .first()
    )
    visitor_id = (latest or "").split(":", 1)[0]
    return visitor_id if VISITOR_ID.fullmatch(visitor_id) else None


def visitor_email(customer: Customer, visitor_id: str) -> str:
    """Where to continue by email: the customer's preferred address, else their newest
    email identity, else the address the visitor typed into the chat; "" when none."""
    if customer.email:
        return customer.email
    newest = (
        Identity.objects.filter(customer=customer, kind=ChannelKind.EMAIL)
        .order_by("-created_at", "-id")
        .values_list("address", flat=True)
        .first()
    )
    if newest:
        return newest
    claimed = ChatVisitor.objects.filter(visitor_id=visitor_id).values_list("email", flat=True)
    return claimed.first() or ""
