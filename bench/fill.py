"""Fabricate a busy help desk in PostgreSQL, fast: teams, agents, channel accounts, tags,
customers with identities and orders, and tickets with their messages, tags and orders.

This is benchmark fabrication, not product behaviour: it writes straight into the tables with
``COPY`` (and ``bulk_create`` for the handful of configuration rows) instead of going through
``tickets.services``. A service call per ticket would record activities, emit events and take
row locks, which is right for the product and hours too slow for 100,000 tickets; the ticket
list reads none of what the services add beyond these rows.

The shape follows a shop that gets about a thousand conversations a day: 90 days of tickets,
most of the old ones solved or closed, the recent ones spread over new, open, pending and on
hold; seven channels with email the largest; a few agents much busier than the rest; about
three messages per ticket.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone
from psycopg.types.json import Jsonb

from channels_inbox.models import ChannelAccount
from customers.models import Customer, Identity, Order
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import Sequence as Counter
from helpdesk.models import Team, User
from tickets.models import Message, Tag, Ticket

DAYS = 90
TEAM_NAMES = ("Support", "Returns", "Shipping", "Wholesale")
AGENTS = 20
TAG_NAMES = (
    "refund", "shipping", "damaged", "exchange", "sizing", "address-change", "cancel",
    "discount", "invoice", "warranty", "wholesale", "vip", "late-delivery", "missing-item",
    "wrong-item", "payment", "subscription", "gift-card", "feedback", "complaint",
    "restock", "pre-order", "tracking", "customs", "bulk-order", "spam", "partnership",
    "press", "returns-portal", "loyalty",
)  # fmt: skip
CHANNEL_WEIGHTS = {
    ChannelKind.EMAIL: 40,
    ChannelKind.CHAT: 20,
    ChannelKind.WHATSAPP: 15,
    ChannelKind.MESSENGER: 8,
    ChannelKind.INSTAGRAM: 7,
    ChannelKind.SMS: 5,
    ChannelKind.TELEGRAM: 5,
}
PRIORITY_WEIGHTS = {
    Ticket.Priority.LOW: 10,
    Ticket.Priority.NORMAL: 70,
    Ticket.Priority.HIGH: 15,
    Ticket.Priority.URGENT: 5,
}
# By the ticket's age: old conversations are settled, recent ones are still being worked.
STATUS_WEIGHTS_BY_AGE = (
    (
        3,
        {
            Ticket.Status.NEW: 20,
            Ticket.Status.OPEN: 35,
            Ticket.Status.PENDING: 20,
            Ticket.Status.ON_HOLD: 5,
            Ticket.Status.SOLVED: 20,
        },
    ),
    (
        14,
        {
            Ticket.Status.NEW: 3,
            Ticket.Status.OPEN: 10,
            Ticket.Status.PENDING: 12,
            Ticket.Status.ON_HOLD: 5,
            Ticket.Status.SOLVED: 45,
            Ticket.Status.CLOSED: 25,
        },
    ),
    (
        DAYS + 1,
        {
            Ticket.Status.OPEN: 2,
            Ticket.Status.PENDING: 2,
            Ticket.Status.ON_HOLD: 1,
            Ticket.Status.SOLVED: 20,
            Ticket.Status.CLOSED: 75,
        },
    ),
)
MESSAGES_PER_TICKET_WEIGHTS = {1: 20, 2: 20, 3: 25, 4: 15, 5: 10, 6: 10}
TAGS_PER_TICKET_WEIGHTS = {0: 35, 1: 40, 2: 18, 3: 7}
FIRST_NAMES = (
    "Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farah", "Giulia", "Hiro", "Ines", "Jonas",
    "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Souza", "Müller", "Okafor", "Novak", "García", "Kowalski", "Tanaka", "Dubois", "Rossi",
    "Jensen", "Haddad", "Nguyen", "O'Brien", "Petrov", "Silva", "Larsen", "Khan", "Moreau",
)  # fmt: skip
LOCALES = ("en", "en", "en", "de", "fr", "es", "pt-BR", "it", "nl")
SUBJECTS = (
    "Where is my order {order}?",
    "Refund for order {order}",
    "Item arrived damaged",
    "Can I exchange for a different size?",
    "Change of delivery address",
    "Please cancel order {order}",
    "Discount code not working",
    "Invoice needed for {order}",
    "Warranty question",
    "Missing item in my parcel",
    "Wrong colour delivered",
    "Payment failed but money taken",
    "Question about my subscription",
    "Gift card balance",
    "When will this be back in stock?",
    "",
)
SENTENCES = (
    "Hi, I ordered last week and the tracking page has not moved since Tuesday.",
    "Could you tell me when the parcel will arrive?",
    "The box was crushed and one of the glasses inside is broken.",
    "I would like to return the jacket, it is too small.",
    "Thanks for the quick answer, that helps a lot.",
    "I have attached a photo of the label.",
    "We have issued a refund to your original payment method; it shows within 5 days.",
    "I have asked the warehouse to check the parcel and will get back to you tomorrow.",
    "Could you confirm the address you would like us to use?",
    "Your replacement ships today with express delivery.",
    "The discount code says it has expired but the email said it runs until Sunday.",
    "Is it possible to change the size before it ships?",
    "Customer called twice about this, please prioritise.",
    "Carrier confirms the parcel was returned to sender.",
    "Sorry for the trouble, we have added a voucher to your account.",
    "Do you ship to Switzerland and who pays the customs fees?",
    "My card was charged twice for the same order.",
    "Checked with finance: the second charge is an authorisation and drops off in 3 days.",
)


@dataclass(frozen=True)
class FilledDesk:
    """What the benchmark needs to build its requests."""

    tickets: int
    messages: int
    customers: int
    agent_ids: tuple[int, ...]
    busiest_agent_id: int
    team_ids: tuple[int, ...]
    tag_ids: dict[str, int]
    measuring_agent_id: int


def _weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def _next_id(model: type[models.Model]) -> int:
    return int(model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1


def _missing_defaults(model: type[models.Model], fields: Sequence[str]) -> dict[str, Any]:
    """Values for the required columns the fabrication does not name: the field's default
    (``""`` for a blank text field), so a column the model gains later does not break the
    benchmark. A required column without a usable default stops the fill here, instead of
    as a COPY error deep in a long run."""
    missing: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.name in fields or field.primary_key or field.null:
            continue
        if field.db_default is not NOT_PROVIDED:
            continue
        value = field.get_default()
        if value is None:
            raise RuntimeError(f"bench.fill does not fill {model.__name__}.{field.name}")
        missing[field.name] = Jsonb(value) if isinstance(value, dict | list) else value
    return missing


def copy_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY rows into the model's table; several times faster than bulk_create."""
    defaults = _missing_defaults(model, fields)
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(cast("models.Field[Any, Any]", model._meta.get_field(name)).column)
        for name in (*fields, *defaults)
    )
    extra = tuple(defaults.values())
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row((*row, *extra))
            count += 1
    return count


def _reset_sequences(*models_: type[models.Model]) -> None:
    """Rows were written with explicit ids; move the id sequences past them."""
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(models_)):
            cursor.execute(statement)


def _paragraph(rng: random.Random) -> str:
    return " ".join(rng.sample(SENTENCES, rng.randint(1, 4)))


# Rows held in memory before they are copied: a million tickets with five million messages
# must not need gigabytes of tuples. Foreign keys are deferred to the commit, so tickets,
# their messages and their links can be copied chunk by chunk in any order.
CHUNK_MESSAGES = 200_000


def fill(tickets: int, *, seed: int = 2024, messages_per_ticket: float | None = None) -> FilledDesk:
    """Fabricate ``tickets`` tickets and everything around them, in one transaction.

    ``messages_per_ticket`` sets the mean number of messages of a ticket that has a reply
    (new tickets keep their single message); by default the counts follow
    ``MESSAGES_PER_TICKET_WEIGHTS`` (about three)."""
    if connection.vendor != "postgresql":
        raise RuntimeError("bench.fill writes with PostgreSQL's COPY; point DATABASE_URL at it.")
    if messages_per_ticket is not None and messages_per_ticket < 1:
        raise ValueError("messages_per_ticket must be at least 1")
    rng = random.Random(seed)
    with transaction.atomic():
        return _fill(rng, tickets, messages_per_ticket)


def _message_count(rng: random.Random, mean: float | None) -> int:
    if mean is None:
        return int(_weighted(rng, MESSAGES_PER_TICKET_WEIGHTS))
    if mean <= 1:
        return 1
    # One message plus a geometric-like tail with the requested mean, capped so a single
    # ticket never dwarfs the rest.
    return 1 + min(int(rng.expovariate(1 / (mean - 1)) + 0.5), int(mean * 12))


TICKET_FIELDS = (
    "id", "number", "subject", "customer", "status", "priority", "channel",
    "channel_account", "assignee", "team", "first_response_due_at",
    "first_responded_at", "solved_at", "closed_at", "last_customer_message_at",
    "last_agent_message_at", "last_message_at", "created_at", "updated_at",
)  # fmt: skip
MESSAGE_FIELDS = (
    "id", "ticket", "direction", "kind", "author_agent", "author_customer",
    "channel_account", "text", "html", "provider_message_id", "delivery_status",
    "delivery_error", "delivery_updated_at", "created_at",
)  # fmt: skip


def _flush(
    ticket_rows: list[Any],
    message_rows: list[Any],
    tag_links: list[Any],
    order_links: list[Any],
) -> None:
    copy_rows(Ticket, TICKET_FIELDS, ticket_rows)
    copy_rows(Ticket.tags.through, ("ticket", "tag"), tag_links)
    copy_rows(Ticket.orders.through, ("ticket", "order"), order_links)
    copy_rows(Message, MESSAGE_FIELDS, message_rows)
    for rows in (ticket_rows, message_rows, tag_links, order_links):
        rows.clear()


def _fill(rng: random.Random, ticket_count: int, mean_messages: float | None) -> FilledDesk:
    now = timezone.now()

    teams = Team.objects.bulk_create(Team(name=name, slug=name.lower()) for name in TEAM_NAMES)
    # Agents never sign in here: one hash computed once keeps the fabrication fast.
    password = make_password(None)
    agents = User.objects.bulk_create(
        User(
            username=f"bench-agent-{index:02d}",
            email=f"agent{index}@shop.test",
            display_name=f"Agent {index:02d}",
            password=password,
            role=User.Role.AGENT,
            is_staff=False,
            availability=User.Availability.ONLINE,
        )
        for index in range(1, AGENTS + 1)
    )
    User.objects.bulk_create(
        [
            User(
                username="bench-admin",
                email="admin@shop.test",
                password=password,
                role=User.Role.ADMIN,
                is_staff=True,
            )
        ]
    )
    agent_team = {agent.pk: teams[index % len(teams)] for index, agent in enumerate(agents)}
    User.teams.through.objects.bulk_create(
        User.teams.through(user_id=agent_id, team_id=team.pk)
        for agent_id, team in agent_team.items()
    )
    # A few agents carry most of the load, as on any real desk.
    agent_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(agents))]

    accounts = {
        account.kind: account
        for account in ChannelAccount.objects.bulk_create(
            ChannelAccount(
                kind=kind,
                name=f"Shop {kind.label}",
                slug=f"shop-{kind.value}",
                address=f"{kind.value}@shop.test",
                default_team=teams[0],
            )
            for kind in ChannelKind
        )
    }
    tags = Tag.objects.bulk_create(Tag(name=name) for name in TAG_NAMES)
    tag_weights = [1.0 / (rank + 1) for rank in range(len(tags))]

    # --- Customers, identities, orders ---------------------------------------------------
    customer_count = max(10, ticket_count * 2 // 5)
    first_customer = _next_id(Customer)
    customer_rows = []
    home_channel: list[ChannelKind] = []
    identity_rows = []
    identity_id = _next_id(Identity)
    for offset in range(customer_count):
        customer_id = first_customer + offset
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        email = f"customer{customer_id}@example.com"
        created = now - timedelta(days=rng.uniform(DAYS, 400))
        tags_json = Jsonb(["vip"] if rng.random() < 0.05 else [])
        customer_rows.append(
            (customer_id, name, email, rng.choice(LOCALES), "", tags_json, created, created)
        )
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        home_channel.append(channel)
        identity_rows.append((identity_id, customer_id, ChannelKind.EMAIL, email, name, created))
        identity_id += 1
        if channel != ChannelKind.EMAIL:
            address = _address(channel, customer_id)
            identity_rows.append((identity_id, customer_id, channel, address, name, created))
            identity_id += 1
    copy_rows(
        Customer,
        ("id", "name", "email", "locale", "notes", "tags", "created_at", "updated_at"),
        customer_rows,
    )
    copy_rows(
        Identity,
        ("id", "customer", "kind", "address", "display_name", "created_at"),
        identity_rows,
    )

    order_id = _next_id(Order)
    orders_of: dict[int, list[int]] = {}
    order_rows = []
    for customer_id in range(first_customer, first_customer + customer_count):
        for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
            placed = now - timedelta(days=rng.uniform(0, DAYS + 30))
            subtotal = Decimal(rng.randint(1500, 30000)) / 100
            shipping = Decimal("4.90")
            total = subtotal + shipping
            order_rows.append(
                (
                    order_id, customer_id, "main-shop", str(order_id), f"#{1000 + order_id}",
                    placed, "EUR", subtotal, shipping, Decimal(0), total,
                    rng.choice(Order.FinancialStatus.values[:3] + ["paid"] * 5),
                    rng.choice(Order.FulfillmentStatus.values),
                    Jsonb([]), Jsonb({}), Jsonb({}), placed, placed,
                )
            )  # fmt: skip
            orders_of.setdefault(customer_id, []).append(order_id)
            order_id += 1
    copy_rows(
        Order,
        (
            "id", "customer", "store", "external_id", "number", "placed_at", "currency",
            "subtotal", "shipping_total", "tax_total", "total", "financial_status",
            "fulfillment_status", "tracking", "shipping_address", "raw", "created_at",
            "updated_at",
        ),
        order_rows,
    )  # fmt: skip

    # --- Tickets and messages ----------------------------------------------------------------
    first_ticket = _next_id(Ticket)
    first_number = int(Ticket.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    message_id = _next_id(Message)
    ticket_rows = []
    message_rows = []
    tag_links = []
    order_links = []
    assigned_count: dict[int, int] = {}
    message_total = 0
    span = timedelta(days=DAYS)
    for offset in range(ticket_count):
        ticket_id = first_ticket + offset
        # Created times rise with the id, as they do in production.
        created = now - span + span * ((offset + rng.random()) / ticket_count)
        age_days = (now - created).total_seconds() / 86400
        status = _weighted(
            rng, next(weights for limit, weights in STATUS_WEIGHTS_BY_AGE if age_days < limit)
        )
        customer_offset = rng.randrange(customer_count)
        customer_id = first_customer + customer_offset
        channel = home_channel[customer_offset] if rng.random() < 0.8 else ChannelKind.EMAIL
        unassigned = (status == Ticket.Status.NEW and rng.random() < 0.7) or rng.random() < 0.03
        assignee = None if unassigned else rng.choices(agents, weights=agent_weights)[0]
        if assignee is not None:
            team_id: int | None = agent_team[assignee.pk].pk
            if status == Ticket.Status.OPEN:
                assigned_count[assignee.pk] = assigned_count.get(assignee.pk, 0) + 1
        else:
            team_id = rng.choice(teams).pk if rng.random() < 0.9 else None
        message_count = _message_count(rng, mean_messages)
        if status == Ticket.Status.NEW:
            message_count = 1
        last_possible = min(now, created + timedelta(hours=rng.expovariate(1 / 30)))
        step = (last_possible - created) / max(1, message_count)
        moment = created
        last_customer: datetime | None = None
        last_agent: datetime | None = None
        first_response: datetime | None = None
        for index in range(message_count):
            text = _paragraph(rng)
            html = f"<p>{text}</p>" if channel == ChannelKind.EMAIL else ""
            account_id: int | None = accounts[channel].pk
            provider_id = f"bench-{message_id}"
            if index % 2 == 0:
                direction, kind = Message.Direction.INBOUND, Message.Kind.CUSTOMER
                agent_id, author_customer = None, customer_id
                delivery, error, delivered_at = "", "", None
                last_customer = moment
            elif rng.random() < 0.12:
                direction, kind = Message.Direction.INTERNAL, Message.Kind.NOTE
                agent_id, author_customer = assignee.pk if assignee else agents[0].pk, None
                account_id, html, provider_id = None, "", ""
                delivery, error, delivered_at = "", "", None
            else:
                direction, kind = Message.Direction.OUTBOUND, Message.Kind.REPLY
                agent_id, author_customer = assignee.pk if assignee else agents[0].pk, None
                failed = rng.random() < 0.02
                delivery = "failed" if failed else rng.choice(("delivered", "read", "sent"))
                error = "Recipient unreachable" if failed else ""
                delivered_at = moment
                last_agent = moment
                first_response = first_response or moment
            message_rows.append(
                (
                    message_id, ticket_id, direction, kind, agent_id, author_customer,
                    account_id, text, html, provider_id, delivery, error, delivered_at, moment,
                )
            )  # fmt: skip
            message_id += 1
            message_total += 1
            moment += step * rng.uniform(0.5, 1.0)
        last_message = max(filter(None, (last_customer, last_agent)), default=created)
        updated = max(moment, last_message)
        settled = status in (Ticket.Status.SOLVED, Ticket.Status.CLOSED)
        ticket_rows.append(
            (
                ticket_id, first_number + offset,
                rng.choice(SUBJECTS).format(order=f"#{1000 + rng.randint(1, 99999)}"),
                customer_id, status, _weighted(rng, PRIORITY_WEIGHTS), channel,
                accounts[channel].pk, assignee.pk if assignee else None, team_id,
                created + timedelta(hours=8), first_response, updated if settled else None,
                updated if status == Ticket.Status.CLOSED else None, last_customer, last_agent,
                last_message, created, updated,
            )
        )  # fmt: skip
        for tag in set(
            rng.choices(tags, weights=tag_weights, k=_weighted(rng, TAGS_PER_TICKET_WEIGHTS))
        ):
            tag_links.append((ticket_id, tag.pk))
        customer_orders = orders_of.get(customer_id)
        if customer_orders and rng.random() < 0.5:
            order_links.append((ticket_id, rng.choice(customer_orders)))
        if len(message_rows) >= CHUNK_MESSAGES:
            _flush(ticket_rows, message_rows, tag_links, order_links)

    _flush(ticket_rows, message_rows, tag_links, order_links)
    _reset_sequences(Customer, Identity, Order, Ticket, Message)
    last_number = first_number + ticket_count - 1
    Counter.objects.update_or_create(name="ticket_number", defaults={"value": last_number})

    busiest = max(
        assigned_count, key=lambda agent_id: assigned_count[agent_id], default=agents[0].pk
    )
    return FilledDesk(
        tickets=ticket_count,
        messages=message_total,
        customers=customer_count,
        agent_ids=tuple(agent.pk for agent in agents),
        busiest_agent_id=busiest,
        team_ids=tuple(team.pk for team in teams),
        tag_ids={tag.name: tag.pk for tag in tags},
        measuring_agent_id=agents[-1].pk,
    )


def _address(channel: ChannelKind, customer_id: int) -> str:
    if channel in (ChannelKind.WHATSAPP, ChannelKind.SMS):
        return f"+4915{customer_id:09d}"
    if channel == ChannelKind.TELEGRAM:
        return str(700_000_000 + customer_id)
    return f"{channel.value}-{customer_id}"


def vacuum_analyze() -> None:
    """Give the planner real statistics and the visibility map that index-only scans need,
    as autovacuum does on a production database. VACUUM cannot run inside a transaction
    (a test's), so there it falls back to ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
