"""Helpers shared by the ticket API tests (tests/tickets/test_api_*.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Customer, Order
from tickets.models import Attachment, Message, Ticket, TicketActivity

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def url(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


def result_ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def walk(client: APIClient, start: str, params: dict[str, Any] | None = None) -> list[int]:
    """Every id of a paginated list, following next links; each page must not be empty."""
    response = client.get(start, params or {})
    ids = result_ids(response)
    pages = 1
    while response.json()["next"]:
        response = client.get(response.json()["next"])
        page = result_ids(response)
        assert page, "a next link led to an empty page"
        ids += page
        pages += 1
        assert pages < 100
    return ids


def database_state() -> dict[str, Any]:
    """Everything an API write could change, to assert that a refused request changed none."""
    return {
        "tickets": list(Ticket.objects.order_by("id").values()),
        "tags": sorted(Ticket.tags.through.objects.values_list("ticket_id", "tag_id")),
        "orders": sorted(Ticket.orders.through.objects.values_list("ticket_id", "order_id")),
        "messages": list(Message.objects.order_by("id").values("id", "ticket_id", "text")),
        "attachments": Attachment.objects.count(),
        "activities": list(TicketActivity.objects.order_by("id").values_list("id", "verb")),
    }


def make_order(customer: Customer | None, number: str = "#1001", **fields: Any) -> Order:
    defaults: dict[str, Any] = {
        "store": "shop",
        "external_id": number.lstrip("#"),
        "number": number,
        "placed_at": T0,
        "currency": "EUR",
        "total": Decimal("49.90"),
    }
    defaults.update(fields)
    return Order.objects.create(customer=customer, **defaults)


def activities(ticket: Ticket) -> list[tuple[str, int | None, dict[str, Any]]]:
    return [
        (activity.verb, activity.actor_id, activity.data)
        for activity in TicketActivity.objects.filter(ticket=ticket).order_by("id")
    ]
