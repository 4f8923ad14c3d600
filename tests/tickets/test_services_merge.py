"""merge_tickets: two conversations become one, and nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from customers.models import Customer, Order
from helpdesk.models import User
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import (
    InboundMessage,
    TicketError,
    add_note,
    add_reply,
    change_status,
    link_order,
    merge_tickets,
    receive_message,
    tag_ticket,
)

pytestmark = pytest.mark.django_db

Verb = TicketActivity.Verb


def customer_writes(address: str, text: str, at: datetime, *, new: bool = False) -> Message:
    return receive_message(
        InboundMessage(
            channel="email",
            sender_address=address,
            text=text,
            received_at=at,
            starts_conversation=new,
        )
    )


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


@pytest.fixture
def pair(agent: User, teammate: User) -> tuple[Ticket, Ticket]:
    """Ana's two tickets about one parcel: the source has two customer messages, an early
    reply and a note; the target has one customer message and a later reply."""
    source = customer_writes(
        "ana@example.com", "Parcel late", datetime(2025, 3, 1, tzinfo=UTC)
    ).ticket
    add_reply(source, author=agent, text="Looking into it")
    add_note(source, author=agent, text="Carrier says Monday")
    customer_writes("ana@example.com", "Still late", datetime(2025, 3, 3, tzinfo=UTC))
    target = customer_writes(
        "ana.work@example.com", "Order #1001?", datetime(2025, 3, 2, tzinfo=UTC), new=True
    ).ticket
    add_reply(target, author=teammate, text="Checking")
    tag_ticket(source, ["refund", "vip"], actor=agent)
    tag_ticket(target, ["vip", "late"], actor=agent)
    shared = make_order(source.customer, "#1001")
    link_order(source, shared, actor=agent)
    link_order(source, make_order(source.customer, "#1002"), actor=agent)
    link_order(target, shared, actor=agent)
    link_order(target, make_order(target.customer, "#2001"), actor=agent)
    return Ticket.objects.get(pk=source.pk), Ticket.objects.get(pk=target.pk)


def test_merge_moves_every_message_and_unions_tags_and_orders(
    pair: tuple[Ticket, Ticket], admin: User
) -> None:
    source, target = pair
    source_messages = set(source.messages.values_list("id", flat=True))
    target_messages = set(target.messages.values_list("id", flat=True))
    assert (len(source_messages), len(target_messages)) == (4, 2)
    total = Message.objects.count()

    merged = merge_tickets(source, target, actor=admin)

    assert merged.pk == target.pk
    assert set(target.messages.values_list("id", flat=True)) == source_messages | target_messages
    assert source.messages.count() == 0
    assert Message.objects.count() == total
    assert sorted(target.tags.values_list("name", flat=True)) == ["late", "refund", "vip"]
    assert sorted(target.orders.values_list("number", flat=True)) == ["#1001", "#1002", "#2001"]
    # The source keeps its own tags and orders, for the record.
    assert sorted(source.tags.values_list("name", flat=True)) == ["refund", "vip"]
    assert sorted(source.orders.values_list("number", flat=True)) == ["#1001", "#1002"]


def test_merge_closes_the_source_and_records_both_sides(
    pair: tuple[Ticket, Ticket], admin: User
) -> None:
    source, target = pair
    source_status = source.status

    merge_tickets(source, target, actor=admin)

    source.refresh_from_db()
    assert source.status == Ticket.Status.CLOSED
    assert source.merged_into_id == target.pk
    assert source.closed_at is not None
    assert Ticket.objects.get(pk=target.pk).status == target.status
    merged_into = source.activities.get(verb=Verb.MERGED_INTO)
    assert (merged_into.actor, merged_into.data) == (
        admin,
        {
            "before": source_status,
            "target": {"id": target.pk, "number": target.number},
            "messages": 4,
        },
    )
    merged_from = target.activities.get(verb=Verb.MERGED_FROM)
    assert (merged_from.actor, merged_from.data) == (
        admin,
        {"source": {"id": source.pk, "number": source.number}, "messages": 4},
    )
    # Each side keeps its own history.
    assert source.activities.filter(verb=Verb.TAGGED).count() == 1
    assert target.activities.filter(verb=Verb.TAGGED).count() == 1


def test_merge_recomputes_the_conversation_times(pair: tuple[Ticket, Ticket], admin: User) -> None:
    """The target shows the latest customer and agent messages of both, and the earliest
    first response."""
    source, target = pair
    source_first_response = source.first_responded_at
    target_last_reply = target.last_agent_message_at
    assert source_first_response is not None
    assert target_last_reply is not None
    assert source_first_response < target_last_reply

    merge_tickets(source, target, actor=admin)

    target.refresh_from_db()
    assert target.last_customer_message_at == datetime(2025, 3, 3, tzinfo=UTC)
    assert target.last_agent_message_at == target_last_reply
    assert target.last_message_at == target_last_reply
    assert target.first_responded_at == source_first_response


def test_merge_into_a_ticket_without_a_response_takes_the_sources(
    make_ticket: Callable[..., Ticket], agent: User
) -> None:
    source, target = make_ticket(), make_ticket()
    first_response = add_reply(source, author=agent, text="Hi").delivery_updated_at

    merge_tickets(source, target, actor=agent)

    assert Ticket.objects.get(pk=target.pk).first_responded_at == first_response


def test_a_closed_source_can_be_merged(make_ticket: Callable[..., Ticket], agent: User) -> None:
    source, target = make_ticket(), make_ticket()
    change_status(source, "closed", actor=agent)

    merge_tickets(source, target, actor=agent)

    assert Ticket.objects.get(pk=source.pk).merged_into_id == target.pk
    assert Ticket.objects.get(pk=target.pk).messages.count() == 2


def snapshot() -> dict[str, Any]:
    return {
        "tickets": list(Ticket.objects.order_by("id").values()),
        "messages": list(Message.objects.order_by("id").values_list("id", "ticket_id")),
        "activities": TicketActivity.objects.count(),
        "tags": list(Ticket.tags.through.objects.order_by("id").values_list("id", flat=True)),
        "orders": list(Ticket.orders.through.objects.order_by("id").values_list("id", flat=True)),
    }


def test_merging_a_ticket_into_itself_is_refused(
    make_ticket: Callable[..., Ticket], agent: User
) -> None:
    ticket = make_ticket()
    before = snapshot()

    with pytest.raises(TicketError, match="into itself"):
        merge_tickets(ticket, ticket, actor=agent)

    assert snapshot() == before


def test_merging_an_already_merged_ticket_is_refused(
    make_ticket: Callable[..., Ticket], agent: User
) -> None:
    source, target, third = make_ticket(), make_ticket(), make_ticket()
    merge_tickets(source, target, actor=agent)
    before = snapshot()

    with pytest.raises(TicketError, match="already merged"):
        merge_tickets(source, third, actor=agent)
    with pytest.raises(TicketError, match="already merged"):
        merge_tickets(third, source, actor=agent)

    assert snapshot() == before


def test_merging_back_the_other_way_is_refused(
    make_ticket: Callable[..., Ticket], agent: User
) -> None:
    """After A into B, B into A would orphan the conversation; it is refused."""
    source, target = make_ticket(), make_ticket()
    merge_tickets(source, target, actor=agent)
    before = snapshot()

    with pytest.raises(TicketError, match=f"#{source.number} was already merged"):
        merge_tickets(target, source, actor=agent)

    assert snapshot() == before
    assert Ticket.objects.get(pk=target.pk).messages.count() == 2


def test_merging_into_a_closed_ticket_is_refused(
    make_ticket: Callable[..., Ticket], agent: User
) -> None:
    source, target = make_ticket(), make_ticket()
    change_status(target, "closed", actor=agent)
    before = snapshot()

    with pytest.raises(TicketError, match="is closed; merge into an active ticket"):
        merge_tickets(source, target, actor=agent)

    assert snapshot() == before
