"""Reads that several screens share: the inbox list, the ticket page and the REST API.

Each loads what its screen shows in a fixed number of queries, whatever the number of rows:
foreign keys are joined, many-to-many relations and child rows are fetched in one query each.
The ticket list reads plain rows (``.values()``) rather than model instances, and fetches the
names of its assignees, teams and channel accounts with its tags and orders.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.db import connection
from django.db.models import Case, DateTimeField, IntegerField, Model, QuerySet, Value, When
from django.db.models.constants import LOOKUP_SEP

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


# The columns of a ticket row: the ticket's own and its customer's, never the agent's password
# hash or the channel account's credentials. The assignee's, team's and channel account's
# names come with the tags and orders (``attach_related``): joined here as well, those three
# small tables made PostgreSQL plan each list query for about a millisecond, longer than the
# query ran.
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
    "assignee_id",
    "team_id",
    "channel_account_id",
)

# What ``ticket_rows`` reads of the joined rows besides TICKET_ROW_FIELDS.
_RELATED_NAME_FIELDS = (
    "assignee__display_name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "team__name",
    "channel_account__name",
    "channel_account__kind",
)

# (id, number, placed_at, financial_status, fulfillment_status) of an order linked to a ticket.
OrderRef = tuple[int, str, datetime, str, str]

# A ticket as the list shows it: the ``TICKET_ROW_FIELDS`` keys and, once ``attach_related``
# has run, ``tag_names`` (sorted), ``order_refs`` (newest first), ``assignee__name``,
# ``team__name``, ``channel_account__name`` and ``channel_account__kind`` (None without one).
TicketRow = dict[str, Any]


def ticket_list_queryset() -> QuerySet[Ticket, TicketRow]:
    """Ticket rows as dicts of ``TICKET_ROW_FIELDS`` with their customer joined: building
    model instances for a ticket and its relations cost more CPU than the rest of a list
    request. ``attach_related`` adds the rest of each row."""
    return _ticket_rows_queryset().all()


@functools.cache
def _ticket_rows_queryset() -> QuerySet[Ticket, TicketRow]:
    """Built once per process and cloned per request (it is never evaluated itself):
    resolving the names costs a few hundred microseconds each time, and the resolved
    columns keep the hashes the compiler computes to place the ordering."""
    return Ticket.objects.values(*TICKET_ROW_FIELDS)


def attach_related(rows: Sequence[TicketRow]) -> None:
    """Complete each row of ``ticket_list_queryset`` (see ``TicketRow``) in one query,
    whatever the number of rows."""
    related = _load_related(
        [row["id"] for row in rows],
        agent_ids=_distinct(row["assignee_id"] for row in rows),
        team_ids=_distinct(row["team_id"] for row in rows),
        channel_account_ids=_distinct(row["channel_account_id"] for row in rows),
    )
    for row in rows:
        pk = row["id"]
        row["tag_names"] = related.tag_names[pk]
        row["order_refs"] = related.order_refs[pk]
        # .get(): an agent, team or account deleted between the two queries shows as none,
        # which is what the foreign keys' SET_NULL has made of the ticket by then.
        row["assignee__name"] = related.agent_names.get(row["assignee_id"])
        row["team__name"] = related.team_names.get(row["team_id"])
        account = related.channel_accounts.get(row["channel_account_id"])
        row["channel_account__name"], row["channel_account__kind"] = account or (None, None)


def ticket_rows(ids: Sequence[int]) -> list[Ticket]:
    """The tickets with these ids, in this order, as instances ready for
    ``TicketSerializer``: two queries whatever the number of ids (the tickets with their
    joined rows, then tags and orders)."""
    if not ids:
        return []
    by_id = (
        Ticket.objects.select_related("customer", "assignee", "team", "channel_account")
        .only(*TICKET_ROW_FIELDS, *_RELATED_NAME_FIELDS)
        .in_bulk(ids)
    )
    tickets = [by_id[pk] for pk in ids if pk in by_id]
    related = _load_related(list(by_id))
    for ticket in tickets:
        ticket.tag_names = related.tag_names[ticket.pk]  # type: ignore[attr-defined]
        ticket.order_refs = related.order_refs[ticket.pk]  # type: ignore[attr-defined]
    return tickets


def ticket_row(ticket: Ticket) -> TicketRow:
    """The row ``ticket_list_queryset`` and ``attach_related`` give for this ticket, read
    from the instance: tags and orders from ``ticket_rows`` when it loaded the ticket, from
    the relations otherwise."""
    row = {name: _follow(ticket, name) for name in TICKET_ROW_FIELDS}
    tag_names = getattr(ticket, "tag_names", None)
    if tag_names is None:
        tag_names = [tag.name for tag in ticket.tags.all()]
    order_refs = getattr(ticket, "order_refs", None)
    if order_refs is None:
        order_refs = [
            (o.pk, o.number, o.placed_at, o.financial_status, o.fulfillment_status)
            for o in ticket.orders.all()
        ]
    row["tag_names"] = list(tag_names)
    row["order_refs"] = list(order_refs)
    assignee, team, account = ticket.assignee, ticket.team, ticket.channel_account
    row["assignee__name"] = None if assignee is None else assignee.name
    row["team__name"] = None if team is None else team.name
    row["channel_account__name"] = None if account is None else account.name
    row["channel_account__kind"] = None if account is None else account.kind
    return row


def _follow(ticket: Ticket, path: str) -> Any:
    """The value ``.values(path)`` gives, from the instance."""
    value: Any = ticket
    for name in path.split(LOOKUP_SEP):
        value = getattr(value, name)
    return value


def _distinct(ids: Iterable[int | None]) -> list[int]:
    return sorted({pk for pk in ids if pk is not None})


@dataclass
class _Related:
    tag_names: dict[int, list[str]]
    order_refs: dict[int, list[OrderRef]]
    agent_names: dict[int, str] = field(default_factory=dict)
    team_names: dict[int, str] = field(default_factory=dict)
    channel_accounts: dict[int, tuple[str, str]] = field(default_factory=dict)


# The kinds of row ``_related_sql`` returns, in the order they sort.
_TAG, _ORDER, _AGENT, _TEAM, _CHANNEL_ACCOUNT = range(5)

# Raw rows need the backend's converters for this column (SQLite stores datetimes as text).
_PLACED_AT = Value(None, output_field=DateTimeField())


def _load_related(
    ticket_ids: list[int],
    *,
    agent_ids: Sequence[int] = (),
    team_ids: Sequence[int] = (),
    channel_account_ids: Sequence[int] = (),
) -> _Related:
    """Tag names (sorted) and order references (newest first, as ``Order`` sorts) of each
    ticket, and the names of the given agents, teams and channel accounts: one flat query,
    without building a model instance per row as ``prefetch_related`` would."""
    related = _Related({pk: [] for pk in ticket_ids}, {pk: [] for pk in ticket_ids})
    if not ticket_ids:
        return related
    sql = _related_sql(len(ticket_ids), len(agent_ids), len(team_ids), len(channel_account_ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ticket_ids, *agent_ids, *team_ids, *channel_account_ids])
        rows = cursor.fetchall()
    convert = connection.ops.get_db_converters(_PLACED_AT)
    for kind, owner_id, order_id, first, second, third, fourth, placed_at in rows:
        if kind == _TAG:
            related.tag_names[owner_id].append(first)
        elif kind == _ORDER:
            for converter in convert:
                placed_at = converter(placed_at, _PLACED_AT, connection)
            related.order_refs[owner_id].append((order_id, second, placed_at, third, fourth))
        elif kind == _AGENT:
            related.agent_names[owner_id] = _agent_name(first, second, third, fourth)
        elif kind == _TEAM:
            related.team_names[owner_id] = first
        else:
            related.channel_accounts[owner_id] = (first, second)
    return related


def _agent_name(display_name: str, first_name: str, last_name: str, username: str) -> str:
    """``User.name`` from its columns, without building a ``User``."""
    return display_name or f"{first_name} {last_name}".strip() or username


@functools.lru_cache(maxsize=256)
def _related_sql(tickets: int, agents: int, teams: int, channel_accounts: int) -> str:
    """The statement of ``_load_related``, built once per combination of counts: composing
    five querysets costs more CPU than running them. Every row is (kind, owner id, order
    id, four texts, placed_at), the owner being the ticket of a tag or an order, else the
    row itself; rows sort by kind, tags by name (the first text, which orders leave empty),
    orders by placed_at then id, newest first. A kind with no ids is left out (``IN ()`` is
    not SQL)."""
    qn = connection.ops.quote_name
    tag_links, tag = qn(Ticket.tags.through._meta.db_table), qn(Tag._meta.db_table)
    order_links, order = qn(Ticket.orders.through._meta.db_table), qn(Order._meta.db_table)
    pk, ticket_id, name = qn("id"), qn("ticket_id"), qn("name")

    def ids(count: int) -> str:
        return ", ".join(["%s"] * count)

    # Only table and column names from the models go into the text; the ids are parameters,
    # the tickets' given once (``page``) for both their tags and their orders.
    page = f"WITH page ({pk}) AS (VALUES {', '.join(['(%s)'] * tickets)}) "
    statements = [
        f"SELECT {_TAG}, tt.{ticket_id}, NULL, t.{name}, NULL, NULL, NULL, NULL"  # noqa: S608
        f" FROM page INNER JOIN {tag_links} tt ON tt.{ticket_id} = page.{pk}"
        f" INNER JOIN {tag} t ON t.{pk} = tt.{qn('tag_id')}",
        f"SELECT {_ORDER}, ot.{ticket_id}, o.{pk}, NULL, o.{qn('number')},"  # noqa: S608
        f" o.{qn('financial_status')}, o.{qn('fulfillment_status')}, o.{qn('placed_at')}"
        f" FROM page INNER JOIN {order_links} ot ON ot.{ticket_id} = page.{pk}"
        f" INNER JOIN {order} o ON o.{pk} = ot.{qn('order_id')}",
    ]
    if agents:
        statements.append(
            f"SELECT {_AGENT}, {pk}, NULL, {qn('display_name')}, {qn('first_name')},"  # noqa: S608
            f" {qn('last_name')}, {qn('username')}, NULL FROM {_table_of('assignee')}"
            f" WHERE {pk} IN ({ids(agents)})"
        )
    if teams:
        statements.append(
            f"SELECT {_TEAM}, {pk}, NULL, {name}, NULL, NULL, NULL, NULL"  # noqa: S608
            f" FROM {_table_of('team')} WHERE {pk} IN ({ids(teams)})"
        )
    if channel_accounts:
        statements.append(
            f"SELECT {_CHANNEL_ACCOUNT}, {pk}, NULL, {name}, {qn('kind')}, NULL, NULL, NULL"  # noqa: S608
            f" FROM {_table_of('channel_account')} WHERE {pk} IN ({ids(channel_accounts)})"
        )
    return page + " UNION ALL ".join(statements) + " ORDER BY 1, 4, 8 DESC, 3 DESC"


def _table_of(relation: str) -> str:
    """The quoted table a ticket's foreign key points at, without importing its model
    (``channels_inbox`` depends on this app, not the other way round)."""
    model = cast(type[Model], Ticket._meta.get_field(relation).related_model)
    return str(connection.ops.quote_name(model._meta.db_table))


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
