"""The ticket list's rows as ``tickets.queries`` builds them from ``.values()`` and one
related-rows query: names of the assignee, team and channel account, tags and orders, for
many tickets at once, against what the declared serializer fields would give."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount
from customers.models import Customer
from helpdesk.models import Team, User
from tests.tickets.api_support import make_order, url
from tickets import services
from tickets.api.serializers import TicketSerializer
from tickets.models import Ticket
from tickets.queries import attach_related, ticket_list_queryset


def declared_representation(ticket_id: int) -> dict[str, Any]:
    """The row as DRF builds it from the serializer's declared fields, on a full instance."""
    ticket = Ticket.objects.prefetch_related("tags", "orders").get(pk=ticket_id)
    serializer = TicketSerializer(ticket)
    return dict(serializers.ModelSerializer.to_representation(serializer, ticket))


@pytest.mark.parametrize(
    ("display_name", "first_name", "last_name", "expected"),
    [
        ("Bobby", "Bob", "Agent", "Bobby"),
        ("", "Bob", "Agent", "Bob Agent"),
        ("", " Bob ", "", "Bob"),
        ("", "", "", "bob"),
    ],
)
def test_listed_assignee_name_falls_back_like_the_user_model(
    agent_client: APIClient,
    ticket: Ticket,
    agent: User,
    display_name: str,
    first_name: str,
    last_name: str,
    expected: str,
) -> None:
    User.objects.filter(pk=agent.pk).update(
        display_name=display_name, first_name=first_name, last_name=last_name, username="bob"
    )
    services.assign_ticket(ticket, agent, actor=agent)

    (row,) = agent_client.get(url("ticket-list")).json()["results"]

    assert row["assignee"] == {"id": agent.pk, "name": expected}
    assert expected == User.objects.get(pk=agent.pk).name


def test_rows_of_tickets_with_different_relations_equal_the_declared_fields(
    agent_client: APIClient,
    make_ticket: Callable[..., Ticket],
    customer: Customer,
    agent: User,
    teammate: User,
    support_team: Team,
    returns_team: Team,
    whatsapp_account: ChannelAccount,
    email_account: ChannelAccount,
) -> None:
    """Each row gets its own assignee, team, account, tags and orders, and only its own."""
    bobs = make_ticket()
    services.assign_ticket(bobs, agent, actor=agent)
    services.assign_team(bobs, support_team, actor=agent)
    services.tag_ticket(bobs, ["vip", "refund"], actor=agent)
    services.link_order(bobs, make_order(customer, "#1"), actor=agent)
    carols = services.open_ticket(
        customer=customer, channel="whatsapp", channel_account=whatsapp_account
    )
    services.assign_ticket(carols, teammate, actor=teammate)
    services.assign_team(carols, returns_team, actor=teammate)
    services.tag_ticket(carols, ["shipping"], actor=teammate)
    services.link_order(carols, make_order(customer, "#2"), actor=teammate)
    mailed = services.open_ticket(customer=customer, channel="email", channel_account=email_account)
    bare = make_ticket()
    tickets = [bare, mailed, carols, bobs]

    rows = agent_client.get(url("ticket-list"), {"ordering": "id"}).json()["results"]

    assert rows == [declared_representation(ticket.pk) for ticket in sorted(tickets, key=id_of)]
    by_id = {row["id"]: row for row in rows}
    assert by_id[bobs.pk]["assignee"] == {"id": agent.pk, "name": "Bob Agent"}
    assert by_id[carols.pk]["assignee"] == {"id": teammate.pk, "name": "Carol Agent"}
    assert by_id[carols.pk]["team"] == {"id": returns_team.pk, "name": "Returns"}
    assert by_id[mailed.pk]["channel_account"] == {
        "id": email_account.pk,
        "name": email_account.name,
        "kind": "email",
    }
    assert by_id[bare.pk]["assignee"] is None
    assert by_id[bare.pk]["team"] is None
    assert by_id[bare.pk]["channel_account"] is None
    assert by_id[bobs.pk]["tags"] == ["refund", "vip"]
    assert [order["number"] for order in by_id[carols.pk]["orders"]] == ["#2"]


def id_of(ticket: Ticket) -> int:
    return ticket.pk


def test_a_relation_whose_row_is_gone_is_shown_empty(
    ticket: Ticket, agent: User, support_team: Team, whatsapp_account: ChannelAccount
) -> None:
    """A row read before its agent, team or account was deleted shows none, as the
    ticket will once the foreign keys are cleared, instead of failing the page."""
    services.assign_ticket(ticket, agent, actor=agent)
    (row,) = ticket_list_queryset().filter(pk=ticket.pk)
    row.update(assignee_id=999_999, team_id=999_998, channel_account_id=999_997)

    attach_related([row])

    data = TicketSerializer(row).data
    assert (data["assignee"], data["team"], data["channel_account"]) == (None, None, None)


@pytest.mark.parametrize(
    ("parameter", "noun"),
    [
        ("assignee", "agent"),
        ("team", "team"),
        ("channel_account", "channel account"),
        ("customer", "customer"),
    ],
)
@pytest.mark.parametrize("value", ["999999", "9223372036854775808", "99999999999999999999999"])
def test_ids_that_name_no_row_are_400_whatever_their_size(
    agent_client: APIClient, ticket: Ticket, parameter: str, noun: str, value: str
) -> None:
    response = agent_client.get(url("ticket-list"), {parameter: value})

    assert response.status_code == 400
    assert response.json() == {parameter: [f"No {noun} with id {value}."]}
