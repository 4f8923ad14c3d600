"""The Django admin for customers, handles, merges and orders."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from customers.models import Customer, CustomerMerge, Identity, Order, OrderLine
from customers.services import add_identity, create_customer, merge_customers
from helpdesk.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client, admin: User) -> Client:
    """alice, signed in to the admin (role admin makes her staff)."""
    assert admin.is_staff
    client.force_login(admin)
    return client


@pytest.fixture
def order(customer: Customer) -> Order:
    order = Order.objects.create(
        customer=customer,
        store="shop",
        external_id="5001",
        number="#1001",
        placed_at="2025-01-02T10:00:00Z",
        currency="EUR",
        total="39.80",
        financial_status=Order.FinancialStatus.PAID,
    )
    OrderLine.objects.create(
        order=order, title="Desk lamp", quantity=2, unit_price="19.90", total="39.80"
    )
    return order


def flashed(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:customers_{name}", args=args)


def customer_form(customer: Customer | None = None, **overrides: Any) -> dict[str, Any]:
    """The POST of the customer form, with the management forms of its two inlines."""
    existing = customer.identities.count() if customer else 0
    data: dict[str, Any] = {
        "name": customer.name if customer else "",
        "email": customer.email if customer else "",
        "locale": customer.locale if customer else "",
        "notes": customer.notes if customer else "",
        "tags": "[]",
        "identities-TOTAL_FORMS": str(existing),
        "identities-INITIAL_FORMS": str(existing),
        "orders-TOTAL_FORMS": "0",
        "orders-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def new_identity(data: dict[str, Any], kind: str, address: str) -> dict[str, Any]:
    index = int(data["identities-TOTAL_FORMS"])
    data[f"identities-{index}-kind"] = kind
    data[f"identities-{index}-address"] = address
    data[f"identities-{index}-display_name"] = ""
    data["identities-TOTAL_FORMS"] = str(index + 1)
    return data


# --- Customers -----------------------------------------------------------------------------


def test_customer_changelist_finds_by_any_handle_and_filters_merged(
    staff_client: Client, customer: Customer
) -> None:
    add_identity(customer, kind="whatsapp", address="+4915112345678")
    create_customer(name="Bruno Lima", email="bruno@example.com")

    by_phone = staff_client.get(url("customer_changelist"), {"q": "4915112345678", "merged": "no"})
    by_name = staff_client.get(url("customer_changelist"), {"q": "bruno"})
    merged = staff_client.get(url("customer_changelist"), {"merged": "yes"})

    assert by_phone.status_code == 200
    assert [c.pk for c in by_phone.context["cl"].result_list] == [customer.pk]
    assert [c.name for c in by_name.context["cl"].result_list] == ["Bruno Lima"]
    assert list(merged.context["cl"].result_list) == []


def test_customer_change_page_shows_handles_and_orders(
    staff_client: Client, customer: Customer, order: Order
) -> None:
    response = staff_client.get(url("customer_change", customer.pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert "ana@example.com" in page
    assert "#1001" in page
    assert url("order_change", order.pk) in page


def test_customer_add_goes_through_create_customer(staff_client: Client) -> None:
    data = new_identity(
        customer_form(name=" Carla ", email="Carla@Example.com", tags='["VIP", "vip"]'),
        "sms",
        "+1 415 555 0123",
    )

    response = staff_client.post(url("customer_add"), data)

    assert response.status_code == 302
    carla = Customer.objects.get()
    assert (carla.name, carla.email, carla.tags) == ("Carla", "carla@example.com", ["vip"])
    assert sorted(carla.identities.values_list("kind", "address")) == [
        ("email", "carla@example.com"),
        ("sms", "+14155550123"),
    ]


def test_customer_change_goes_through_update_customer(
    staff_client: Client, customer: Customer
) -> None:
    response = staff_client.post(
        url("customer_change", customer.pk),
        customer_form(customer, email="ana.souza@example.com", notes="Prefers WhatsApp"),
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.email, customer.notes) == ("ana.souza@example.com", "Prefers WhatsApp")
    # A new email becomes a handle too; the old one stays.
    assert sorted(customer.identities.values_list("address", flat=True)) == [
        "ana.souza@example.com",
        "ana@example.com",
    ]


def test_customer_change_adds_a_handle_and_keeps_the_existing_ones(
    staff_client: Client, customer: Customer
) -> None:
    data = new_identity(customer_form(customer), "telegram", "123456789")

    response = staff_client.post(url("customer_change", customer.pk), data)

    assert response.status_code == 302
    assert sorted(customer.identities.values_list("kind", "address")) == [
        ("email", "ana@example.com"),
        ("telegram", "123456789"),
    ]


def test_email_of_another_customer_is_refused_and_nothing_is_saved(
    staff_client: Client, customer: Customer
) -> None:
    create_customer(name="Bruno", email="bruno@example.com")

    response = staff_client.post(
        url("customer_change", customer.pk),
        customer_form(customer, name="Ana S.", email="bruno@example.com"),
    )

    assert response.status_code == 302
    assert response["Location"] == url("customer_change", customer.pk)
    assert flashed(response) == [
        "Nothing was saved: Email: bruno@example.com already belongs to customer "
        f"{Customer.objects.get(name='Bruno').pk}; merge them instead."
    ]
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Ana Souza", "ana@example.com")


@pytest.mark.parametrize(
    ("kind", "address"),
    [("whatsapp", "not a phone"), ("email", "nobody@"), ("telegram", "has space"), ("fax", "1")],
)
def test_customer_form_rejects_bad_handles(
    staff_client: Client, customer: Customer, kind: str, address: str
) -> None:
    data = new_identity(customer_form(customer), kind, address)

    response = staff_client.post(url("customer_change", customer.pk), data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors[-1].keys() & {"address", "kind"}
    assert customer.identities.count() == 1


def test_customer_form_rejects_a_handle_another_customer_has(
    staff_client: Client, customer: Customer
) -> None:
    bruno = create_customer(name="Bruno", email="bruno@example.com")
    data = new_identity(customer_form(customer), "email", "BRUNO@example.com")

    response = staff_client.post(url("customer_change", customer.pk), data)

    assert response.status_code == 200
    assert Identity.objects.get(address="bruno@example.com").customer == bruno


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tags", '"vip"'),
        ("tags", "[1, 2]"),
        ("tags", '["' + "x" * 51 + '"]'),
        ("tags", "{broken"),
        ("email", "not-an-email"),
    ],
)
def test_customer_form_rejects_bad_fields(
    staff_client: Client, customer: Customer, field: str, value: str
) -> None:
    response = staff_client.post(
        url("customer_change", customer.pk), customer_form(customer, **{field: value})
    )

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert (customer.tags, customer.email) == ([], "ana@example.com")


def test_customers_are_not_deleted_in_the_admin(staff_client: Client, customer: Customer) -> None:
    response = staff_client.post(url("customer_delete", customer.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


# --- Merging -------------------------------------------------------------------------------


def test_merge_action_merges_the_selection_into_the_oldest(
    staff_client: Client, customer: Customer, admin: User
) -> None:
    bruno = create_customer(name="Bruno", email="bruno@example.com")
    carla = create_customer(name="Carla", email="carla@example.com")

    response = staff_client.post(
        url("customer_changelist"),
        {
            "action": "merge_into_oldest",
            "_selected_action": [carla.pk, customer.pk, bruno.pk],
            "index": "0",
        },
    )

    assert flashed(response) == [f"Merged 2 customer(s) into Ana Souza (#{customer.pk})."]
    merges = CustomerMerge.objects.order_by("pk")
    assert [(m.source, m.target, m.merged_by) for m in merges] == [
        (bruno, customer, admin),
        (carla, customer, admin),
    ]
    assert sorted(customer.identities.values_list("address", flat=True)) == [
        "ana@example.com",
        "bruno@example.com",
        "carla@example.com",
    ]


def test_merge_action_needs_two_customers(staff_client: Client, customer: Customer) -> None:
    response = staff_client.post(
        url("customer_changelist"),
        {"action": "merge_into_oldest", "_selected_action": [customer.pk], "index": "0"},
    )

    assert flashed(response) == ["Select at least two customers to merge."]
    assert not CustomerMerge.objects.exists()


def test_merge_action_reports_a_refused_merge(
    staff_client: Client, customer: Customer, admin: User
) -> None:
    bruno = create_customer(name="Bruno", email="bruno@example.com")
    carla = create_customer(name="Carla", email="carla@example.com")
    merge_customers(carla, bruno, actor=admin)

    response = staff_client.post(
        url("customer_changelist"),
        {"action": "merge_into_oldest", "_selected_action": [customer.pk, carla.pk], "index": "0"},
    )

    assert flashed(response) == [f"Carla: Carla is already merged into customer {bruno.pk}."]
    assert CustomerMerge.objects.count() == 1


@pytest.fixture
def merge(customer: Customer, admin: User) -> CustomerMerge:
    bruno = create_customer(name="Bruno", email="bruno@example.com")
    return merge_customers(bruno, customer, actor=admin)


def test_merge_admin_is_read_only(staff_client: Client, merge: CustomerMerge) -> None:
    listed = staff_client.get(url("customermerge_changelist"), {"q": "bruno"})
    shown = staff_client.get(url("customermerge_change", merge.pk))
    add = staff_client.get(url("customermerge_add"))
    delete = staff_client.post(url("customermerge_delete", merge.pk), {"post": "yes"})

    assert [m.pk for m in listed.context["cl"].result_list] == [merge.pk]
    assert shown.status_code == 200
    assert (add.status_code, delete.status_code) == (403, 403)


def test_undo_merge_action_gives_the_rows_back(
    staff_client: Client, merge: CustomerMerge, admin: User
) -> None:
    response = staff_client.post(
        url("customermerge_changelist"),
        {"action": "undo_merge", "_selected_action": [merge.pk], "index": "0"},
    )

    assert flashed(response) == ["Undid 1 merge(s)."]
    merge.refresh_from_db()
    assert merge.undone_by == admin
    assert merge.source.merged_into is None
    assert list(merge.source.identities.values_list("address", flat=True)) == ["bruno@example.com"]


def test_undo_merge_action_reports_errors(staff_client: Client, merge: CustomerMerge) -> None:
    data = {"action": "undo_merge", "_selected_action": [merge.pk], "index": "0"}
    # Followed, so the page shows (and uses up) the first message.
    first = staff_client.post(url("customermerge_changelist"), data, follow=True)
    assert [str(m) for m in first.context["messages"]] == ["Undid 1 merge(s)."]

    response = staff_client.post(url("customermerge_changelist"), data)

    assert flashed(response) == [f"Merge {merge.pk}: This merge has already been undone."]


# --- Identities ----------------------------------------------------------------------------


def test_identity_pages(staff_client: Client, customer: Customer) -> None:
    identity = customer.identities.get()
    add_identity(customer, kind="sms", address="+14155550123")

    listed = staff_client.get(url("identity_changelist"), {"q": "ana", "kind__exact": "email"})
    shown = staff_client.get(url("identity_change", identity.pk))
    add = staff_client.get(url("identity_add"))

    assert [i.pk for i in listed.context["cl"].result_list] == [identity.pk]
    assert (shown.status_code, add.status_code) == (200, 200)


def test_identity_add_normalizes_through_add_identity(
    staff_client: Client, customer: Customer
) -> None:
    response = staff_client.post(
        url("identity_add"),
        {"customer": customer.pk, "kind": "whatsapp", "address": "+49 151 1234 5678"},
    )

    assert response.status_code == 302
    assert customer.identities.filter(kind="whatsapp").get().address == "+4915112345678"


def test_identity_cannot_be_added_to_a_merged_customer(
    staff_client: Client, merge: CustomerMerge
) -> None:
    response = staff_client.post(
        url("identity_add"),
        {"customer": merge.source_id, "kind": "telegram", "address": "42"},
    )

    assert response.status_code == 302
    assert flashed(response) == [
        f"Nothing was saved: Bruno is merged into customer {merge.target_id}; add the handle there."
    ]
    assert not Identity.objects.filter(kind="telegram").exists()


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "email", "address": "ANA@example.com"},
        {"kind": "sms", "address": "12"},
        {"kind": "pigeon", "address": "coo"},
        {"kind": "email", "address": ""},
    ],
)
def test_identity_add_rejects_bad_input(
    staff_client: Client, customer: Customer, data: dict[str, str]
) -> None:
    response = staff_client.post(url("identity_add"), {"customer": customer.pk, **data})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Identity.objects.count() == 1


def test_identities_are_not_edited_or_deleted(staff_client: Client, customer: Customer) -> None:
    identity = customer.identities.get()

    edit = staff_client.post(
        url("identity_change", identity.pk),
        {"customer": customer.pk, "kind": "email", "address": "x@example.com"},
    )
    delete = staff_client.post(url("identity_delete", identity.pk), {"post": "yes"})

    assert (edit.status_code, delete.status_code) == (403, 403)
    identity.refresh_from_db()
    assert identity.address == "ana@example.com"


# --- Orders --------------------------------------------------------------------------------


def test_order_pages(staff_client: Client, order: Order) -> None:
    listed = staff_client.get(
        url("order_changelist"), {"q": "1001", "financial_status__exact": "paid"}
    )
    by_customer = staff_client.get(url("order_changelist"), {"q": "ana@example.com"})
    unpaid = staff_client.get(url("order_changelist"), {"financial_status__exact": "pending"})
    shown = staff_client.get(url("order_change", order.pk))

    assert [o.pk for o in listed.context["cl"].result_list] == [order.pk]
    assert [o.pk for o in by_customer.context["cl"].result_list] == [order.pk]
    assert list(unpaid.context["cl"].result_list) == []
    assert shown.status_code == 200
    assert "Desk lamp" in shown.content.decode()


def test_orders_are_read_only(staff_client: Client, order: Order) -> None:
    add = staff_client.get(url("order_add"))
    edit = staff_client.post(url("order_change", order.pk), {"number": "#9999"})
    delete = staff_client.post(url("order_delete", order.pk), {"post": "yes"})

    assert (add.status_code, edit.status_code, delete.status_code) == (403, 403, 403)
    order.refresh_from_db()
    assert order.number == "#1001"
