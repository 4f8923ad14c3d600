"""Tags, merging and linked orders: POST /tickets/{id}/tags/, /merge/ and /orders/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from helpdesk.models import User
from tests.tickets.api_support import activities, database_state, make_order, url
from tickets import services
from tickets.models import Message, Tag, Ticket, TicketActivity

Verb = TicketActivity.Verb


def tag_names(ticket: Ticket) -> list[str]:
    return sorted(ticket.tags.values_list("name", flat=True))


# --- Tags --------------------------------------------------------------------------------------


def test_add_tags(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    response = agent_client.post(
        url("ticket-tags", ticket.pk), {"add": [" VIP ", "Refund  request"]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["id"] == ticket.pk
    assert response.json()["tags"] == ["refund request", "vip"]
    assert tag_names(ticket) == ["refund request", "vip"]
    assert activities(ticket)[-1] == (Verb.TAGGED, agent.pk, {"tags": ["vip", "refund request"]})


def test_remove_tags(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    services.tag_ticket(ticket, ["vip", "refund"], actor=agent)

    response = agent_client.post(
        url("ticket-tags", ticket.pk), {"remove": ["VIP", "never-there"]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["tags"] == ["refund"]
    assert tag_names(ticket) == ["refund"]
    assert activities(ticket)[-1] == (Verb.UNTAGGED, agent.pk, {"tags": ["vip"]})
    assert Tag.objects.filter(name="vip").exists()


def test_add_and_remove_tags_at_once(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    services.tag_ticket(ticket, ["old"], actor=agent)

    response = agent_client.post(
        url("ticket-tags", ticket.pk), {"add": ["new"], "remove": ["old"]}, format="json"
    )

    assert response.json()["tags"] == ["new"]
    assert activities(ticket)[-2:] == [
        (Verb.TAGGED, agent.pk, {"tags": ["new"]}),
        (Verb.UNTAGGED, agent.pk, {"tags": ["old"]}),
    ]


def test_adding_a_present_tag_records_nothing(
    agent_client: APIClient, agent: User, ticket: Ticket
) -> None:
    services.tag_ticket(ticket, ["vip"], actor=agent)
    before = database_state()

    response = agent_client.post(url("ticket-tags", ticket.pk), {"add": ["vip"]}, format="json")

    assert response.status_code == 200
    assert database_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"add": []}, "non_field_errors"),
        ({"add": ["  "]}, "add"),
        ({"add": "vip"}, "add"),
        ({"add": [None]}, "add"),
        ({"add": ["x" * 51]}, "add"),
        ({"remove": [{"name": "vip"}]}, "remove"),
        ({"tags": ["vip"]}, "tags"),
        ({"add": ["vip"], "remove": ["VIP"]}, "non_field_errors"),
    ],
)
def test_tags_refuse_bad_input(
    agent_client: APIClient, ticket: Ticket, body: dict[str, Any], field: str
) -> None:
    before = database_state()

    response = agent_client.post(url("ticket-tags", ticket.pk), body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert database_state() == before


def test_tagging_a_merged_ticket_is_a_conflict(
    agent_client: APIClient, agent: User, make_ticket: Callable[..., Ticket]
) -> None:
    source, target = make_ticket(), make_ticket()
    services.merge_tickets(source, target, actor=agent)
    before = database_state()

    response = agent_client.post(url("ticket-tags", source.pk), {"add": ["vip"]}, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": f"Ticket #{source.number} was merged into another ticket."}
    assert database_state() == before


def test_tags_on_unknown_ticket_is_404(agent_client: APIClient, ticket: Ticket) -> None:
    response = agent_client.post(url("ticket-tags", 999999), {"add": ["vip"]}, format="json")

    assert response.status_code == 404
    assert Tag.objects.count() == 0


# --- Merge -------------------------------------------------------------------------------------


def test_merge_moves_the_conversation_and_returns_the_target(
    agent_client: APIClient, agent: User, make_ticket: Callable[..., Ticket]
) -> None:
    source, target = make_ticket(), make_ticket()
    services.tag_ticket(source, ["vip"], actor=agent)
    order = make_order(source.customer)
    services.link_order(source, order, actor=agent)
    source_message = source.messages.get()

    response = agent_client.post(url("ticket-merge", source.pk), {"into": target.pk}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["tags"], [row["id"] for row in body["orders"]]) == (
        target.pk,
        ["vip"],
        [order.pk],
    )
    source.refresh_from_db()
    assert (source.status, source.merged_into_id) == ("closed", target.pk)
    assert Message.objects.get(pk=source_message.pk).ticket_id == target.pk
    assert target.messages.count() == 2
    assert activities(source)[-1] == (
        Verb.MERGED_INTO,
        agent.pk,
        {"before": "new", "target": {"id": target.pk, "number": target.number}, "messages": 1},
    )
    assert activities(target)[-1] == (
        Verb.MERGED_FROM,
        agent.pk,
        {"source": {"id": source.pk, "number": source.number}, "messages": 1},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "into"),
        ({"into": None}, "into"),
        ({"into": 999999}, "into"),
        ({"into": "next"}, "into"),
        ({"target": 1}, "target"),
    ],
)
def test_merge_refuses_bad_input(
    agent_client: APIClient,
    make_ticket: Callable[..., Ticket],
    body: dict[str, Any],
    field: str,
) -> None:
    source, _ = make_ticket(), make_ticket()
    before = database_state()

    response = agent_client.post(url("ticket-merge", source.pk), body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert database_state() == before


def test_merge_into_itself_is_refused(agent_client: APIClient, ticket: Ticket) -> None:
    before = database_state()

    response = agent_client.post(url("ticket-merge", ticket.pk), {"into": ticket.pk}, format="json")

    assert response.status_code == 400
    assert response.json() == {"into": ["A ticket cannot be merged into itself."]}
    assert database_state() == before


def test_merge_into_a_closed_ticket_is_a_conflict(
    agent_client: APIClient, agent: User, make_ticket: Callable[..., Ticket]
) -> None:
    source, target = make_ticket(), make_ticket()
    services.change_status(target, Ticket.Status.CLOSED, actor=agent)
    before = database_state()

    response = agent_client.post(url("ticket-merge", source.pk), {"into": target.pk}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Ticket #{target.number} is closed; merge into an active ticket."
    }
    assert database_state() == before


def test_merge_of_unknown_ticket_is_404(agent_client: APIClient, ticket: Ticket) -> None:
    before = database_state()

    response = agent_client.post(url("ticket-merge", 999999), {"into": ticket.pk}, format="json")

    assert response.status_code == 404
    assert database_state() == before


# --- Orders ------------------------------------------------------------------------------------


def test_link_an_order(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    order = make_order(ticket.customer, "#1001", financial_status="paid")

    response = agent_client.post(
        url("ticket-orders", ticket.pk), {"order": order.pk}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["orders"] == [
        {
            "id": order.pk,
            "number": "#1001",
            "placed_at": "2025-03-01T09:00:00Z",
            "financial_status": "paid",
            "fulfillment_status": "unfulfilled",
        }
    ]
    assert list(ticket.orders.values_list("pk", flat=True)) == [order.pk]
    assert activities(ticket)[-1] == (
        Verb.ORDER_LINKED,
        agent.pk,
        {"order": {"id": order.pk, "number": "#1001"}},
    )


def test_linking_an_order_twice_records_it_once(agent_client: APIClient, ticket: Ticket) -> None:
    order = make_order(ticket.customer)

    for _ in range(2):
        response = agent_client.post(
            url("ticket-orders", ticket.pk), {"order": order.pk}, format="json"
        )
        assert response.status_code == 200

    assert [verb for verb, _, _ in activities(ticket)].count(Verb.ORDER_LINKED) == 1
    assert ticket.orders.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "order"),
        ({"order": 999999}, "order"),
        ({"order": "#1001"}, "order"),
        ({"order": None}, "order"),
        ({"orders": [1]}, "orders"),
    ],
)
def test_link_order_refuses_bad_input(
    agent_client: APIClient, ticket: Ticket, body: dict[str, Any], field: str
) -> None:
    make_order(ticket.customer)
    before = database_state()

    response = agent_client.post(url("ticket-orders", ticket.pk), body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert database_state() == before


def test_unlink_an_order(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    kept, removed = make_order(ticket.customer, "#1"), make_order(ticket.customer, "#2")
    services.link_order(ticket, kept, actor=agent)
    services.link_order(ticket, removed, actor=agent)

    response = agent_client.delete(url("ticket-order", ticket.pk, removed.pk))

    assert response.status_code == 204
    assert list(ticket.orders.values_list("pk", flat=True)) == [kept.pk]
    assert activities(ticket)[-1] == (
        Verb.ORDER_UNLINKED,
        agent.pk,
        {"order": {"id": removed.pk, "number": "#2"}},
    )


def test_unlink_an_order_that_is_not_linked_is_404(agent_client: APIClient, ticket: Ticket) -> None:
    order = make_order(ticket.customer)
    before = database_state()

    response = agent_client.delete(url("ticket-order", ticket.pk, order.pk))

    assert response.status_code == 404
    assert response.json() == {
        "detail": f"Order {order.pk} is not linked to ticket #{ticket.number}."
    }
    assert database_state() == before


@pytest.mark.parametrize(
    "path", ["/api/v1/tickets/999999/orders/1/", "/api/v1/tickets/1/orders/x/"]
)
def test_unlink_with_unknown_ids_is_404(agent_client: APIClient, ticket: Ticket, path: str) -> None:
    before = database_state()

    response = agent_client.delete(path)

    assert response.status_code == 404
    assert database_state() == before
