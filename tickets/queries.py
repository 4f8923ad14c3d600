"""Reads that several screens share: the inbox list, the ticket page and the REST API.

Each queryset loads what its screen shows in a fixed number of queries, whatever the number
of rows: foreign keys are joined, many-to-many relations and child rows are prefetched.
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When

from customers.models import Order
from tickets.models import Message, Ticket, TicketActivity

# Priorities sort by urgency, not by name ("high" < "low" alphabetically).
PRIORITY_RANK = Case(
    When(priority=Ticket.Priority.LOW, then=Value(0)),
    When(priority=Ticket.Priority.NORMAL, then=Value(1)),
    When(priority=Ticket.Priority.HIGH, then=Value(2)),
    When(priority=Ticket.Priority.URGENT, then=Value(3)),
    default=Value(1),
    output_field=IntegerField(),
)


def ticket_list_queryset() -> QuerySet[Ticket]:
    """Tickets with everything a list row or the ticket page shows: three queries in all
    (tickets with their customer, assignee, team and channel account; tags; orders)."""
    return Ticket.objects.select_related(
        "customer", "assignee", "team", "channel_account"
    ).prefetch_related(
        "tags",
        Prefetch(
            "orders",
            queryset=Order.objects.only(
                "id", "number", "placed_at", "financial_status", "fulfillment_status"
            ),
        ),
    )


def ticket_messages_queryset(ticket: Ticket | int) -> QuerySet[Message]:
    """A ticket's messages, oldest first, with their authors and attachments."""
    return (
        Message.objects.filter(ticket=ticket)
        .select_related("author_agent", "author_customer")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def ticket_activities_queryset(ticket: Ticket | int) -> QuerySet[TicketActivity]:
    """A ticket's audit trail, oldest first, with the acting agents."""
    return (
        TicketActivity.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("created_at", "id")
    )
