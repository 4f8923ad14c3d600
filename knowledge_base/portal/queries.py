"""What a signed-in customer may read in the portal: their own tickets (including those of
customer records merged into theirs), the public part of each conversation, their orders.

The boundary is here and nowhere else: every portal view fetches through these functions,
so another customer's ticket is simply not found (404), internal notes and system messages
are never loaded, and agents appear by display name only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from customers.models import Customer, Order
from tickets.models import Message, Ticket

# Tickets listed per page; a customer with more sees the newest.
TICKETS_SHOWN = 100
ORDERS_SHOWN = 50


def customer_ids(customer: Customer) -> list[int]:
    """The customer and every record merged into it, at any depth."""
    ids = [customer.pk]
    frontier = [customer.pk]
    while frontier:
        frontier = [
            pk
            for pk in Customer.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)
            if pk not in ids
        ]
        ids += frontier
    return ids


def customer_tickets(customer: Customer) -> QuerySet[Ticket]:
    return Ticket.objects.filter(
        customer_id__in=customer_ids(customer), merged_into__isnull=True
    ).order_by("-last_message_at", "-id")


def customer_ticket(customer: Customer, number: int) -> Ticket | None:
    """The customer's ticket by number; a ticket merged into another leads to that one when
    it is theirs too. None for anyone else's."""
    owned = Ticket.objects.filter(customer_id__in=customer_ids(customer)).select_related("team")
    ticket = owned.filter(number=number).first()
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id is not None and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = owned.filter(pk=ticket.merged_into_id).first()
    return ticket


@dataclass(frozen=True)
class PublicMessage:
    from_customer: bool
    author: str  # the customer's own name, or the agent's display name, or the team
    text: str
    sent_at: datetime


def _agent_name(message: Message, team_name: str) -> str:
    agent = message.author_agent
    if agent is None:
        return team_name
    # Never the username or the address: a display name or a first name, else the team.
    return agent.display_name or agent.first_name or team_name


def public_messages(ticket: Ticket, *, team_name: str) -> list[PublicMessage]:
    """The conversation as the customer saw it: their messages and the replies sent to
    them, oldest first. Internal notes, system lines, bounces and replies that failed are
    left out."""
    messages = (
        Message.objects.filter(ticket=ticket)
        .filter(
            kind__in=(Message.Kind.CUSTOMER, Message.Kind.REPLY),
            direction__in=(Message.Direction.INBOUND, Message.Direction.OUTBOUND),
        )
        .exclude(direction=Message.Direction.INBOUND, is_automated=True)
        .exclude(delivery_status=Message.DeliveryStatus.FAILED)
        .select_related("author_agent")
        .order_by("created_at", "id")
    )
    return [
        PublicMessage(
            from_customer=message.direction == Message.Direction.INBOUND,
            author="You"
            if message.direction == Message.Direction.INBOUND
            else _agent_name(message, team_name),
            text=message.text,
            sent_at=message.created_at,
        )
        for message in messages
    ]


@dataclass(frozen=True)
class Parcel:
    carrier: str
    number: str
    url: str  # empty unless an http(s) address: a store's payload is not trusted


def parcels(order: Order) -> list[Parcel]:
    shown = []
    for item in order.tracking if isinstance(order.tracking, list) else []:
        if not isinstance(item, dict):
            continue
        url = str(item.get("url") or "")
        shown.append(
            Parcel(
                carrier=str(item.get("carrier") or ""),
                number=str(item.get("number") or ""),
                url=url if url.startswith(("https://", "http://")) else "",
            )
        )
    return shown


@dataclass(frozen=True)
class PortalOrder:
    order: Order
    parcels: list[Parcel]


def customer_orders(customer: Customer, *, limit: int = ORDERS_SHOWN) -> list[PortalOrder]:
    orders = (
        Order.objects.filter(customer_id__in=customer_ids(customer))
        .prefetch_related(Prefetch("lines"))
        .order_by("-placed_at", "-id")[:limit]
    )
    return [PortalOrder(order=order, parcels=parcels(order)) for order in orders]
