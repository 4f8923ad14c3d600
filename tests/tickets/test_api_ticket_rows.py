"""The ticket list's hand-built rows (``TicketSerializer.to_representation`` over
``tickets.queries.ticket_rows``) against what the declared serializer fields would give."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_filters.utils import translate_validation
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from channels_inbox.models import ChannelAccount
from customers.models import Customer
from helpdesk.models import Team, User
from tests.tickets.api_support import T0, make_order, result_ids, url
from tickets import services
from tickets.api.filters import QuickFilterSet, TicketFilter
from tickets.api.serializers import TicketSerializer
from tickets.models import Ticket
from tickets.queries import ticket_rows


def declared_representation(ticket_id: int) -> dict[str, Any]:
    """The row as DRF builds it from the serializer's declared fields, on a full instance."""
    ticket = Ticket.objects.prefetch_related("tags", "orders").get(pk=ticket_id)
    serializer = TicketSerializer(ticket)
    return dict(serializers.ModelSerializer.to_representation(serializer, ticket))


@pytest.fixture
def full_ticket(
    customer: Customer, agent: User, support_team: Team, whatsapp_account: ChannelAccount
) -> Ticket:
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
    services.assign_team(ticket, support_team, actor=agent)
    services.tag_ticket(ticket, ["vip", "refund", "zipper"], actor=agent)
    # The customer wrote a minute ago, so WhatsApp's 24-hour window is open for the reply.
    Ticket.objects.filter(pk=ticket.pk).update(
        last_customer_message_at=timezone.now() - timedelta(minutes=1)
    )
    services.add_reply(ticket, author=agent, text="On it", status=Ticket.Status.SOLVED)
    services.link_order(ticket, make_order(customer, "#1001"), actor=agent)
    later = make_order(customer, "#1002", placed_at=T0 + timedelta(days=1, microseconds=5))
    services.link_order(ticket, later, actor=agent)
    return ticket


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Sao_Paulo"])
def test_hand_built_row_equals_the_declared_fields(full_ticket: Ticket, zone: str) -> None:
    (loaded,) = ticket_rows([full_ticket.pk])

    with timezone.override(zone):
        row = TicketSerializer(loaded).data
        expected = declared_representation(full_ticket.pk)

    assert row == expected
    assert list(row) == list(expected)
    assert row["tags"] == ["refund", "vip", "zipper"]
    assert [order["number"] for order in row["orders"]] == ["#1002", "#1001"]
    assert row["team"] == {"id": full_ticket.team_id, "name": "Support"}
    assert row["solved_at"] is not None


def test_row_without_relations_equals_the_declared_fields(ticket: Ticket) -> None:
    (loaded,) = ticket_rows([ticket.pk])

    row = TicketSerializer(loaded).data

    assert row == declared_representation(ticket.pk)
    assert row["assignee"] is None
    assert row["team"] is None
    assert row["channel_account"] is None
    assert row["tags"] == []
    assert row["orders"] == []


@pytest.mark.parametrize(
    ("display_name", "first_name", "last_name", "expected"),
    [
        ("Bobby", "Bob", "Agent", "Bobby"),
        ("", "Bob", "Agent", "Bob Agent"),
        ("", "", "", "bob"),
    ],
)
def test_assignee_name_falls_back_like_the_user_model(
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

    (loaded,) = ticket_rows([ticket.pk])

    assert TicketSerializer(loaded).data["assignee"] == {"id": agent.pk, "name": expected}


def test_serializer_falls_back_to_the_relations_without_ticket_rows(full_ticket: Ticket) -> None:
    plain = Ticket.objects.get(pk=full_ticket.pk)

    row = TicketSerializer(plain).data

    assert row == declared_representation(full_ticket.pk)


def test_ticket_rows_keeps_the_order_given_and_skips_unknown_ids(
    make_ticket: Callable[..., Ticket],
) -> None:
    first, second = make_ticket(), make_ticket()

    loaded = ticket_rows([second.pk, 999_999, first.pk])

    assert [ticket.pk for ticket in loaded] == [second.pk, first.pk]
    assert ticket_rows([]) == []


def test_tags_and_orders_land_on_their_own_ticket_in_the_declared_order(
    customer: Customer, agent: User, make_ticket: Callable[..., Ticket]
) -> None:
    first, second, bare = make_ticket(), make_ticket(), make_ticket()
    services.tag_ticket(first, ["b", "a"], actor=agent)
    services.tag_ticket(second, ["c"], actor=agent)
    older, tied_low, tied_high = (
        make_order(customer, "#1"),
        make_order(customer, "#2", placed_at=T0 + timedelta(hours=1)),
        make_order(customer, "#3", placed_at=T0 + timedelta(hours=1)),
    )
    for order in (older, tied_low, tied_high):
        services.link_order(first, order, actor=agent)
    services.link_order(second, older, actor=agent)

    loaded = ticket_rows([first.pk, second.pk, bare.pk])

    rows = [TicketSerializer(ticket).data for ticket in loaded]
    assert rows == [declared_representation(ticket.pk) for ticket in (first, second, bare)]
    assert [row["tags"] for row in rows] == [["a", "b"], ["c"], []]
    assert [[order["number"] for order in row["orders"]] for row in rows] == [
        ["#3", "#2", "#1"],
        ["#1"],
        [],
    ]


def test_list_rows_equal_the_detail(agent_client: APIClient, full_ticket: Ticket) -> None:
    listed = agent_client.get(url("ticket-list"), {"tag": "vip"}).json()["results"]
    detail = agent_client.get(url("ticket-detail", full_ticket.pk)).json()

    assert listed == [detail]
    assert detail == declared_representation(full_ticket.pk)


def test_list_never_reads_password_hashes_or_credentials(
    agent_client: APIClient, full_ticket: Ticket
) -> None:
    with CaptureQueriesContext(connection) as captured:
        response = agent_client.get(url("ticket-list"))

    ticket_sql = [q["sql"] for q in captured.captured_queries if "tickets_ticket" in q["sql"]]
    assert response.status_code == 200
    assert len(ticket_sql) == 2
    assert not [sql for sql in ticket_sql if "password" in sql or "credentials" in sql]


def test_tag_filter_needs_every_tag(
    agent_client: APIClient, make_ticket: Callable[..., Ticket], agent: User
) -> None:
    both, only_vip = make_ticket(), make_ticket()
    services.tag_ticket(both, ["vip", "refund"], actor=agent)
    services.tag_ticket(only_vip, ["vip"], actor=agent)

    response = agent_client.get(f"{url('ticket-list')}?tag=vip&tag=refund")

    assert result_ids(response) == [both.pk]


@pytest.mark.parametrize("query", ["format=json", "page_size=1&ordering=id", ""])
def test_list_without_filters_answers(
    agent_client: APIClient, make_ticket: Callable[..., Ticket], query: str
) -> None:
    first, second = make_ticket(), make_ticket()

    response = agent_client.get(f"{url('ticket-list')}?{query}")

    assert response.status_code == 200
    expected = [first.pk] if query.startswith("page_size") else [second.pk, first.pk]
    assert result_ids(response) == expected


@pytest.mark.parametrize("query", ["stauts=open", "page_size=5&tga=vip", "format=json&x="])
def test_unknown_parameter_is_400_without_filters_too(
    agent_client: APIClient, ticket: Ticket, query: str
) -> None:
    response = agent_client.get(f"{url('ticket-list')}?{query}")

    assert response.status_code == 400


# --- QuickFilterSet against django-filter's FilterSet -------------------------------------------

PARITY_QUERIES = [
    "status=open",
    "status=open,pending&status=new",
    "status=",
    "status=nope",
    "priority=high&channel=whatsapp",
    "channel=fax",
    "assignee=me",
    "assignee=none&team=none",
    "assignee=999999",
    "assignee=-3",
    "assignee=abc&team=x&customer=0",
    "channel_account=none",
    "tag=vip&tag=refund",
    "tag=" + "x" * 200,
    "updated_since=2025-03-01T09:00:00Z",
    "updated_since=2025-03-01T09:00:00 01:00",
    "updated_since=2025-03-01T09:00:00",
    "updated_since=yesterday",
    "status=open&status=open&assignee=me&assignee=none",
]


@pytest.mark.parametrize("query", PARITY_QUERIES)
def test_quick_filterset_matches_the_filterset(
    agent: User, full_ticket: Ticket, make_ticket: Callable[..., Ticket], query: str
) -> None:
    make_ticket()
    request = Request(APIRequestFactory().get(f"/?{query}"))
    request.user = agent
    queryset = Ticket.objects.all()

    quick = QuickFilterSet(TicketFilter, request.query_params, queryset, request)
    full = TicketFilter(request.query_params, queryset=queryset, request=request)

    assert quick.is_valid() == full.is_valid()
    if full.is_valid():
        assert sorted(quick.qs.values_list("pk", flat=True)) == sorted(
            full.qs.values_list("pk", flat=True)
        )
    else:
        assert translate_validation(quick.errors).detail == (
            translate_validation(full.errors).detail
        )


def test_assignee_me_filters_by_the_requesting_agent(
    agent_client: APIClient, full_ticket: Ticket, make_ticket: Callable[..., Ticket]
) -> None:
    make_ticket()

    response = agent_client.get(url("ticket-list"), {"assignee": "me"})

    assert result_ids(response) == [full_ticket.pk]
