"""The customer page: handles, every ticket, orders, merge into another customer and
un-merge, through the customers' services."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from customers.models import Customer, CustomerMerge, Identity
from customers.services import add_identity, merge_customers, upsert_order
from helpdesk.models import User
from tickets.models import Ticket

MakeTicket = Callable[..., Ticket]


@pytest.fixture
def ana(make_ticket: MakeTicket) -> Customer:
    """Ana, with two email tickets, a WhatsApp handle and an order."""
    first = make_ticket(sender_address="ana@example.com", sender_name="Ana Souza", subject="Lamp")
    make_ticket(sender_address="ana@example.com", sender_name="Ana Souza", subject="Invoice")
    customer = first.customer
    add_identity(customer, kind="whatsapp", address="+14155550111")
    upsert_order(
        store="shop",
        external_id="o-1",
        number="#1042",
        placed_at=datetime(2026, 3, 1, tzinfo=UTC),
        currency="EUR",
        total=Decimal("84.95"),
        customer=customer,
    )
    return customer


@pytest.fixture
def duplicate(make_ticket: MakeTicket) -> Customer:
    """Ana again, as a WhatsApp-only customer with one ticket."""
    ticket = make_ticket(channel="whatsapp", sender_address="+351912345678", subject="Oi")
    return ticket.customer


def test_the_page_shows_handles_tickets_and_orders(bob_client: Client, ana: Customer) -> None:
    response = bob_client.get(f"/customers/{ana.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="customer-name">Ana Souza</h1>' in html
    assert "ana@example.com" in html
    assert "+14155550111" in html
    assert re.findall(r'class="other-subject">#\d+ (\w+)<', html) == ["Invoice", "Lamp"]
    assert "#1042" in html
    assert "84.95 EUR" in html


def test_the_page_costs_the_same_queries_for_more_tickets(
    bob_client: Client, ana: Customer, make_ticket: MakeTicket, django_assert_num_queries: Any
) -> None:
    bob_client.get(f"/customers/{ana.pk}/")
    # Session, user; the inbox beside it (the tickets' version, rows, their tags, agents,
    # teams, tags, saved views); the customer with handles, latest tickets, orders and their
    # lines; all the tickets; merges into the customer. The view counts come from the cache
    # while no ticket changes, and cost three more queries when one did (the shared views'
    # unsolved and solved counts, the agent's own).
    with django_assert_num_queries(15):
        bob_client.get(f"/customers/{ana.pk}/")
    for _ in range(4):
        make_ticket(sender_address="ana@example.com", sender_name="Ana Souza")
    with django_assert_num_queries(18):
        response = bob_client.get(f"/customers/{ana.pk}/")
    assert response.content.count(b'class="other-subject"') == 6


def test_an_unknown_customer_is_not_found(bob_client: Client, db: None) -> None:
    assert bob_client.get("/customers/999999/").status_code == 404


def test_the_page_needs_a_signed_in_agent(client: Client, ana: Customer) -> None:
    response = client.get(f"/customers/{ana.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_merge_moves_everything_and_unmerge_gives_it_back(
    bob_client: Client,
    ana: Customer,
    duplicate: Customer,
    agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        merged = bob_client.post(f"/customers/{duplicate.pk}/merge/", {"into": "ANA@example.com"})

    assert merged.status_code == 302
    assert merged["Location"] == f"/customers/{ana.pk}/"
    assert Ticket.objects.filter(customer=ana).count() == 3
    assert set(Identity.objects.filter(customer=ana).values_list("address", flat=True)) == {
        "ana@example.com",
        "+14155550111",
        "+351912345678",
    }
    page = bob_client.get(merged["Location"]).content.decode()
    merge = CustomerMerge.objects.get()
    assert merge.merged_by == agent
    assert f'action="/customers/merges/{merge.pk}/undo/"' in page
    away = bob_client.get(f"/customers/{duplicate.pk}/").content.decode()
    assert "Merged into" in away
    assert 'id="merge-into"' not in away

    with django_capture_on_commit_callbacks(execute=True):
        undone = bob_client.post(f"/customers/merges/{merge.pk}/undo/")

    assert undone.status_code == 302
    assert undone["Location"] == f"/customers/{duplicate.pk}/"
    assert Ticket.objects.filter(customer=ana).count() == 2
    assert Ticket.objects.filter(customer=duplicate).count() == 1
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None


@pytest.mark.parametrize(
    ("into", "status", "message"),
    [
        ("", 400, "Type the customer to merge into."),
        ("nobody@example.com", 400, "No customer has that number or email address."),
        ("#999999", 400, "No customer has that number or email address."),
        ("self", 409, "A customer cannot be merged into itself."),
    ],
)
def test_bad_merges_are_refused_and_move_nothing(
    bob_client: Client, ana: Customer, into: str, status: int, message: str
) -> None:
    into = str(ana.pk) if into == "self" else into

    response = bob_client.post(f"/customers/{ana.pk}/merge/", {"into": into})

    assert response.status_code == status
    assert message in response.content.decode()
    assert not CustomerMerge.objects.exists()


def test_an_undone_merge_cannot_be_undone_again(
    bob_client: Client,
    ana: Customer,
    duplicate: Customer,
    agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        merge = merge_customers(duplicate, ana, actor=agent)
        bob_client.post(f"/customers/merges/{merge.pk}/undo/")
        again = bob_client.post(f"/customers/merges/{merge.pk}/undo/")

    assert again.status_code == 409
    assert "This merge has already been undone." in again.content.decode()
    assert Ticket.objects.filter(customer=duplicate).count() == 1


def test_merge_and_unmerge_need_a_post_and_a_signed_in_agent(
    client: Client, bob_client: Client, ana: Customer, duplicate: Customer
) -> None:
    anonymous = client.post(f"/customers/{duplicate.pk}/merge/", {"into": str(ana.pk)})
    get = bob_client.get(f"/customers/{duplicate.pk}/merge/")
    unknown = bob_client.post("/customers/merges/999999/undo/")

    assert anonymous.status_code == 302
    assert get.status_code == 405
    assert unknown.status_code == 404
    assert not CustomerMerge.objects.exists()


def test_the_ticket_panel_links_to_the_customer_page(bob_client: Client, ana: Customer) -> None:
    ticket = Ticket.objects.filter(customer=ana).first()
    assert ticket is not None

    response = bob_client.get(f"/tickets/{ticket.number}/")

    assert f'<a href="/customers/{ana.pk}/">Customer page</a>'.encode() in response.content
