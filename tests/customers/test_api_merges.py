"""Merging duplicate customers through the API, and undoing it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from customers.models import Customer, CustomerMerge, Identity, Order
from customers.services import add_identity, create_customer, merge_customers, upsert_order
from helpdesk.models import User
from tickets.models import Message, Ticket

CUSTOMERS = "/api/v1/customers/"
MERGES = "/api/v1/customer-merges/"


def _order(customer: Customer, external_id: str) -> Order:
    order, _ = upsert_order(
        store="shopify",
        external_id=external_id,
        number=f"#{external_id}",
        placed_at=datetime(2025, 3, 1, tzinfo=UTC),
        currency="EUR",
        total=Decimal("12.50"),
        customer=customer,
    )
    return order


@pytest.fixture
def duplicates(make_ticket: Callable[..., Ticket]) -> dict[str, Any]:
    """Ana wrote by email and, as "Ana WhatsApp", from her phone: two customers."""
    email_ticket = make_ticket(sender_address="ana@example.com", sender_name="Ana Souza")
    phone_ticket = make_ticket(
        channel="whatsapp", sender_address="+14155550123", sender_name="Ana WhatsApp"
    )
    ana = email_ticket.customer
    phone = phone_ticket.customer
    add_identity(phone, kind="sms", address="+14155550123")
    Customer.objects.filter(pk=phone.pk).update(tags=["vip"], locale="pt-BR")
    return {
        "ana": ana,
        "phone": phone,
        "email_ticket": email_ticket,
        "phone_ticket": phone_ticket,
        "ana_order": _order(ana, "1001"),
        "phone_order": _order(phone, "1002"),
    }


def _holdings(customer: Customer) -> dict[str, list[Any]]:
    return {
        "identities": sorted(
            Identity.objects.filter(customer=customer).values_list("kind", "address")
        ),
        "tickets": sorted(Ticket.objects.filter(customer=customer).values_list("pk", flat=True)),
        "orders": sorted(Order.objects.filter(customer=customer).values_list("pk", flat=True)),
        "messages": sorted(
            Message.objects.filter(author_customer=customer).values_list("pk", flat=True)
        ),
    }


def test_merge_then_undo_keeps_every_handle_ticket_and_order(
    agent_client: APIClient, agent: User, duplicates: dict[str, Any]
) -> None:
    ana, phone = duplicates["ana"], duplicates["phone"]
    ana_before, phone_before = _holdings(ana), _holdings(phone)

    merged = agent_client.post(f"{CUSTOMERS}{phone.pk}/merge/", {"into": ana.pk})

    assert merged.status_code == 201
    record = merged.json()
    assert record["source"] == {"id": phone.pk, "name": "Ana WhatsApp"}
    assert record["target"] == {"id": ana.pk, "name": "Ana Souza"}
    assert record["merged_by"] == {"id": agent.pk, "name": "Bob Agent"}
    assert record["undone_at"] is None
    assert record["moved"]["customers.identity.customer"] == 2
    assert record["moved"]["tickets.ticket.customer"] == 1
    assert record["moved"]["customers.order.customer"] == 1
    assert _holdings(ana) == {
        key: sorted(ana_before[key] + phone_before[key]) for key in ana_before
    }
    assert _holdings(phone) == {"identities": [], "tickets": [], "orders": [], "messages": []}
    target = agent_client.get(f"{CUSTOMERS}{ana.pk}/").json()
    assert sorted(row["id"] for row in target["tickets"]) == sorted(
        [duplicates["email_ticket"].pk, duplicates["phone_ticket"].pk]
    )
    assert sorted(row["id"] for row in target["orders"]) == sorted(
        [duplicates["ana_order"].pk, duplicates["phone_order"].pk]
    )
    assert target["tags"] == ["vip"]
    assert target["locale"] == "pt-BR"
    assert phone.pk not in [row["id"] for row in agent_client.get(CUSTOMERS).json()["results"]]

    undone = agent_client.post(f"{MERGES}{record['id']}/undo/")

    assert undone.status_code == 200
    assert undone.json()["undone_by"] == {"id": agent.pk, "name": "Bob Agent"}
    assert undone.json()["undone_at"] is not None
    assert _holdings(ana) == ana_before
    assert _holdings(phone) == phone_before
    ana.refresh_from_db()
    phone.refresh_from_db()
    assert (ana.tags, ana.locale, phone.merged_into_id) == ([], "", None)
    listed = [row["id"] for row in agent_client.get(CUSTOMERS).json()["results"]]
    assert phone.pk in listed


def test_merge_lists_newest_first_and_filters_by_customer(
    agent_client: APIClient, duplicates: dict[str, Any]
) -> None:
    ana, phone = duplicates["ana"], duplicates["phone"]
    third = create_customer(name="Third")
    fourth = create_customer(name="Fourth")
    first = merge_customers(phone, ana, actor=None)
    second = merge_customers(fourth, third, actor=None)

    everything = agent_client.get(MERGES).json()["results"]
    for_ana = agent_client.get(MERGES, {"customer": ana.pk}).json()["results"]
    for_fourth = agent_client.get(MERGES, {"customer": fourth.pk}).json()["results"]
    agent_client.post(f"{MERGES}{first.pk}/undo/")
    undone = agent_client.get(MERGES, {"undone": "true"}).json()["results"]
    active = agent_client.get(MERGES, {"undone": "false"}).json()["results"]

    assert [row["id"] for row in everything] == [second.pk, first.pk]
    assert [row["id"] for row in for_ana] == [first.pk]
    assert [row["id"] for row in for_fourth] == [second.pk]
    assert [row["id"] for row in undone] == [first.pk]
    assert [row["id"] for row in active] == [second.pk]


@pytest.mark.parametrize("page_size", [5, 50])
def test_merge_list_query_count_does_not_grow_with_the_page(
    agent_client: APIClient, agent: User, django_assert_num_queries: Any, page_size: int
) -> None:
    for number in range(60):
        source = create_customer(name=f"Source {number}")
        target = create_customer(name=f"Target {number}")
        merge_customers(source, target, actor=agent)

    with django_assert_num_queries(1):
        response = agent_client.get(MERGES, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


def test_undoing_twice_is_a_409(agent_client: APIClient, duplicates: dict[str, Any]) -> None:
    merge = merge_customers(duplicates["phone"], duplicates["ana"], actor=None)
    assert agent_client.post(f"{MERGES}{merge.pk}/undo/").status_code == 200
    holdings = _holdings(duplicates["phone"])

    response = agent_client.post(f"{MERGES}{merge.pk}/undo/")

    assert response.status_code == 409
    assert response.json()["detail"] == "This merge has already been undone."
    assert _holdings(duplicates["phone"]) == holdings


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"into": 999999}, {"into": ['Invalid pk "999999" - object does not exist.']}),
        ({"into": "ana"}, {"into": ["Incorrect type. Expected pk value, received str."]}),
        ({}, {"into": ["This field is required."]}),
        ({"into": None}, {"into": ["This field may not be null."]}),
        ({"into": "{source}"}, {"into": ["A customer cannot be merged into itself."]}),
        ({"into": "{target}", "keep": "source"}, {"keep": ["Unknown field."]}),
    ],
)
def test_bad_merge_requests_are_a_400_and_change_nothing(
    agent_client: APIClient,
    duplicates: dict[str, Any],
    body: dict[str, Any],
    errors: dict[str, list[str]],
) -> None:
    ana, phone = duplicates["ana"], duplicates["phone"]
    replacements = {"{source}": phone.pk, "{target}": ana.pk}
    body = {key: replacements.get(value, value) for key, value in body.items()}
    before = (_holdings(ana), _holdings(phone))

    response = agent_client.post(f"{CUSTOMERS}{phone.pk}/merge/", body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert (_holdings(ana), _holdings(phone)) == before
    assert CustomerMerge.objects.count() == 0


def test_merging_an_already_merged_customer_is_a_409(
    agent_client: APIClient, duplicates: dict[str, Any]
) -> None:
    ana, phone = duplicates["ana"], duplicates["phone"]
    merge_customers(phone, ana, actor=None)
    third = create_customer(name="Third")

    again = agent_client.post(f"{CUSTOMERS}{phone.pk}/merge/", {"into": third.pk})
    into_merged = agent_client.post(f"{CUSTOMERS}{third.pk}/merge/", {"into": phone.pk})

    assert again.status_code == 409
    assert "already merged" in again.json()["detail"]
    assert into_merged.status_code == 409
    assert CustomerMerge.objects.count() == 1


@pytest.mark.parametrize("path", ["999999/undo/", "abc/undo/", "999999/"])
def test_unknown_merge_is_a_404(agent_client: APIClient, db: None, path: str) -> None:
    method = agent_client.post if path.endswith("undo/") else agent_client.get

    assert method(f"{MERGES}{path}").status_code == 404


def test_merges_are_not_created_or_deleted_directly(
    admin_client_api: APIClient, duplicates: dict[str, Any]
) -> None:
    merge = merge_customers(duplicates["phone"], duplicates["ana"], actor=None)

    assert admin_client_api.post(MERGES, {"source": 1, "target": 2}).status_code == 405
    assert admin_client_api.delete(f"{MERGES}{merge.pk}/").status_code == 405
    assert CustomerMerge.objects.get().undone_at is None
