"""The ticket list, detail, create and update endpoints of /api/v1/tickets/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount
from customers.models import Customer
from customers.services import create_customer, merge_customers
from helpdesk.models import Team, User
from tests.tickets.api_support import (
    T0,
    activities,
    database_state,
    make_order,
    result_ids,
    url,
    walk,
)
from tickets import services
from tickets.models import Ticket, TicketActivity

Verb = TicketActivity.Verb


def iso(value: Any) -> str | None:
    return None if value is None else serializers.DateTimeField().to_representation(value)


# --- Authentication ----------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "ticket-list", False, {}),
    ("post", "ticket-list", False, {"subject": "x"}),
    ("get", "ticket-detail", True, {}),
    ("patch", "ticket-detail", True, {"status": "open"}),
    ("post", "ticket-tags", True, {"add": ["vip"]}),
    ("post", "ticket-merge", True, {"into": 1}),
    ("post", "ticket-orders", True, {"order": 1}),
    ("get", "ticket-messages", True, {}),
    ("post", "ticket-reply", True, {"text": "Hello"}),
    ("post", "ticket-notes", True, {"text": "Hello"}),
    ("get", "ticket-activities", True, {}),
]


@pytest.mark.parametrize(("method", "name", "detail", "body"), ENDPOINTS)
def test_anonymous_requests_are_refused(
    anonymous_client: APIClient,
    ticket: Ticket,
    method: str,
    name: str,
    detail: bool,
    body: dict[str, Any],
) -> None:
    """Without a session or a token every ticket endpoint answers 401 and changes nothing."""
    before = database_state()

    response = getattr(anonymous_client, method)(
        url(name, ticket.pk) if detail else url(name), body, format="json"
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert database_state() == before


def test_anonymous_order_unlink_is_refused(anonymous_client: APIClient, ticket: Ticket) -> None:
    order = make_order(ticket.customer)
    services.link_order(ticket, order, actor=None)
    before = database_state()

    response = anonymous_client.delete(url("ticket-order", ticket.pk, order.pk))

    assert response.status_code == 401
    assert database_state() == before


def test_token_authentication_lists_tickets(agent: User, ticket: Ticket) -> None:
    """An agent's API token is enough: "Authorization: Token <key>"."""
    token = Token.objects.create(user=agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(url("ticket-list"))

    assert result_ids(response) == [ticket.pk]


def test_token_authentication_acts_as_the_token_owner(agent: User, ticket: Ticket) -> None:
    token = Token.objects.create(user=agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.patch(url("ticket-detail", ticket.pk), {"priority": "high"}, format="json")

    assert response.status_code == 200
    assert activities(ticket)[-1] == (
        Verb.PRIORITY_CHANGED,
        agent.pk,
        {"before": "normal", "after": "high"},
    )


def test_unknown_token_is_refused(ticket: Ticket) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    response = client.get(url("ticket-list"))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_deactivated_agents_token_is_refused(inactive_agent: User, ticket: Ticket) -> None:
    token = Token.objects.create(user=inactive_agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(url("ticket-list"))

    assert response.status_code == 401


def test_session_authentication_lists_tickets(agent: User, ticket: Ticket) -> None:
    client = APIClient()
    client.force_login(agent)

    response = client.get(url("ticket-list"))

    assert result_ids(response) == [ticket.pk]


# --- Detail ------------------------------------------------------------------------------------


@pytest.fixture
def rich_ticket(
    customer: Customer,
    agent: User,
    support_team: Team,
    whatsapp_account: ChannelAccount,
) -> Ticket:
    """A ticket with every relation filled in."""
    earlier = services.open_ticket(customer=customer, channel="whatsapp", subject="First")
    ticket = services.open_ticket(
        customer=customer,
        channel="whatsapp",
        channel_account=whatsapp_account,
        subject="Broken zipper",
        priority=Ticket.Priority.HIGH,
        follow_up_of=earlier,
        actor=agent,
    )
    services.assign_ticket(ticket, agent, actor=agent)
    services.tag_ticket(ticket, ["vip", "refund"], actor=agent)
    services.link_order(ticket, make_order(customer, "#1001"), actor=agent)
    services.link_order(
        ticket, make_order(customer, "#1002", placed_at=T0 + timedelta(days=1)), actor=agent
    )
    return Ticket.objects.get(pk=ticket.pk)


def test_detail_shows_every_field(
    agent_client: APIClient, rich_ticket: Ticket, agent: User, support_team: Team
) -> None:
    ticket = rich_ticket
    orders = list(ticket.orders.order_by("number"))

    response = agent_client.get(url("ticket-detail", ticket.pk))

    assert response.status_code == 200
    assert response.json() == {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": "Broken zipper",
        "status": "new",
        "priority": "high",
        "channel": "whatsapp",
        "channel_account": {
            "id": ticket.channel_account_id,
            "name": "WhatsApp",
            "kind": "whatsapp",
        },
        "customer": {"id": ticket.customer_id, "name": "Ana Souza", "email": "ana@example.com"},
        "assignee": {"id": agent.pk, "name": "Bob Agent"},
        "team": {"id": support_team.pk, "name": "Support"},
        "tags": ["refund", "vip"],
        "orders": [
            {
                "id": orders[1].pk,
                "number": "#1002",
                "placed_at": "2025-03-02T09:00:00Z",
                "financial_status": "pending",
                "fulfillment_status": "unfulfilled",
            },
            {
                "id": orders[0].pk,
                "number": "#1001",
                "placed_at": "2025-03-01T09:00:00Z",
                "financial_status": "pending",
                "fulfillment_status": "unfulfilled",
            },
        ],
        "merged_into": None,
        "follow_up_of": ticket.follow_up_of_id,
        "first_response_due_at": None,
        "next_response_due_at": None,
        "resolution_due_at": None,
        "first_responded_at": None,
        "solved_at": None,
        "closed_at": None,
        "last_customer_message_at": None,
        "last_agent_message_at": None,
        "last_message_at": None,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    }


def test_detail_shows_timestamps_and_merge_target(
    agent_client: APIClient, make_ticket: Callable[..., Ticket], agent: User
) -> None:
    source = make_ticket()
    target = make_ticket()
    services.add_reply(source, author=agent, text="On it", status=Ticket.Status.SOLVED)
    services.merge_tickets(source, target, actor=agent)
    source.refresh_from_db()

    body = agent_client.get(url("ticket-detail", source.pk)).json()

    assert body["merged_into"] == target.pk
    assert body["status"] == "closed"
    assert body["first_responded_at"] == iso(source.first_responded_at)
    assert body["solved_at"] == iso(source.solved_at)
    assert body["closed_at"] == iso(source.closed_at)
    assert body["solved_at"] is not None
    assert body["closed_at"] is not None


@pytest.mark.parametrize("ticket_id", ["999999", "abc", "0"])
def test_detail_of_unknown_ticket_is_404(
    agent_client: APIClient, ticket: Ticket, ticket_id: str
) -> None:
    response = agent_client.get(f"/api/v1/tickets/{ticket_id}/")

    assert response.status_code == 404


def test_detail_uses_two_queries(
    agent_client: APIClient, rich_ticket: Ticket, django_assert_num_queries: Any
) -> None:
    """One for the ticket and its joined relations, one for its tags and orders."""
    with django_assert_num_queries(2):
        response = agent_client.get(url("ticket-detail", rich_ticket.pk))

    assert response.status_code == 200
    assert response.json()["tags"] == ["refund", "vip"]


# --- Filters -----------------------------------------------------------------------------------


@pytest.fixture
def board(
    make_ticket: Callable[..., Ticket],
    agent: User,
    teammate: User,
    support_team: Team,
    returns_team: Team,
    whatsapp_account: ChannelAccount,
) -> dict[str, Ticket]:
    """Five tickets in known states, with updated_at one hour apart in creation order."""
    new = make_ticket()
    mine = make_ticket()
    services.assign_ticket(mine, agent, actor=agent)
    services.change_status(mine, Ticket.Status.OPEN, actor=agent)
    services.tag_ticket(mine, ["vip"], actor=agent)
    carols = make_ticket()
    services.assign_ticket(carols, teammate, actor=teammate)
    services.change_status(carols, Ticket.Status.PENDING, actor=teammate)
    services.change_priority(carols, Ticket.Priority.HIGH, actor=teammate)
    services.assign_team(carols, support_team, actor=teammate)
    returns = make_ticket()
    services.assign_team(returns, returns_team, actor=agent)
    services.change_status(returns, Ticket.Status.SOLVED, actor=agent)
    services.change_priority(returns, Ticket.Priority.URGENT, actor=agent)
    services.tag_ticket(returns, ["vip", "refund"], actor=agent)
    whatsapp = services.open_ticket(
        customer=new.customer, channel="whatsapp", channel_account=whatsapp_account
    )
    board = {"new": new, "mine": mine, "carols": carols, "returns": returns, "whatsapp": whatsapp}
    for hours, ticket in enumerate(board.values()):
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=T0 + timedelta(hours=hours))
    return board


def listed(client: APIClient, board: dict[str, Ticket], query: str) -> list[str]:
    """The names of the board's tickets the list returns for ``query``, by id."""
    names = {ticket.pk: name for name, ticket in board.items()}
    separator = "&" if query else ""
    response = client.get(f"{url('ticket-list')}?ordering=id{separator}{query}")
    return [names[ticket_id] for ticket_id in result_ids(response)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["new", "mine", "carols", "returns", "whatsapp"]),
        ("status=new", ["new", "whatsapp"]),
        ("status=open&status=pending", ["mine", "carols"]),
        ("status=open,pending", ["mine", "carols"]),
        ("status=open,solved&status=pending", ["mine", "carols", "returns"]),
        ("status=closed", []),
        ("priority=high,urgent", ["carols", "returns"]),
        ("priority=normal", ["new", "mine", "whatsapp"]),
        ("assignee=none", ["new", "returns", "whatsapp"]),
        ("assignee=me", ["mine"]),
        ("assignee=ME", ["mine"]),
        ("team=none", ["new", "mine"]),
        ("channel=whatsapp", ["whatsapp"]),
        ("channel=email,whatsapp", ["new", "mine", "carols", "returns", "whatsapp"]),
        ("channel_account=none", ["new", "mine", "carols", "returns"]),
        ("tag=vip", ["mine", "returns"]),
        ("tag=VIP", ["mine", "returns"]),
        ("tag=vip&tag=refund", ["returns"]),
        ("tag=shipping", []),
        ("updated_since=2025-03-01T11:00:00Z", ["carols", "returns", "whatsapp"]),
        ("updated_since=2025-03-01T12:00:00%2B01:00", ["carols", "returns", "whatsapp"]),
        # A client that forgets to encode "+" sends a space; the offset still counts.
        ("updated_since=2025-03-01T12:00:00+01:00", ["carols", "returns", "whatsapp"]),
        ("updated_since=2025-03-01T12:00:00.000001Z", ["whatsapp"]),
        ("status=new&channel=whatsapp", ["whatsapp"]),
        ("status=new,open&assignee=none", ["new", "whatsapp"]),
    ],
)
def test_list_filters(
    agent_client: APIClient, board: dict[str, Ticket], query: str, expected: list[str]
) -> None:
    assert listed(agent_client, board, query) == expected


def test_list_filters_by_ids(
    agent_client: APIClient,
    board: dict[str, Ticket],
    agent: User,
    teammate: User,
    support_team: Team,
    returns_team: Team,
    whatsapp_account: ChannelAccount,
) -> None:
    customer_id = board["new"].customer_id

    assert listed(agent_client, board, f"assignee={agent.pk}") == ["mine"]
    assert listed(agent_client, board, f"assignee={teammate.pk}") == ["carols"]
    assert listed(agent_client, board, f"team={support_team.pk}") == ["carols", "whatsapp"]
    assert listed(agent_client, board, f"team={returns_team.pk}") == ["returns"]
    assert listed(agent_client, board, f"channel_account={whatsapp_account.pk}") == ["whatsapp"]
    assert listed(agent_client, board, f"customer={customer_id}") == ["new", "whatsapp"]


def test_assignee_me_is_the_requesting_agent(board: dict[str, Ticket], teammate: User) -> None:
    client = APIClient()
    client.force_authenticate(teammate)

    assert listed(client, board, "assignee=me") == ["carols"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("status=open,bogus", "status"),
        ("priority=critical", "priority"),
        ("channel=fax", "channel"),
        ("assignee=bob", "assignee"),
        ("assignee=-1", "assignee"),
        ("assignee=1.5", "assignee"),
        ("assignee=999999", "assignee"),
        ("assignee=99999999999999999999999", "assignee"),
        ("team=me", "team"),
        ("team=999999", "team"),
        ("channel_account=x", "channel_account"),
        ("channel_account=999999", "channel_account"),
        ("customer=none", "customer"),
        ("customer=999999", "customer"),
        ("tag=" + "x" * 51, "tag"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2025-03-01T09:00:00", "updated_since"),
        ("updated_since=2025-03-01", "updated_since"),
        ("updated_since=2025-13-01T09:00:00Z", "updated_since"),
        ("ordering=subject", "ordering"),
        ("ordering=--id", "ordering"),
        ("page_size=0", "page_size"),
        ("page_size=ten", "page_size"),
        ("cursor=not-a-cursor", "cursor"),
        ("stauts=open", "stauts"),
    ],
)
def test_bad_filter_values_are_400(
    agent_client: APIClient, board: dict[str, Ticket], query: str, field: str
) -> None:
    """A value the list cannot honour names the parameter; it is never silently ignored."""
    response = agent_client.get(f"{url('ticket-list')}?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert isinstance(response.json()[field][0], str)


def test_naive_datetime_message_asks_for_a_time_zone(
    agent_client: APIClient, board: dict[str, Ticket]
) -> None:
    response = agent_client.get(url("ticket-list"), {"updated_since": "2025-03-01T09:00:00"})

    assert response.json() == {
        "updated_since": [
            "Add a time zone to the datetime, e.g. 2025-01-31T09:00:00Z or "
            "2025-01-31T10:00:00+01:00."
        ]
    }


def test_unknown_agent_id_message_names_the_id(
    agent_client: APIClient, board: dict[str, Ticket]
) -> None:
    response = agent_client.get(url("ticket-list"), {"assignee": "999999"})

    assert response.json() == {"assignee": ["No agent with id 999999."]}


# --- Ordering and pagination -------------------------------------------------------------------


@pytest.fixture
def ordered(make_ticket: Callable[..., Ticket]) -> dict[str, Ticket]:
    """Five tickets a..e (ids ascending) with ties and NULLs in the sortable columns."""
    hour = timedelta(hours=1)
    rows = {
        "a": (T0, T0 + 4 * hour, None, "low"),
        "b": (T0 + hour, T0 + 2 * hour, T0 + hour, "urgent"),
        "c": (T0 + 2 * hour, T0 + 2 * hour, T0 + hour, "normal"),
        "d": (T0 + 3 * hour, T0 + hour, T0 + 5 * hour, "normal"),
        "e": (T0 + 4 * hour, T0, None, "high"),
    }
    tickets = {}
    for name, (created, updated, last_message, priority) in rows.items():
        ticket = make_ticket()
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=created,
            updated_at=updated,
            last_message_at=last_message,
            priority=priority,
        )
        tickets[name] = ticket
    return tickets


ORDERINGS = [
    ("", "acbde"),
    ("id", "abcde"),
    ("-id", "edcba"),
    ("created_at", "abcde"),
    ("-created_at", "edcba"),
    ("updated_at", "edbca"),
    ("-updated_at", "acbde"),
    # NULL sorts below every value: first ascending, last descending.
    ("last_message_at", "aebcd"),
    ("-last_message_at", "dcbea"),
    # Priorities by urgency, not by name.
    ("priority", "acdeb"),
    ("-priority", "bedca"),
]


@pytest.mark.parametrize(("ordering", "expected"), ORDERINGS)
def test_list_ordering(
    agent_client: APIClient, ordered: dict[str, Ticket], ordering: str, expected: str
) -> None:
    names = {ticket.pk: name for name, ticket in ordered.items()}
    params = {"ordering": ordering} if ordering else {}

    ids = result_ids(agent_client.get(url("ticket-list"), params))

    assert "".join(names[ticket_id] for ticket_id in ids) == expected


@pytest.mark.parametrize("page_size", [1, 2, 3])
@pytest.mark.parametrize(("ordering", "expected"), ORDERINGS)
def test_next_links_walk_every_row_once(
    agent_client: APIClient,
    ordered: dict[str, Ticket],
    ordering: str,
    expected: str,
    page_size: int,
) -> None:
    """Ties and NULLs included, the pages together hold each ticket exactly once, in order."""
    names = {ticket.pk: name for name, ticket in ordered.items()}
    params: dict[str, Any] = {"page_size": page_size}
    if ordering:
        params["ordering"] = ordering

    ids = walk(agent_client, url("ticket-list"), params)

    assert "".join(names[ticket_id] for ticket_id in ids) == expected


def test_previous_links_walk_back(agent_client: APIClient, ordered: dict[str, Ticket]) -> None:
    names = {ticket.pk: name for name, ticket in ordered.items()}

    def page(link: str, params: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        body = agent_client.get(link, params or {}).json()
        return "".join(names[row["id"]] for row in body["results"]), body

    first, body = page(url("ticket-list"), {"ordering": "last_message_at", "page_size": 2})
    second, body = page(body["next"])
    third, body = page(body["next"])
    back_to_second, body = page(body["previous"])
    back_to_first, first_body = page(body["previous"])
    forward_again, _ = page(first_body["next"])

    assert (first, second, third) == ("ae", "bc", "d")
    assert (back_to_second, back_to_first, forward_again) == ("bc", "ae", "bc")
    assert first_body["previous"] is None


def test_first_page_has_no_previous_link(
    agent_client: APIClient, ordered: dict[str, Ticket]
) -> None:
    body = agent_client.get(url("ticket-list"), {"page_size": 10}).json()

    assert body["next"] is None
    assert body["previous"] is None
    assert len(body["results"]) == 5


def test_cursor_of_another_ordering_is_refused(
    agent_client: APIClient, ordered: dict[str, Ticket]
) -> None:
    first = agent_client.get(url("ticket-list"), {"ordering": "priority", "page_size": "2"})
    cursor = first.json()["next"].split("cursor=")[1].split("&")[0]

    response = agent_client.get(f"{url('ticket-list')}?ordering=id&cursor={cursor}")

    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


def test_page_size_above_the_maximum_is_lowered(
    agent_client: APIClient, ordered: dict[str, Ticket]
) -> None:
    response = agent_client.get(url("ticket-list"), {"page_size": 1000})

    assert len(result_ids(response)) == 5


def test_a_new_ticket_does_not_shift_the_next_page(
    agent_client: APIClient, ordered: dict[str, Ticket], make_ticket: Callable[..., Ticket]
) -> None:
    """A ticket arriving while an agent pages through the list shows on the first page,
    not as a repeat on the next one."""
    names = {ticket.pk: name for name, ticket in ordered.items()}
    first = agent_client.get(url("ticket-list"), {"page_size": 2}).json()
    make_ticket()

    second = agent_client.get(first["next"]).json()

    assert [names[row["id"]] for row in first["results"]] == ["a", "c"]
    assert [names[row["id"]] for row in second["results"]] == ["b", "d"]


@pytest.fixture
def fifty_tickets(
    agent: User, support_team: Team, whatsapp_account: ChannelAccount
) -> list[Ticket]:
    customers = [create_customer(name=f"Customer {n}") for n in range(2)]
    tickets = []
    for n in range(50):
        customer = customers[n % 2]
        ticket = services.open_ticket(
            customer=customer,
            channel="whatsapp",
            channel_account=whatsapp_account,
            subject=f"Ticket {n}",
        )
        services.assign_ticket(ticket, agent, actor=agent)
        services.tag_ticket(ticket, ["vip", f"batch-{n % 3}"], actor=agent)
        services.link_order(ticket, make_order(customer, f"#{2000 + n}"), actor=agent)
        tickets.append(ticket)
    return tickets


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_query_count_does_not_grow_with_the_page(
    agent_client: APIClient,
    fifty_tickets: list[Ticket],
    page_size: int,
    django_assert_num_queries: Any,
) -> None:
    """Tickets with customer, assignee, team and account joined; tags and orders: 2 queries."""
    with django_assert_num_queries(2):
        response = agent_client.get(url("ticket-list"), {"page_size": page_size})

    rows = response.json()["results"]
    assert len(rows) == page_size
    assert all(len(row["tags"]) == 2 and len(row["orders"]) == 1 for row in rows)
    assert all(row["assignee"]["name"] == "Bob Agent" for row in rows)
    assert all(row["team"]["name"] == "Support" for row in rows)


@pytest.mark.parametrize("ordering", ["priority", "-last_message_at"])
def test_list_query_count_is_the_same_on_later_pages(
    agent_client: APIClient,
    fifty_tickets: list[Ticket],
    ordering: str,
    django_assert_num_queries: Any,
) -> None:
    first = agent_client.get(url("ticket-list"), {"page_size": "20", "ordering": ordering})

    with django_assert_num_queries(2):
        response = agent_client.get(first.json()["next"])

    assert len(response.json()["results"]) == 20


# --- Create ------------------------------------------------------------------------------------


def test_agent_opens_a_ticket_for_a_customer(
    agent_client: APIClient, agent: User, customer: Customer, returns_team: Team
) -> None:
    response = agent_client.post(
        url("ticket-list"),
        {
            "customer": customer.pk,
            "subject": "  Called about a missing parcel ",
            "channel": "email",
            "priority": "high",
            "team": returns_team.pk,
            "note": "Customer called; parcel shows delivered.",
        },
        format="json",
    )

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    body = response.json()
    assert body["id"] == ticket.pk
    assert body["number"] == ticket.number
    assert body["subject"] == "Called about a missing parcel"
    assert (body["status"], body["priority"], body["channel"]) == ("new", "high", "email")
    assert body["customer"] == {"id": customer.pk, "name": "Ana Souza", "email": "ana@example.com"}
    assert body["team"] == {"id": returns_team.pk, "name": "Returns"}
    assert body["assignee"] is None
    assert body["channel_account"] is None
    assert (ticket.customer_id, ticket.team_id, ticket.priority) == (
        customer.pk,
        returns_team.pk,
        "high",
    )
    note = ticket.messages.get()
    assert (note.kind, note.direction, note.author_agent_id, note.text) == (
        "note",
        "internal",
        agent.pk,
        "Customer called; parcel shows delivered.",
    )
    assert activities(ticket) == [
        (Verb.CREATED, agent.pk, {"channel": "email"}),
        (Verb.NOTE_ADDED, agent.pk, {"message_id": note.pk}),
    ]


def test_new_ticket_gets_the_channel_accounts_team(
    agent_client: APIClient,
    customer: Customer,
    support_team: Team,
    whatsapp_account: ChannelAccount,
) -> None:
    response = agent_client.post(
        url("ticket-list"),
        {
            "customer": customer.pk,
            "subject": "Order question",
            "channel": "whatsapp",
            "channel_account": whatsapp_account.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert (ticket.channel_account_id, ticket.team_id, ticket.priority) == (
        whatsapp_account.pk,
        support_team.pk,
        "normal",
    )
    assert ticket.messages.count() == 0
    assert response.json()["channel_account"] == {
        "id": whatsapp_account.pk,
        "name": "WhatsApp",
        "kind": "whatsapp",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer": None}, "customer"),
        ({"customer": 999999}, "customer"),
        ({"customer": "ana"}, "customer"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"channel": "fax"}, "channel"),
        ({"priority": "critical"}, "priority"),
        ({"team": 999999}, "team"),
        ({"channel_account": 999999}, "channel_account"),
        ({"note": ""}, "note"),
        ({"note": ["a", "b"]}, "note"),
        ({"status": "open"}, "status"),
        ({"number": 7}, "number"),
    ],
)
def test_create_refuses_bad_input(
    agent_client: APIClient, customer: Customer, change: dict[str, Any], field: str
) -> None:
    body = {"customer": customer.pk, "subject": "Call", "channel": "email", **change}
    before = database_state()

    response = agent_client.post(url("ticket-list"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert database_state() == before


@pytest.mark.parametrize("missing", ["customer", "subject", "channel"])
def test_create_requires_customer_subject_and_channel(
    agent_client: APIClient, customer: Customer, missing: str
) -> None:
    body = {"customer": customer.pk, "subject": "Call", "channel": "email"}
    del body[missing]

    response = agent_client.post(url("ticket-list"), body, format="json")

    assert response.status_code == 400
    assert response.json() == {missing: ["This field is required."]}
    assert Ticket.objects.count() == 0


def test_create_refuses_an_account_of_another_channel(
    agent_client: APIClient, customer: Customer, whatsapp_account: ChannelAccount
) -> None:
    response = agent_client.post(
        url("ticket-list"),
        {
            "customer": customer.pk,
            "subject": "Call",
            "channel": "email",
            "channel_account": whatsapp_account.pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "channel_account": ["This account is a whatsapp account, not email."]
    }
    assert Ticket.objects.count() == 0


def test_create_refuses_a_merged_customer(
    agent_client: APIClient, customer: Customer, agent: User
) -> None:
    duplicate = create_customer(name="Ana S.")
    merge_customers(duplicate, customer, actor=agent)
    before = database_state()

    response = agent_client.post(
        url("ticket-list"),
        {"customer": duplicate.pk, "subject": "Call", "channel": "email"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "customer": [
            f"Customer {duplicate.pk} was merged into customer {customer.pk}; "
            "open the ticket for that one."
        ]
    }
    assert database_state() == before


def test_create_refuses_a_body_that_is_not_an_object(
    agent_client: APIClient, customer: Customer
) -> None:
    response = agent_client.post(url("ticket-list"), [customer.pk], format="json")

    assert response.status_code == 400
    assert Ticket.objects.count() == 0


# --- Update ------------------------------------------------------------------------------------


def patch(client: APIClient, ticket: Ticket, body: Any) -> Any:
    return client.patch(url("ticket-detail", ticket.pk), body, format="json")


def test_patch_status(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    response = patch(agent_client, ticket, {"status": "solved"})

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "solved"
    assert ticket.solved_at is not None
    assert response.json()["status"] == "solved"
    assert response.json()["solved_at"] == iso(ticket.solved_at)
    assert activities(ticket)[-1] == (
        Verb.STATUS_CHANGED,
        agent.pk,
        {"before": "new", "after": "solved"},
    )


def test_patch_priority(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    response = patch(agent_client, ticket, {"priority": "urgent"})

    assert response.status_code == 200
    assert response.json()["priority"] == "urgent"
    assert Ticket.objects.get(pk=ticket.pk).priority == "urgent"
    assert activities(ticket)[-1] == (
        Verb.PRIORITY_CHANGED,
        agent.pk,
        {"before": "normal", "after": "urgent"},
    )


def test_patch_assignee_and_unassign(
    agent_client: APIClient, agent: User, teammate: User, ticket: Ticket
) -> None:
    assigned = patch(agent_client, ticket, {"assignee": teammate.pk})
    unassigned = patch(agent_client, ticket, {"assignee": None})

    assert assigned.json()["assignee"] == {"id": teammate.pk, "name": "Carol Agent"}
    assert unassigned.status_code == 200
    assert unassigned.json()["assignee"] is None
    assert Ticket.objects.get(pk=ticket.pk).assignee_id is None
    carol = {"id": teammate.pk, "name": "Carol Agent"}
    assert activities(ticket)[-2:] == [
        (Verb.ASSIGNED, agent.pk, {"before": None, "after": carol}),
        (Verb.UNASSIGNED, agent.pk, {"before": carol, "after": None}),
    ]


def test_patch_team_and_clear_it(
    agent_client: APIClient, agent: User, returns_team: Team, ticket: Ticket
) -> None:
    set_team = patch(agent_client, ticket, {"team": returns_team.pk})
    cleared = patch(agent_client, ticket, {"team": None})

    assert set_team.json()["team"] == {"id": returns_team.pk, "name": "Returns"}
    assert cleared.json()["team"] is None
    returns = {"id": returns_team.pk, "name": "Returns"}
    assert activities(ticket)[-2:] == [
        (Verb.TEAM_CHANGED, agent.pk, {"before": None, "after": returns}),
        (Verb.TEAM_CHANGED, agent.pk, {"before": returns, "after": None}),
    ]


def test_patch_every_field_at_once(
    agent_client: APIClient, agent: User, teammate: User, support_team: Team, ticket: Ticket
) -> None:
    """Closing and handing over in one request works: the status changes last."""
    response = patch(
        agent_client,
        ticket,
        {"status": "closed", "priority": "low", "assignee": teammate.pk, "team": support_team.pk},
    )

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id, ticket.team_id) == (
        "closed",
        "low",
        teammate.pk,
        support_team.pk,
    )
    assert [verb for verb, _, _ in activities(ticket)[-4:]] == [
        Verb.TEAM_CHANGED,
        Verb.ASSIGNED,
        Verb.PRIORITY_CHANGED,
        Verb.STATUS_CHANGED,
    ]


def test_patch_with_unchanged_values_records_nothing(
    agent_client: APIClient, ticket: Ticket
) -> None:
    before = activities(ticket)

    response = patch(agent_client, ticket, {"status": "new", "priority": "normal"})

    assert response.status_code == 200
    assert activities(ticket) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"asignee": None}, "asignee"),
        ({"status": "open", "subject": "New subject"}, "subject"),
        ({"number": 5}, "number"),
        ({"status": "bogus"}, "status"),
        ({"status": 5}, "status"),
        ({"status": None}, "status"),
        ({"priority": ["high"]}, "priority"),
        ({"assignee": "bob"}, "assignee"),
        ({"assignee": 999999}, "assignee"),
        ({"team": 999999}, "team"),
        ({"team": {"id": 1}}, "team"),
        ({}, "non_field_errors"),
    ],
)
def test_patch_refuses_bad_input(
    agent_client: APIClient, ticket: Ticket, body: dict[str, Any], field: str
) -> None:
    before = database_state()

    response = patch(agent_client, ticket, body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert database_state() == before


def test_patch_names_each_unknown_field(agent_client: APIClient, ticket: Ticket) -> None:
    """The ticket API shares the strict serializers of every other app, and their messages."""
    response = patch(agent_client, ticket, {"status": "open", "asignee": None, "number": 5})

    assert response.status_code == 400
    assert response.json() == {"asignee": ["Unknown field."], "number": ["Unknown field."]}
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_patch_unknown_ticket_is_404(agent_client: APIClient, ticket: Ticket) -> None:
    response = agent_client.patch(url("ticket-detail", 999999), {"status": "open"}, format="json")

    assert response.status_code == 404


def test_patch_closed_ticket_is_a_conflict(
    agent_client: APIClient, agent: User, ticket: Ticket
) -> None:
    services.change_status(ticket, Ticket.Status.CLOSED, actor=agent)
    before = database_state()

    response = patch(agent_client, ticket, {"status": "open"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Ticket #{ticket.number} is closed; a new message opens a follow-up."
    }
    assert database_state() == before


def test_patch_rolls_back_every_field_when_one_fails(
    agent_client: APIClient, support_team: Team, inactive_agent: User, ticket: Ticket
) -> None:
    """The team is applied before the assignee; the refused assignee undoes it."""
    before = database_state()

    response = patch(agent_client, ticket, {"team": support_team.pk, "assignee": inactive_agent.pk})

    assert response.status_code == 409
    assert response.json() == {"detail": "erin is deactivated and cannot take tickets."}
    assert database_state() == before


def test_put_is_not_allowed(agent_client: APIClient, ticket: Ticket) -> None:
    response = agent_client.put(url("ticket-detail", ticket.pk), {"status": "open"}, format="json")

    assert response.status_code == 405
