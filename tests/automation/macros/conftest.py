"""Macros' fixtures: an order linked to the ticket, macros of each kind."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from customers.models import Order
from tests.workspace.browser.conftest import asgi_server, browser, page  # noqa: F401 - browser test
from tickets.models import Ticket


@pytest.fixture
def order(ticket: Ticket) -> Order:
    """Ana's order #1001, shipped with a tracking link, linked to her ticket."""
    placed = Order.objects.create(
        customer=ticket.customer,
        store="shop",
        external_id="1001",
        number="#1001",
        placed_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
        currency="EUR",
        total=Decimal("59.90"),
        tracking=[{"carrier": "DHL", "number": "JD01", "url": "https://track.test/JD01"}],
    )
    ticket.orders.add(placed)
    return placed
