"""/api/v1/orders/: agents read orders; admins may enter one by hand, idempotently."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from customers.models import Customer, Order, OrderLine
from customers.services import OrderLineData, create_customer, merge_customers, upsert_order
from tests.conftest import api_client_for

ORDERS = "/api/v1/orders/"


def _order(
    external_id: str,
    *,
    customer: Customer | None = None,
    store: str = "shopify",
    number: str | None = None,
    financial_status: str = "paid",
    fulfillment_status: str = "unfulfilled",
    day: int = 1,
) -> Order:
    order, _ = upsert_order(
        store=store,
        external_id=external_id,
        number=number or f"#{external_id}",
        placed_at=datetime(2025, 3, day, tzinfo=UTC),
        currency="EUR",
        total=Decimal("20.00"),
        customer=customer,
        financial_status=financial_status,
        fulfillment_status=fulfillment_status,
        lines=[
            OrderLineData(
                title="Mug", unit_price=Decimal("10.00"), total=Decimal("20.00"), quantity=2
            )
        ],
        tracking=[{"carrier": "UPS", "number": f"1Z{external_id}", "url": "https://ups.test/t"}],
        shipping_address={"city": "Lisbon", "country": "PT"},
    )
    return order


def _orders_state() -> list[tuple[Any, ...]]:
    orders = list(
        Order.objects.order_by("pk").values_list(
            "pk", "store", "external_id", "number", "total", "customer", "financial_status"
        )
    )
    lines = list(OrderLine.objects.order_by("pk").values_list("pk", "order", "title", "total"))
    return [*orders, *lines]


@pytest.fixture
def orders(customer: Customer) -> dict[str, Order]:
    other = create_customer(name="Ben")
    return {
        "a": _order("1001", customer=customer, day=1),
        "b": _order("1002", customer=customer, financial_status="refunded", day=2),
        "c": _order("1003", customer=other, fulfillment_status="fulfilled", day=3),
        "d": _order("W-77", store="woocommerce", number="5001", day=4),
    }


def test_agent_lists_orders_newest_first(agent_client: APIClient, orders: dict[str, Order]) -> None:
    response = agent_client.get(ORDERS)

    assert response.status_code == 200
    results = response.json()["results"]
    # Cursor pages run by id, newest row first.
    assert [row["id"] for row in results] == [orders[k].pk for k in ("d", "c", "b", "a")]
    assert results[3] == {
        "id": orders["a"].pk,
        "customer": orders["a"].customer_id,
        "store": "shopify",
        "external_id": "1001",
        "number": "#1001",
        "placed_at": "2025-03-01T00:00:00Z",
        "currency": "EUR",
        "subtotal": "0.00",
        "shipping_total": "0.00",
        "tax_total": "0.00",
        "total": "20.00",
        "financial_status": "paid",
        "fulfillment_status": "unfulfilled",
        "tracking": [{"carrier": "UPS", "number": "1Z1001", "url": "https://ups.test/t"}],
        "created_at": results[3]["created_at"],
        "updated_at": results[3]["updated_at"],
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"customer": "{customer}"}, ["b", "a"]),
        ({"number": "1002"}, ["b"]),
        ({"number": "#1002"}, ["b"]),
        ({"number": "5001"}, ["d"]),
        ({"number": "#5001"}, ["d"]),
        ({"store": "woocommerce"}, ["d"]),
        ({"store": "magento"}, []),
        ({"financial_status": "refunded"}, ["b"]),
        ({"fulfillment_status": "fulfilled"}, ["c"]),
        ({"store": "shopify", "financial_status": "paid"}, ["c", "a"]),
    ],
)
def test_order_filters_find_exactly(
    agent_client: APIClient,
    customer: Customer,
    orders: dict[str, Order],
    query: dict[str, str],
    expected: list[str],
) -> None:
    params = {key: value.format(customer=customer.pk) for key, value in query.items()}

    response = agent_client.get(ORDERS, params)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [orders[k].pk for k in expected]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"customer": "999999"}, "customer"),
        ({"customer": "ana"}, "customer"),
        ({"financial_status": "stolen"}, "financial_status"),
        ({"fulfillment_status": "lost"}, "fulfillment_status"),
    ],
)
def test_bad_order_filters_are_a_400(
    agent_client: APIClient, db: None, query: dict[str, str], field: str
) -> None:
    response = agent_client.get(ORDERS, query)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("page_size", [5, 50])
def test_order_list_query_count_does_not_grow_with_the_page(
    agent_client: APIClient, customer: Customer, django_assert_num_queries: Any, page_size: int
) -> None:
    for number in range(60):
        _order(f"{number}", customer=customer)

    with django_assert_num_queries(1):
        response = agent_client.get(ORDERS, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


def test_order_detail_has_lines_tracking_and_address(
    agent_client: APIClient, orders: dict[str, Order]
) -> None:
    order = orders["a"]

    response = agent_client.get(f"{ORDERS}{order.pk}/")

    assert response.status_code == 200
    body = response.json()
    line = order.lines.get()
    assert body["lines"] == [
        {
            "id": line.pk,
            "sku": "",
            "title": "Mug",
            "quantity": 2,
            "unit_price": "10.00",
            "total": "20.00",
        }
    ]
    assert body["tracking"] == [{"carrier": "UPS", "number": "1Z1001", "url": "https://ups.test/t"}]
    assert body["shipping_address"] == {"city": "Lisbon", "country": "PT"}


@pytest.mark.parametrize("path", ["999999/", "abc/", f"{10**30}/"])
def test_unknown_order_is_a_404(agent_client: APIClient, db: None, path: str) -> None:
    assert agent_client.get(f"{ORDERS}{path}").status_code == 404


# --- Entering orders -----------------------------------------------------------------------


def _order_body(customer: Customer | None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": customer.pk if customer else None,
        "store": "shopify",
        "external_id": "9001",
        "number": "#9001",
        "placed_at": "2025-04-01T10:00:00+02:00",
        "currency": "eur",
        "subtotal": "25.00",
        "shipping_total": "4.90",
        "tax_total": "0.00",
        "total": "29.90",
        "financial_status": "paid",
        "tracking": [{"carrier": "DHL", "number": "00340434", "url": ""}],
        "shipping_address": {"city": "Porto"},
        "lines": [
            {"sku": "MUG-1", "title": "Mug", "quantity": 1, "unit_price": "25.00", "total": "25.00"}
        ],
    }
    body.update(overrides)
    return body


def test_admin_enters_an_order_and_entering_it_again_changes_nothing(
    admin_client_api: APIClient, customer: Customer
) -> None:
    created = admin_client_api.post(ORDERS, _order_body(customer), format="json")
    state = _orders_state()
    again = admin_client_api.post(ORDERS, _order_body(customer), format="json")

    assert created.status_code == 201
    assert again.status_code == 200
    assert again.json() == {**created.json(), "updated_at": again.json()["updated_at"]}
    assert _orders_state() == state
    order = Order.objects.get()
    assert (order.currency, order.total, order.placed_at, order.customer_id) == (
        "EUR",
        Decimal("29.90"),
        datetime(2025, 4, 1, 8, tzinfo=UTC),
        customer.pk,
    )
    assert list(order.lines.values_list("sku", "title", "total")) == [
        ("MUG-1", "Mug", Decimal("25.00"))
    ]


def test_entering_an_order_again_with_changes_updates_it(
    admin_client_api: APIClient, customer: Customer
) -> None:
    admin_client_api.post(ORDERS, _order_body(customer), format="json")

    response = admin_client_api.post(
        ORDERS,
        _order_body(
            customer,
            financial_status="refunded",
            lines=[{"title": "Cup", "unit_price": "5.00", "total": "10.00", "quantity": 2}],
        ),
        format="json",
    )

    assert response.status_code == 200
    order = Order.objects.get()
    assert order.financial_status == "refunded"
    assert list(order.lines.values_list("title", "quantity")) == [("Cup", 2)]


def test_an_order_for_a_merged_customer_lands_on_the_target(
    admin_client_api: APIClient, customer: Customer
) -> None:
    duplicate = create_customer(name="Ana again")
    merge_customers(duplicate, customer, actor=None)

    response = admin_client_api.post(ORDERS, _order_body(duplicate), format="json")

    assert response.status_code == 201
    assert response.json()["customer"] == customer.pk


@pytest.mark.parametrize("actor", ["agent", "teammate", "other_agent"])
def test_agents_cannot_enter_orders(
    request: pytest.FixtureRequest, customer: Customer, orders: dict[str, Order], actor: str
) -> None:
    client = api_client_for(request.getfixturevalue(actor))
    before = _orders_state()

    created = client.post(ORDERS, _order_body(customer), format="json")
    replaced = client.post(ORDERS, _order_body(customer, external_id="1001"), format="json")

    assert (created.status_code, replaced.status_code) == (403, 403)
    assert _orders_state() == before


def test_orders_are_not_edited_or_deleted_through_the_api(
    admin_client_api: APIClient, orders: dict[str, Order]
) -> None:
    before = _orders_state()
    path = f"{ORDERS}{orders['a'].pk}/"

    assert admin_client_api.patch(path, {"total": "1.00"}).status_code == 405
    assert admin_client_api.delete(path).status_code == 405
    assert _orders_state() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "EURO"}, "currency"),
        ({"currency": 978}, "currency"),
        ({"total": "-1.00"}, "total"),
        ({"total": "lots"}, "total"),
        ({"total": "1.001"}, "total"),
        ({"placed_at": "yesterday"}, "placed_at"),
        ({"financial_status": "stolen"}, "financial_status"),
        ({"customer": 999999}, "customer"),
        ({"store": ""}, "store"),
        ({"lines": "Mug"}, "lines"),
        (
            {"lines": [{"title": "Mug", "unit_price": "1.00", "total": "1.00", "colour": "red"}]},
            "lines",
        ),
        (
            {"lines": [{"title": "Mug", "unit_price": "1.00", "total": "1.00", "quantity": 0}]},
            "lines",
        ),
        ({"tracking": [{"carrier": "DHL"}]}, "tracking"),
        ({"tracking": [{"number": "1", "url": "not a url"}]}, "tracking"),
        ({"tracking": [{"number": "1", "password": "x"}]}, "tracking"),
        ({"shipping_address": ["Porto"]}, "shipping_address"),
        ({"raw": {}}, "raw"),
        ({"id": 5}, "id"),
    ],
)
def test_bad_order_input_is_a_400_and_changes_nothing(
    admin_client_api: APIClient, customer: Customer, overrides: dict[str, Any], field: str
) -> None:
    body = {**_order_body(customer), **overrides}

    response = admin_client_api.post(ORDERS, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Order.objects.count() == 0
