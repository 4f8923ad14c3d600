"""Reads that several screens share: the inbox list, the ticket page and the REST API.

Each loads what its screen shows in a fixed number of queries, whatever the number of rows:
foreign keys are joined, many-to-many relations and child rows are fetched in one query each.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection
from django.db.models import Case, DateTimeField, IntegerField, QuerySet, Value, When

from customers.models import Order
from tickets.models import Message, Tag, Ticket, TicketActivity

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
    each ticket: one flat query for both, without building a ``Tag`` or ``Order`` per row as
    ``prefetch_related`` would."""
    by_id = {ticket.pk: ticket for ticket in tickets}
    tag_names: dict[int, list[str]] = {pk: [] for pk in by_id}
    order_refs: dict[int, list[OrderRef]] = {pk: [] for pk in by_id}
    if by_id:
        ids = list(by_id)
        with connection.cursor() as cursor:
            cursor.execute(_tags_and_orders_sql(len(ids)), ids + ids)
            rows = cursor.fetchall()
        convert = connection.ops.get_db_converters(_PLACED_AT)
        for ticket_id, is_order, name, order_id, number, placed_at, financial, fulfillment in rows:
            if not is_order:
                tag_names[ticket_id].append(name)
                continue
            for converter in convert:
                placed_at = converter(placed_at, _PLACED_AT, connection)
            order_refs[ticket_id].append((order_id, number, placed_at, financial, fulfillment))
    for pk, ticket in by_id.items():
        ticket.tag_names = tag_names[pk]  # type: ignore[attr-defined]
        ticket.order_refs = order_refs[pk]  # type: ignore[attr-defined]


# Raw rows need the backend's converters for this column (SQLite stores datetimes as text).
_PLACED_AT = Value(None, output_field=DateTimeField())


@functools.lru_cache(maxsize=64)
def _tags_and_orders_sql(count: int) -> str:
    """Tag rows then order rows of ``count`` tickets in one statement, sorted as the ORM
    would sort them (tags by name; orders by placed_at then id, newest first), built once
    per page size: composing two querysets costs more CPU than running them."""
    qn = connection.ops.quote_name
    ticket_tags = Ticket.tags.through._meta.db_table
    ticket_orders = Ticket.orders.through._meta.db_table
    tag = Tag._meta.db_table
    order = Order._meta.db_table
    placeholders = ", ".join(["%s"] * count)
    # Only table and column names from the models go into the text; the ids are parameters.
    return (
        f"SELECT tt.{qn('ticket_id')}, 0, t.{qn('name')}, NULL, NULL, NULL, NULL, NULL"  # noqa: S608
        f" FROM {qn(ticket_tags)} tt INNER JOIN {qn(tag)} t ON t.{qn('id')} = tt.{qn('tag_id')}"
        f" WHERE tt.{qn('ticket_id')} IN ({placeholders})"
        f" UNION ALL SELECT ot.{qn('ticket_id')}, 1, NULL, o.{qn('id')}, o.{qn('number')},"
        f" o.{qn('placed_at')}, o.{qn('financial_status')}, o.{qn('fulfillment_status')}"
        f" FROM {qn(ticket_orders)} ot INNER JOIN {qn(order)} o"
        f" ON o.{qn('id')} = ot.{qn('order_id')}"
        f" WHERE ot.{qn('ticket_id')} IN ({placeholders})"
        " ORDER BY 2, 3, 6 DESC, 4 DESC"
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
