"""Customer services: creating, identities, resolving senders, merging and undoing a merge."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from customers.models import Customer, CustomerMerge, Identity, Order
from customers.services import (
    CustomerError,
    add_identity,
    create_customer,
    merge_customers,
    resolve_sender,
    undo_customer_merge,
)
from helpdesk.models import User
from tickets.models import Message, Ticket
from tickets.services import InboundMessage, receive_message

pytestmark = pytest.mark.django_db


def make_order(customer: Customer, number: str) -> Order:
    return Order.objects.create(
        customer=customer,
        store="shop",
        external_id=number,
        number=number,
        placed_at=datetime(2025, 1, 1, tzinfo=UTC),
        currency="EUR",
        total=Decimal("10.00"),
    )


def writes(channel: str, address: str, text: str = "Hello", *, new: bool = False) -> Message:
    return receive_message(
        InboundMessage(channel=channel, sender_address=address, text=text, starts_conversation=new)
    )


def ownership() -> dict[str, list[tuple[int, int | None]]]:
    """Who owns every row that points at a customer."""
    return {
        "identities": list(Identity.objects.order_by("id").values_list("id", "customer_id")),
        "tickets": list(Ticket.objects.order_by("id").values_list("id", "customer_id")),
        "orders": list(Order.objects.order_by("id").values_list("id", "customer_id")),
        "messages": list(Message.objects.order_by("id").values_list("id", "author_customer_id")),
    }


def customer_rows() -> list[tuple[Any, ...]]:
    return list(
        Customer.objects.order_by("id").values_list(
            "id", "name", "email", "locale", "tags", "merged_into_id"
        )
    )


# --- create_customer, add_identity, resolve_sender ------------------------------------------


def test_create_customer_with_an_email_adds_the_identity() -> None:
    customer = create_customer(name="  Ana Souza ", email=" Ana@Example.com ", tags=["vip"])

    assert (customer.name, customer.email, customer.tags) == (
        "Ana Souza",
        "ana@example.com",
        ["vip"],
    )
    assert list(customer.identities.values_list("kind", "address")) == [
        ("email", "ana@example.com")
    ]


def test_create_customer_with_a_taken_email_leaves_nothing_behind(customer: Customer) -> None:
    """The address is someone else's: no second customer without its handle."""
    before = customer_rows()

    with pytest.raises(CustomerError, match="already belongs to customer"):
        create_customer(name="Impostor", email="ANA@example.com")

    assert customer_rows() == before


def test_create_customer_with_a_bad_email_is_refused() -> None:
    with pytest.raises(ValidationError):
        create_customer(name="X", email="not-an-email")

    assert Customer.objects.count() == 0


def test_add_identity_normalizes_and_is_idempotent(customer: Customer) -> None:
    first = add_identity(customer, kind="sms", address="+49 151 1234 5678", display_name=" Ana ")
    again = add_identity(customer, kind="sms", address="0049 15112345678")

    assert again.pk == first.pk
    assert (first.kind, first.address, first.display_name) == ("sms", "+4915112345678", "Ana")
    assert customer.identities.count() == 2


def test_add_identity_refuses_a_handle_owned_by_someone_else(customer: Customer) -> None:
    other = create_customer(name="Bruno")
    before = ownership()

    with pytest.raises(CustomerError, match="already belongs to customer"):
        add_identity(other, kind="email", address="ANA@example.com")

    assert ownership() == before


def test_add_identity_refuses_a_merged_customer(customer: Customer, admin: User) -> None:
    """The handle belongs on the customer it was merged into."""
    target = create_customer(name="Ana (work)")
    merge_customers(customer, target, actor=admin)
    customer.refresh_from_db()

    with pytest.raises(CustomerError, match="is merged into customer"):
        add_identity(customer, kind="telegram", address="12345")

    assert not Identity.objects.filter(kind="telegram").exists()


@pytest.mark.parametrize(
    ("kind", "address"), [("email", "ana@"), ("sms", "12"), ("fax", "1"), ("telegram", "a b")]
)
def test_add_identity_refuses_bad_addresses(customer: Customer, kind: str, address: str) -> None:
    with pytest.raises(ValidationError):
        add_identity(customer, kind=kind, address=address)

    assert customer.identities.count() == 1


def test_resolve_sender_creates_the_customer_on_first_contact() -> None:
    resolved = resolve_sender("whatsapp", "whatsapp:+49 151 12345678", display_name=" Jonas ")

    assert resolved.created is True
    assert (resolved.customer.name, resolved.customer.email) == ("Jonas", "")
    assert (resolved.identity.kind, resolved.identity.address) == ("whatsapp", "+4915112345678")
    assert resolved.identity.display_name == "Jonas"
    assert resolved.identity.customer == resolved.customer


def test_resolve_sender_finds_an_existing_customer(customer: Customer) -> None:
    resolved = resolve_sender("email", " ANA@EXAMPLE.COM", display_name="Someone else")

    assert resolved.created is False
    assert resolved.customer == customer
    assert Customer.objects.get().name == "Ana Souza"


def test_resolve_sender_takes_the_email_for_email_contacts() -> None:
    resolved = resolve_sender("email", "Bruno@Example.com")

    assert (resolved.customer.name, resolved.customer.email) == ("", "bruno@example.com")


# --- merge_customers ------------------------------------------------------------------------


@pytest.fixture
def two_customers() -> tuple[Customer, Customer]:
    """Ana wrote by email and WhatsApp and has two orders; her work address is a separate,
    sparse customer with one ticket, one order and a tag of its own."""
    ana = writes("email", "ana@example.com", "First", new=True).author_customer
    assert ana is not None
    Customer.objects.filter(pk=ana.pk).update(
        name="Ana Souza", locale="pt-BR", tags=["vip", "wholesale"]
    )
    writes("email", "ana@example.com", "Second", new=True)
    add_identity(ana, kind="whatsapp", address="+4915112345678")
    writes("whatsapp", "+4915112345678", "Oi")
    make_order(ana, "#1001")
    make_order(ana, "#1002")
    work = writes("email", "ana.work@example.com", "From work", new=True).author_customer
    assert work is not None
    Customer.objects.filter(pk=work.pk).update(tags=["wholesale"])
    make_order(work, "#2001")
    return Customer.objects.get(pk=ana.pk), Customer.objects.get(pk=work.pk)


def test_merge_moves_every_row_to_the_target(
    two_customers: tuple[Customer, Customer], admin: User
) -> None:
    source, target = two_customers
    everything = ownership()

    merge = merge_customers(source, target, actor=admin)

    after = ownership()
    for relation, rows in after.items():
        assert [row_id for row_id, _ in rows] == [row_id for row_id, _ in everything[relation]]
        assert {owner for _, owner in rows} == {target.pk}, relation
    assert sorted(target.identities.values_list("address", flat=True)) == [
        "+4915112345678",
        "ana.work@example.com",
        "ana@example.com",
    ]
    assert target.tickets.count() == 4
    assert sorted(target.orders.values_list("number", flat=True)) == ["#1001", "#1002", "#2001"]
    assert merge.source == source
    assert merge.target == target
    assert merge.merged_by == admin
    assert merge.undone_at is None


def test_merge_records_exactly_what_moved(
    two_customers: tuple[Customer, Customer], admin: User
) -> None:
    source, target = two_customers
    identities = sorted(source.identities.values_list("id", flat=True))
    tickets = sorted(source.tickets.values_list("id", flat=True))
    orders = sorted(source.orders.values_list("id", flat=True))
    messages = sorted(source.messages.values_list("id", flat=True))

    merge = merge_customers(source, target, actor=admin)

    assert {key: sorted(value) for key, value in merge.moved.items() if key[0] != "_"} == {
        "customers.identity.customer": identities,
        "customers.order.customer": orders,
        "tickets.ticket.customer": tickets,
        "tickets.message.author_customer": messages,
    }
    assert merge.moved["_filled_fields"] == {"name": "", "locale": ""}
    assert merge.moved["_added_tags"] == ["vip"]


def test_merge_fills_blank_target_fields_and_marks_the_source(
    two_customers: tuple[Customer, Customer], admin: User
) -> None:
    source, target = two_customers

    merge_customers(source, target, actor=admin)

    target.refresh_from_db()
    source.refresh_from_db()
    # The target's own email is kept; its blanks are filled from the source.
    assert (target.name, target.email, target.locale) == (
        "Ana Souza",
        "ana.work@example.com",
        "pt-BR",
    )
    assert target.tags == ["wholesale", "vip"]
    assert target.merged_into_id is None
    assert source.merged_into_id == target.pk
    assert (source.name, source.email, source.tags) == (
        "Ana Souza",
        "ana@example.com",
        ["vip", "wholesale"],
    )


def test_after_a_merge_the_old_handle_reaches_the_target(
    two_customers: tuple[Customer, Customer], admin: User
) -> None:
    """The source's WhatsApp number now belongs to the target, and its ticket continues."""
    source, target = two_customers
    whatsapp_ticket = source.tickets.get(channel="whatsapp")
    merge_customers(source, target, actor=admin)

    message = writes("whatsapp", "+49 151 12345678", "Any news?")

    assert message.author_customer == target
    assert message.ticket_id == whatsapp_ticket.pk
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("which", ["self", "source-merged", "target-merged"])
def test_refused_merges_change_nothing(
    two_customers: tuple[Customer, Customer], admin: User, which: str
) -> None:
    source, target = two_customers
    third = create_customer(name="Third")
    if which == "self":
        pair, message = (source, source), "into itself"
    elif which == "source-merged":
        merge_customers(source, third, actor=admin)
        pair, message = (source, target), "already merged into customer"
    else:
        merge_customers(target, third, actor=admin)
        pair, message = (source, target), "use that one"
    before = (ownership(), customer_rows(), CustomerMerge.objects.count())

    with pytest.raises(CustomerError, match=message):
        merge_customers(*pair, actor=admin)

    assert (ownership(), customer_rows(), CustomerMerge.objects.count()) == before


# --- undo_customer_merge --------------------------------------------------------------------


def test_undo_gives_back_exactly_the_rows_that_moved(
    two_customers: tuple[Customer, Customer], admin: User, agent: User
) -> None:
    source, target = two_customers
    before_rows = ownership()
    before_customers = customer_rows()
    merge = merge_customers(source, target, actor=admin)

    undone = undo_customer_merge(merge, actor=agent)

    assert ownership() == before_rows
    assert customer_rows() == before_customers
    assert undone.undone_by == agent
    assert undone.undone_at is not None
    assert CustomerMerge.objects.get(pk=merge.pk).undone_at == undone.undone_at


def test_undo_leaves_rows_the_target_gained_after_the_merge(
    two_customers: tuple[Customer, Customer], admin: User
) -> None:
    """What the target gained since the merge is its own and stays."""
    source, target = two_customers
    merge = merge_customers(source, target, actor=admin)
    later_order = make_order(target, "#3001")
    later_ticket = writes("email", "ana@example.com", "New question", new=True).ticket
    assert later_ticket.customer_id == target.pk

    undo_customer_merge(merge, actor=admin)

    assert Order.objects.get(pk=later_order.pk).customer_id == target.pk
    assert Ticket.objects.get(pk=later_ticket.pk).customer_id == target.pk
    # The handle itself moved back, so Ana's next email reaches her own record again.
    assert writes("email", "ana@example.com", "Hi", new=True).author_customer == source


def test_undo_keeps_fields_edited_since_the_merge(
    two_customers: tuple[Customer, Customer], admin: User
) -> None:
    """A filled field an agent has since corrected is not rolled back."""
    source, target = two_customers
    merge = merge_customers(source, target, actor=admin)
    Customer.objects.filter(pk=target.pk).update(name="Ana S. (work)")

    undo_customer_merge(merge, actor=admin)

    target.refresh_from_db()
    assert (target.name, target.locale) == ("Ana S. (work)", "")


def test_a_merge_cannot_be_undone_twice(
    two_customers: tuple[Customer, Customer], admin: User
) -> None:
    source, target = two_customers
    merge = merge_customers(source, target, actor=admin)
    undo_customer_merge(merge, actor=admin)
    before = (ownership(), customer_rows())

    with pytest.raises(CustomerError, match="already been undone"):
        undo_customer_merge(merge, actor=admin)

    assert (ownership(), customer_rows()) == before


def test_after_an_undo_the_customers_can_be_merged_again(
    two_customers: tuple[Customer, Customer], admin: User
) -> None:
    source, target = two_customers
    undo_customer_merge(merge_customers(source, target, actor=admin), actor=admin)

    again = merge_customers(source, target, actor=admin)

    assert list(CustomerMerge.objects.order_by("id").values_list("undone_at", flat=True))[1:] == [
        None
    ]
    assert again.undone_at is None
    assert CustomerMerge.objects.count() == 2
    assert Customer.objects.get(pk=source.pk).merged_into_id == target.pk
    assert target.identities.count() == 3
