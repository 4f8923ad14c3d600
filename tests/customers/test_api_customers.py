"""/api/v1/customers/: listing, searching, reading, creating and editing customers, and adding
handles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from customers.models import Customer, Identity
from customers.services import (
    OrderLineData,
    add_identity,
    create_customer,
    merge_customers,
    upsert_order,
)
from helpdesk.models import User
from tests.conftest import api_client_for
from tickets.models import Ticket

CUSTOMERS = "/api/v1/customers/"


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _customers_state() -> list[tuple[Any, ...]]:
    customers = list(
        Customer.objects.order_by("pk").values_list(
            "pk", "name", "email", "locale", "notes", "tags", "merged_into"
        )
    )
    identities = list(Identity.objects.order_by("pk").values_list("customer", "kind", "address"))
    return [*customers, *identities]


def _order(customer: Customer | None, external_id: str, *, lines: int = 1) -> Any:
    order, _ = upsert_order(
        store="shopify",
        external_id=external_id,
        number=f"#{external_id}",
        placed_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
        currency="EUR",
        total=Decimal("30.00"),
        customer=customer,
        lines=[
            OrderLineData(title=f"Mug {n}", unit_price=Decimal("10.00"), total=Decimal("10.00"))
            for n in range(lines)
        ],
        tracking=[{"carrier": "DHL", "number": f"TRACK{external_id}", "url": ""}],
    )
    return order


# --- Listing and searching -----------------------------------------------------------------


@pytest.fixture
def people(db: None) -> dict[str, Customer]:
    ana = create_customer(name="Ana Souza", email="ana@example.com", tags=["vip"])
    add_identity(ana, kind="whatsapp", address="+14155550123")
    add_identity(ana, kind="sms", address="+14155550199")
    ben = create_customer(name="Ben Okafor", email="ben@shop-mail.test", tags=["vip-gold"])
    cleo = create_customer(name="Cléo Martin", tags=["vip", "wholesale"])
    add_identity(cleo, kind="telegram", address="ana-fan-club")
    dup = create_customer(name="Ana S.", email="ana.s@example.com")
    merge_customers(dup, ana, actor=None)
    return {"ana": ana, "ben": ben, "cleo": cleo, "dup": dup}


def test_list_leaves_out_merged_customers_newest_first(
    agent_client: APIClient, people: dict[str, Customer]
) -> None:
    response = agent_client.get(CUSTOMERS)

    assert _ids(response) == [people["cleo"].pk, people["ben"].pk, people["ana"].pk]
    ana = response.json()["results"][2]
    assert [(i["kind"], i["address"]) for i in ana["identities"]] == [
        ("email", "ana.s@example.com"),
        ("email", "ana@example.com"),
        ("sms", "+14155550199"),
        ("whatsapp", "+14155550123"),
    ]


def test_include_merged_lists_them_too(
    agent_client: APIClient, people: dict[str, Customer]
) -> None:
    response = agent_client.get(CUSTOMERS, {"include_merged": "true"})

    ids = _ids(response)
    assert ids == [people["dup"].pk, people["cleo"].pk, people["ben"].pk, people["ana"].pk]
    assert response.json()["results"][0]["merged_into"] == people["ana"].pk


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "ana"}, ["cleo", "ana"]),
        ({"q": "SOUZA"}, ["ana"]),
        ({"q": "shop-mail"}, ["ben"]),
        ({"q": "(415) 555-0199"}, ["ana"]),
        ({"q": "+1 415 555 01"}, ["ana"]),
        ({"q": "nobody"}, []),
        ({"tag": "vip"}, ["cleo", "ana"]),
        ({"tag": "VIP-Gold"}, ["ben"]),
        ({"tag": "vip", "q": "martin"}, ["cleo"]),
        ({"include_merged": "false", "q": "ana.s"}, ["ana"]),
        ({"include_merged": "true", "q": "Ana S."}, ["dup"]),
    ],
)
def test_search_and_filters_find_exactly(
    agent_client: APIClient,
    people: dict[str, Customer],
    query: dict[str, str],
    expected: list[str],
) -> None:
    """q covers name, email and every handle (phone numbers in any format, and the merged
    customer's handles now on the target); a customer matching twice is listed once."""
    response = agent_client.get(CUSTOMERS, query)

    assert _ids(response) == [people[name].pk for name in expected]


def test_updated_since(agent_client: APIClient, people: dict[str, Customer]) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    Customer.objects.exclude(pk=people["ben"].pk).update(updated_at=long_ago)

    response = agent_client.get(CUSTOMERS, {"updated_since": "2024-01-01T00:00:00Z"})

    assert _ids(response) == [people["ben"].pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"updated_since": "last tuesday"}, "updated_since"),
        ({"updated_since": "2024-01-01T00:00:00"}, "updated_since"),
        ({"updated_since": "2024-01-01"}, "updated_since"),
        ({"include_merged": "perhaps"}, "include_merged"),
        ({"qq": "ana"}, "qq"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_filters_are_a_400(
    agent_client: APIClient, db: None, query: dict[str, str], field: str
) -> None:
    response = agent_client.get(CUSTOMERS, query)

    assert response.status_code == 400
    assert field in response.json()


def test_updated_since_without_a_time_zone_asks_for_one(
    agent_client: APIClient, people: dict[str, Customer]
) -> None:
    """The server cannot know which zone a naive datetime meant, so it does not guess."""
    response = agent_client.get(CUSTOMERS, {"updated_since": "2024-01-01T00:00:00"})

    assert response.status_code == 400
    assert response.json() == {
        "updated_since": [
            "Add a time zone to the datetime, e.g. 2025-01-31T09:00:00Z or "
            "2025-01-31T10:00:00+01:00."
        ]
    }


def test_updated_since_takes_an_offset_whose_plus_sign_was_not_encoded(
    agent_client: APIClient, people: dict[str, Customer]
) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    Customer.objects.exclude(pk=people["ben"].pk).update(updated_at=long_ago)

    response = agent_client.get(f"{CUSTOMERS}?updated_since=2024-01-01T01:00:00+01:00")

    assert _ids(response) == [people["ben"].pk]


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_query_count_does_not_grow_with_the_page(
    agent_client: APIClient, db: None, django_assert_num_queries: Any, page_size: int
) -> None:
    for number in range(60):
        customer = create_customer(name=f"Customer {number}", email=f"c{number}@example.com")
        add_identity(customer, kind="sms", address=f"+1415555{number:04}")

    with django_assert_num_queries(2):
        response = agent_client.get(CUSTOMERS, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


def test_pages_follow_the_cursor(agent_client: APIClient, db: None) -> None:
    created = [create_customer(name=f"Customer {n}").pk for n in range(7)]

    first = agent_client.get(CUSTOMERS, {"page_size": 5}).json()
    second = agent_client.get(first["next"]).json()

    assert [row["id"] for row in first["results"]] == created[::-1][:5]
    assert [row["id"] for row in second["results"]] == created[::-1][5:]
    assert second["next"] is None


# --- Detail --------------------------------------------------------------------------------


def test_detail_has_handles_latest_tickets_and_orders_with_lines(
    agent_client: APIClient, customer: Customer, make_ticket: Callable[..., Ticket]
) -> None:
    tickets = [
        make_ticket(sender_address="ana@example.com", subject=f"Order question {n}")
        for n in range(22)
    ]
    order = _order(customer, "1001", lines=2)
    _order(None, "2002")

    response = agent_client.get(f"{CUSTOMERS}{customer.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["email"], body["locale"], body["notes"]) == (
        "Ana Souza",
        "ana@example.com",
        "pt-BR",
        "",
    )
    assert [(i["kind"], i["address"]) for i in body["identities"]] == [("email", "ana@example.com")]
    assert [row["id"] for row in body["tickets"]] == [t.pk for t in tickets[::-1][:20]]
    latest = tickets[-1]
    assert body["tickets"][0] == {
        "id": latest.pk,
        "number": latest.number,
        "subject": "Order question 21",
        "status": "new",
        "channel": "email",
        "updated_at": body["tickets"][0]["updated_at"],
    }
    assert [row["id"] for row in body["orders"]] == [order.pk]
    assert [line["title"] for line in body["orders"][0]["lines"]] == ["Mug 0", "Mug 1"]
    assert body["orders"][0]["tracking"] == [{"carrier": "DHL", "number": "TRACK1001", "url": ""}]


@pytest.mark.parametrize("tickets", [1, 25])
def test_detail_query_count_is_fixed(
    agent_client: APIClient,
    customer: Customer,
    make_ticket: Callable[..., Ticket],
    django_assert_num_queries: Any,
    tickets: int,
) -> None:
    """Customer, handles, tickets, orders and their lines: five queries."""
    for _ in range(tickets):
        make_ticket(sender_address="ana@example.com")
    for number in range(tickets):
        _order(customer, f"{number}", lines=3)

    with django_assert_num_queries(5):
        response = agent_client.get(f"{CUSTOMERS}{customer.pk}/")

    assert len(response.json()["tickets"]) == min(tickets, 20)


def test_a_merged_customer_can_still_be_read(
    agent_client: APIClient, people: dict[str, Customer]
) -> None:
    response = agent_client.get(f"{CUSTOMERS}{people['dup'].pk}/")

    assert response.status_code == 200
    assert response.json()["merged_into"] == people["ana"].pk
    assert response.json()["identities"] == []


@pytest.mark.parametrize("path", ["999999/", "abc/", f"{10**30}/"])
def test_unknown_customer_is_a_404(agent_client: APIClient, db: None, path: str) -> None:
    assert agent_client.get(f"{CUSTOMERS}{path}").status_code == 404
    assert agent_client.patch(f"{CUSTOMERS}{path}", {"name": "X"}).status_code == 404
    identity = {"kind": "email", "address": "x@example.com"}
    assert agent_client.post(f"{CUSTOMERS}{path}identities/", identity).status_code == 404
    assert agent_client.post(f"{CUSTOMERS}{path}merge/", {"into": 1}).status_code == 404
    assert Customer.objects.count() == 0


# --- Creating ------------------------------------------------------------------------------


def test_agent_creates_a_customer_with_normalized_handles(agent_client: APIClient) -> None:
    response = agent_client.post(
        CUSTOMERS,
        {
            "name": " Dana Weiß ",
            "email": "Dana@Example.com",
            "locale": "de_AT",
            "notes": "Prefers WhatsApp.",
            "tags": ["VIP", "vip", " wholesale "],
            "identities": [
                {"kind": "whatsapp", "address": "whatsapp:+49 151 12345678"},
                {"kind": "telegram", "address": "55501234"},
            ],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert (customer.name, customer.email, customer.locale, customer.tags) == (
        "Dana Weiß",
        "dana@example.com",
        "de-AT",
        ["vip", "wholesale"],
    )
    assert sorted(customer.identities.values_list("kind", "address")) == [
        ("email", "dana@example.com"),
        ("telegram", "55501234"),
        ("whatsapp", "+4915112345678"),
    ]
    assert body["tickets"] == []
    assert body["orders"] == []


def test_a_customer_needs_no_field_at_all(agent_client: APIClient) -> None:
    response = agent_client.post(CUSTOMERS, {}, format="json")

    assert response.status_code == 201
    assert Customer.objects.get().identities.count() == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {
                "identities": [
                    {"kind": "sms", "address": "+14155550100"},
                    {"kind": "sms", "address": "12"},
                ]
            },
            {"identities": {"1": {"address": ["'12' is not a possible phone number."]}}},
        ),
        (
            {"identities": [{"kind": "whatsapp", "address": "call me maybe"}]},
            {"identities": {"0": {"address": ["'call me maybe' is not a phone number."]}}},
        ),
        (
            {"identities": [{"kind": "email", "address": "not-an-email"}]},
            {"identities": {"0": {"address": ["Enter a valid email address."]}}},
        ),
        (
            {"identities": [{"kind": "fax", "address": "123"}]},
            {"identities": {"0": {"kind": ['"fax" is not a valid choice.']}}},
        ),
        (
            {"identities": [{"kind": "sms", "address": "+14155550100", "verified": True}]},
            {"identities": {"0": {"verified": ["Unknown field."]}}},
        ),
        ({"email": "ana@"}, {"email": ["Enter a valid email address."]}),
        ({"name": "Ana", "phone": "+14155550100"}, {"phone": ["Unknown field."]}),
        ({"id": 7}, {"id": ["Unknown field."]}),
        ({"merged_into": 7}, {"merged_into": ["Unknown field."]}),
        ({"tags": "vip"}, {"tags": ['Expected a list of items but got type "str".']}),
        ({"tags": [""]}, {"tags": {"0": ["This field may not be blank."]}}),
        ({"tags": [{"x": 1}]}, {"tags": {"0": ["Not a valid string."]}}),
        ({"name": ["Ana"]}, {"name": ["Not a valid string."]}),
        ({"name": "x" * 201}, {"name": ["Ensure this field has no more than 200 characters."]}),
        (
            {"locale": "português"},
            {"locale": ["'português' is not a locale; use a code such as en, de-AT or pt-BR."]},
        ),
        ({"identities": {"kind": "sms"}}, None),
    ],
)
def test_bad_customer_input_is_a_400_and_creates_nothing(
    agent_client: APIClient, db: None, body: dict[str, Any], errors: dict[str, Any] | None
) -> None:
    response = agent_client.post(CUSTOMERS, body, format="json")

    assert response.status_code == 400
    if errors is not None:
        assert response.json() == errors
    assert Customer.objects.count() == 0


def test_a_handle_of_another_customer_is_a_409_and_creates_nothing(
    agent_client: APIClient, customer: Customer
) -> None:
    before = _customers_state()

    response = agent_client.post(
        CUSTOMERS,
        {"name": "Impostor", "identities": [{"kind": "email", "address": "ANA@example.com"}]},
        format="json",
    )

    assert response.status_code == 409
    assert f"already belongs to customer {customer.pk}" in response.json()["detail"]
    assert _customers_state() == before


# --- Editing -------------------------------------------------------------------------------


def test_agent_edits_a_customer(agent_client: APIClient, customer: Customer) -> None:
    response = agent_client.patch(
        f"{CUSTOMERS}{customer.pk}/",
        {"name": "Ana P. Souza", "notes": "Called twice.", "tags": ["Returns"], "locale": "pt"},
        format="json",
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.notes, customer.tags, customer.locale, customer.email) == (
        "Ana P. Souza",
        "Called twice.",
        ["returns"],
        "pt",
        "ana@example.com",
    )


def test_a_new_email_becomes_a_handle_and_the_old_one_stays(
    agent_client: APIClient, customer: Customer
) -> None:
    response = agent_client.patch(f"{CUSTOMERS}{customer.pk}/", {"email": "Ana@New.example"})

    assert response.status_code == 200
    assert sorted(customer.identities.values_list("address", flat=True)) == [
        "ana@example.com",
        "ana@new.example",
    ]


def test_an_email_of_another_customer_is_a_409_and_changes_nothing(
    agent_client: APIClient, customer: Customer
) -> None:
    other = create_customer(name="Ben", email="ben@example.com")
    before = _customers_state()

    response = agent_client.patch(
        f"{CUSTOMERS}{other.pk}/", {"name": "Ben B.", "email": "ana@example.com"}
    )

    assert response.status_code == 409
    assert _customers_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"identities": []}, "identities"),
        ({"merged_into": None}, "merged_into"),
        ({"email": 5}, "email"),
        ({"tags": None}, "tags"),
        ({"notes": {"text": "x"}}, "notes"),
    ],
)
def test_bad_edits_are_a_400_and_change_nothing(
    agent_client: APIClient, customer: Customer, body: dict[str, Any], field: str
) -> None:
    before = _customers_state()

    response = agent_client.patch(f"{CUSTOMERS}{customer.pk}/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _customers_state() == before


def test_customers_cannot_be_deleted_or_replaced(
    admin_client_api: APIClient, customer: Customer
) -> None:
    assert admin_client_api.delete(f"{CUSTOMERS}{customer.pk}/").status_code == 405
    assert admin_client_api.put(f"{CUSTOMERS}{customer.pk}/", {"name": "X"}).status_code == 405
    assert Customer.objects.get().name == "Ana Souza"


# --- Adding handles ------------------------------------------------------------------------


def test_adding_a_handle(agent_client: APIClient, customer: Customer) -> None:
    response = agent_client.post(
        f"{CUSTOMERS}{customer.pk}/identities/",
        {"kind": "sms", "address": "(415) 555-0142", "display_name": "Ana mobile"},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["address"], body["display_name"]) == (
        "sms",
        "+14155550142",
        "Ana mobile",
    )
    assert customer.identities.filter(kind="sms", address="+14155550142").exists()


def test_adding_a_handle_the_customer_has_is_a_200(
    agent_client: APIClient, customer: Customer
) -> None:
    response = agent_client.post(
        f"{CUSTOMERS}{customer.pk}/identities/", {"kind": "email", "address": "ANA@example.com"}
    )

    assert response.status_code == 200
    assert customer.identities.count() == 1


def test_a_handle_of_another_customer_is_a_409(agent_client: APIClient, customer: Customer) -> None:
    other = create_customer(name="Ben")
    before = _customers_state()

    response = agent_client.post(
        f"{CUSTOMERS}{other.pk}/identities/", {"kind": "email", "address": "ana@example.com"}
    )

    assert response.status_code == 409
    assert "merge them instead" in response.json()["detail"]
    assert _customers_state() == before


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"kind": "sms", "address": "0"}, {"address": ["'0' is not a phone number."]}),
        ({"kind": "email", "address": "@@"}, {"address": ["Enter a valid email address."]}),
        (
            {"kind": "messenger", "address": "two words"},
            {"address": ["'two words' is not a valid messenger id."]},
        ),
        ({"kind": "sms"}, {"address": ["This field is required."]}),
        (
            {"kind": "sms", "address": "+14155550100", "customer": 1},
            {"customer": ["Unknown field."]},
        ),
        ({"kind": 3, "address": "+14155550100"}, {"kind": ['"3" is not a valid choice.']}),
    ],
)
def test_bad_handles_are_a_400(
    agent_client: APIClient, customer: Customer, body: dict[str, Any], errors: dict[str, Any]
) -> None:
    before = _customers_state()

    response = agent_client.post(f"{CUSTOMERS}{customer.pk}/identities/", body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert _customers_state() == before


def test_a_handle_for_a_merged_customer_is_a_409(
    agent_client: APIClient, people: dict[str, Customer]
) -> None:
    response = agent_client.post(
        f"{CUSTOMERS}{people['dup'].pk}/identities/", {"kind": "sms", "address": "+14155550111"}
    )

    assert response.status_code == 409
    assert not Identity.objects.filter(address="+14155550111").exists()


def test_agents_and_admins_alike_work_with_customers(admin: User, agent: User) -> None:
    """Customer data is everyday agent work, not configuration."""
    for user in (admin, agent):
        response = api_client_for(user).post(CUSTOMERS, {"name": f"For {user.username}"})
        assert response.status_code == 201
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["For alice", "For bob"]


def test_updated_since_must_be_recent_enough_to_matter(
    agent_client: APIClient, customer: Customer
) -> None:
    """A time in the future matches nobody."""
    future = (datetime.now(tz=UTC) + timedelta(days=1)).isoformat()

    assert _ids(agent_client.get(CUSTOMERS, {"updated_since": future})) == []
