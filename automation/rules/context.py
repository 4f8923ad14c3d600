"""What a rule sees of a ticket: loaded once per event, each part at most once.

The ticket and its customer come in one query; tags, the latest order, the customer's
addresses and the latest customer message are fetched the first time a condition asks for
them, so an event that no rule inspects deeply costs one query.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

from automation.rules.schema import MAX_MATCH_INPUT

if TYPE_CHECKING:
    from customers.models import Order
    from tickets.models import Ticket


@dataclass
class TicketContext:
    ticket: Ticket
    now: datetime = field(default_factory=timezone.now)
    # The message that triggered the event (customer message, agent reply), if any.
    message_text: str | None = None
    # Filled by the simulator, which loads many tickets with prefetches.
    prefetched: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def tag_names(self) -> frozenset[str]:
        if "tags" in self.prefetched:
            return frozenset(self.prefetched["tags"])
        return frozenset(row[0] for row in _fetch(_tags_sql(), [self.ticket.pk]))

    @cached_property
    def customer_tags(self) -> frozenset[str]:
        tags = self.ticket.customer.tags or []
        return frozenset(str(tag).strip().lower() for tag in tags if isinstance(tag, str))

    @cached_property
    def addresses(self) -> tuple[str, ...]:
        if "addresses" in self.prefetched:
            return tuple(self.prefetched["addresses"])
        customer = self.ticket.customer
        found = [customer.email.lower()] if customer.email else []
        found += [
            address.lower() for address in customer.identities.values_list("address", flat=True)
        ]
        return tuple(found)

    @cached_property
    def order(self) -> Order | None:
        """The latest order linked to the ticket, else the customer's latest order; one
        query."""
        if "order" in self.prefetched:
            return self.prefetched["order"]
        from customers.models import Order

        sql, fields, converters = _order_read()
        rows = _fetch(sql, [self.ticket.pk, self.ticket.customer_id])
        if not rows:
            return None
        return Order.from_db(
            connection.alias,
            [field.attname for field in fields],
            _converted(rows[0], converters),
        )

    @cached_property
    def body(self) -> str:
        """The triggering message's text, else the latest customer message, cut to the
        length the regex guard allows."""
        if self.message_text is not None:
            return self.message_text[:MAX_MATCH_INPUT]
        if "body" in self.prefetched:
            return str(self.prefetched["body"])[:MAX_MATCH_INPUT]
        rows = _fetch(_body_sql(), [self.ticket.pk])
        return (rows[0][0] if rows else "")[:MAX_MATCH_INPUT]

    @property
    def language(self) -> str:
        return (self.ticket.customer.locale or "").lower()

    def refresh(self) -> None:
        """Forget what was loaded: a rule changed the ticket."""
        from tickets.models import Ticket

        self.ticket = Ticket.objects.select_related("customer").get(pk=self.ticket.pk)
        for name in ("tag_names", "order"):
            self.__dict__.pop(name, None)
        self.prefetched.pop("tags", None)


# --- Hot-path SQL ----------------------------------------------------------------------------
# The reads below run for most events; written once as SQL (from the models' table names)
# because building the equivalent querysets costs more than running them.


@functools.cache
def _tags_sql() -> str:
    from tickets.models import Tag, Ticket

    links = Ticket.tags.through._meta.db_table
    return (
        f"SELECT t.name FROM {Tag._meta.db_table} t "  # noqa: S608 (table names only)
        f"JOIN {links} l ON l.tag_id = t.id WHERE l.ticket_id = %s"
    )


@functools.cache
def _order_read() -> tuple[str, tuple[Any, ...], tuple[tuple[Any, tuple[Any, ...]], ...]]:
    """The ticket's latest linked order first, else the customer's latest order."""
    from customers.models import Order
    from tickets.models import Ticket

    quote = connection.ops.quote_name
    links = Ticket.orders.through._meta.db_table
    fields = tuple(Order._meta.concrete_fields)
    columns = ", ".join(f"o.{quote(field.column)}" for field in fields)
    sql = (
        f"SELECT {columns} FROM {quote(Order._meta.db_table)} o "  # noqa: S608 (names only)
        f"LEFT JOIN {quote(links)} l ON l.order_id = o.id AND l.ticket_id = %s "
        "WHERE l.id IS NOT NULL OR o.customer_id = %s "
        "ORDER BY CASE WHEN l.id IS NULL THEN 1 ELSE 0 END, o.placed_at DESC, o.id DESC "
        "LIMIT 1"
    )
    return sql, fields, tuple(_converters_for("o", field) for field in fields)


def _converters_for(alias: str, model_field: Any) -> tuple[Any, tuple[Any, ...]]:
    """The column and the converters Django's compiler would apply to its values."""
    column = model_field.get_col(alias)
    return column, (
        tuple(connection.ops.get_db_converters(column))
        + tuple(column.get_db_converters(connection))
    )


def _converted(
    row: tuple[Any, ...], converters: tuple[tuple[Any, tuple[Any, ...]], ...]
) -> list[Any]:
    values = []
    for value, (column, functions) in zip(row, converters, strict=True):
        for function in functions:
            value = function(value, column, connection)
        values.append(value)
    return values


@functools.cache
def _body_sql() -> str:
    from tickets.models import Message

    return (
        f"SELECT text FROM {Message._meta.db_table} "  # noqa: S608 (table names only)
        "WHERE ticket_id = %s AND kind = 'customer' ORDER BY created_at DESC, id DESC LIMIT 1"
    )


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass(frozen=True)
class _TicketRead:
    """The one statement that loads a ticket with its customer (and, for message events,
    the message's text and flag), with the converters Django would apply to each column."""

    sql: str
    ticket_fields: tuple[Any, ...]
    customer_fields: tuple[Any, ...]
    converters: tuple[tuple[Any, tuple[Any, ...]], ...]


@functools.cache
def _ticket_read(with_message: bool) -> _TicketRead:
    from customers.models import Customer
    from tickets.models import Message, Ticket

    quote = connection.ops.quote_name
    ticket_fields = tuple(Ticket._meta.concrete_fields)
    customer_fields = tuple(Customer._meta.concrete_fields)
    extra = (
        (Message._meta.get_field("text"), Message._meta.get_field("is_automated"))
        if with_message
        else ()
    )
    # Without a message, the latest customer message comes along (body conditions are
    # common): one round trip instead of two.
    body = (
        "" if with_message else f"({_body_sql().replace('ticket_id = %s', 'ticket_id = t.id')}), "
    )
    columns = [
        *(f"m.{quote(column.column)}" for column in extra),
        *(f"t.{quote(column.column)}" for column in ticket_fields),
        *(f"c.{quote(column.column)}" for column in customer_fields),
    ]
    joins = (
        f"FROM {quote(Ticket._meta.db_table)} t "
        f"JOIN {quote(Customer._meta.db_table)} c ON c.id = t.customer_id"
    )
    if with_message:
        sql = (
            f"SELECT {', '.join(columns)} FROM {quote(Message._meta.db_table)} m "  # noqa: S608
            f"JOIN {quote(Ticket._meta.db_table)} t ON t.id = m.ticket_id "
            f"JOIN {quote(Customer._meta.db_table)} c ON c.id = t.customer_id "
            "WHERE m.id = %s AND m.ticket_id = %s"
        )
    else:
        sql = f"SELECT {body}{', '.join(columns)} {joins} WHERE t.id = %s"
    converters = [
        *([] if with_message else [(None, ())]),
        *(_converters_for("m", item) for item in extra),
        *(_converters_for("t", item) for item in ticket_fields),
        *(_converters_for("c", item) for item in customer_fields),
    ]
    return _TicketRead(sql, ticket_fields, customer_fields, tuple(converters))


def _read_ticket(read: _TicketRead, params: list[Any]) -> tuple[list[Any], Ticket] | None:
    """Run ``read``; the leading extra values and the ticket (customer attached), or None.

    Built like ``select_related("customer")`` would build them, without compiling a
    queryset on every event: this is the engine's hottest read."""
    from customers.models import Customer
    from tickets.models import Ticket

    rows = _fetch(read.sql, params)
    if not rows:
        return None
    values = _converted(rows[0], read.converters)
    extra_count = len(values) - len(read.ticket_fields) - len(read.customer_fields)
    ticket_end = extra_count + len(read.ticket_fields)
    ticket = Ticket.from_db(
        connection.alias,
        [field.attname for field in read.ticket_fields],
        values[extra_count:ticket_end],
    )
    customer = Customer.from_db(
        connection.alias,
        [field.attname for field in read.customer_fields],
        values[ticket_end:],
    )
    Ticket._meta.get_field("customer").set_cached_value(ticket, customer)
    return values[:extra_count], ticket


def _usable(ticket: Ticket) -> bool:
    return ticket.merged_into_id is None and ticket.status != "closed"


def load_context(ticket_id: int, *, message_text: str | None = None) -> TicketContext | None:
    """The context of a ticket rules may act on, or None (gone, merged, closed)."""
    found = _read_ticket(_ticket_read(False), [ticket_id])
    if found is None or not _usable(found[1]):
        return None
    (body,), ticket = found
    return TicketContext(ticket=ticket, message_text=message_text, prefetched={"body": body or ""})


def load_message_context(ticket_id: int, message_id: int) -> tuple[TicketContext | None, bool]:
    """The context for a message event, loaded with the message in one query; also whether
    the message is automated (an auto-reply or a bounce)."""
    found = _read_ticket(_ticket_read(True), [message_id, ticket_id])
    if found is None:
        return None, False
    (text, automated), ticket = found
    if not _usable(ticket):
        return None, bool(automated)
    return TicketContext(ticket=ticket, message_text=text), bool(automated)
