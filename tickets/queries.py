"""Reads that several screens share: the inbox list, the ticket page and the REST API.

Each loads what its screen shows in a fixed number of queries, whatever the number of rows:
foreign keys are joined, many-to-many relations and child rows are fetched in one query each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db.models import Case, IntegerField, QuerySet, Value, When

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


# The columns a ticket row shows, and of its joined rows only what the row names: never the
# agent's password hash or the channel account's credentials.
TICKET_ROW_FIELDS = (
    "id",
    "number",
    "subject",
    "status",
    "priority",
    "channel",
    "merged_into_id",
    "follow_up_of_id",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "solved_at",
    "closed_at",
    "last_customer_message_at",
    "last_agent_message_at",
    "last_message_at",
    "created_at",
    "updated_at",
    "customer__id",
    "customer__name",
    "customer__email",
    "assignee__id",
    "assignee__display_name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "team__id",
    "team__name",
    "channel_account__id",
    "channel_account__name",
    "channel_account__kind",
)

# (id, number, placed_at, financial_status, fulfillment_status) of an order linked to a ticket.
OrderRef = tuple[int, str, datetime, str, str]


def ticket_list_queryset() -> QuerySet[Ticket]:
    """Tickets with the columns a list row or the ticket page shows, their customer,
    assignee, team and channel account joined. Tags and orders come from
    ``attach_tags_and_orders``, which ``ticket_rows`` calls."""
    return Ticket.objects.select_related("customer", "assignee", "team", "channel_account").only(
        *TICKET_ROW_FIELDS
    )


def ticket_rows(ids: Sequence[int]) -> list[Ticket]:
    """The tickets with these ids, in this order, ready for ``TicketSerializer``: three
    queries whatever the number of ids (the tickets with their joined rows, tags, orders)."""
    if not ids:
        return []
    by_id = ticket_list_queryset().in_bulk(ids)
    tickets = [by_id[pk] for pk in ids if pk in by_id]
    attach_tags_and_orders(tickets)
    return tickets


def attach_tags_and_orders(tickets: Iterable[Ticket]) -> None:
    """Set ``tag_names`` (sorted) and ``order_refs`` (newest first, as ``Order`` sorts) on
    each ticket: two flat queries, without building a ``Tag`` or ``Order`` per row as
    ``prefetch_related`` would."""
    by_id = {ticket.pk: ticket for ticket in tickets}
    tag_names: dict[int, list[str]] = {pk: [] for pk in by_id}
    order_refs: dict[int, list[OrderRef]] = {pk: [] for pk in by_id}
    if by_id:
        tag_rows = (
            Ticket.tags.through.objects.filter(ticket_id__in=by_id)
            .order_by("tag__name")
            .values_list("ticket_id", "tag__name")
        )
        for ticket_id, name in tag_rows:
            tag_names[ticket_id].append(name)
        order_rows = (
            Ticket.orders.through.objects.filter(ticket_id__in=by_id)
            .order_by("-order__placed_at", "-order_id")
            .values_list(
                "ticket_id",
                "order_id",
                "order__number",
                "order__placed_at",
                "order__financial_status",
                "order__fulfillment_status",
            )
        )
        for ticket_id, *order in order_rows:
            order_refs[ticket_id].append(tuple(order))  # type: ignore[arg-type]
    for pk, ticket in by_id.items():
        ticket.tag_names = tag_names[pk]  # type: ignore[attr-defined]
        ticket.order_refs = order_refs[pk]  # type: ignore[attr-defined]


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
