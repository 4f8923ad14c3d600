"""Domain events: emitted by every service, delivered only after commit, to the browsers'
channel-layer groups and to every consumer task."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import transaction

from automation.models import SlaPolicy
from automation.sla.services import check_ticket_sla, sync_ticket_sla
from customers.models import Customer, CustomerMerge, Order
from customers.services import merge_customers, undo_customer_merge
from helpdesk.celery import app as celery_app
from helpdesk.events import (
    AGENTS_GROUP,
    EVENT_TYPES,
    AgentAvailabilityChanged,
    AgentMentioned,
    AgentRoutingChanged,
    CustomerMergeUndone,
    CustomersMerged,
    Event,
    MessageCreated,
    MessageQueued,
    MessageUpdated,
    SlaBreached,
    SlaWarning,
    TicketCreated,
    TicketsMerged,
    TicketUpdated,
    _BackgroundLoop,
    agent_group,
    delivered_together,
    emit,
    event_from_payload,
    events_from_payloads,
    ticket_group,
)
from helpdesk.models import Team, User
from helpdesk.services import set_availability, update_agent
from tests.helpdesk import event_tasks
from tickets.models import Message, Ticket
from tickets.services import (
    InboundMessage,
    add_note,
    add_reply,
    apply_status_update,
    assign_team,
    assign_ticket,
    change_priority,
    change_status,
    link_order,
    mark_message_failed,
    mark_message_sent,
    merge_tickets,
    open_ticket,
    receive_message,
    tag_ticket,
    unassign_ticket,
    unlink_order,
    untag_ticket,
)

pytestmark = pytest.mark.django_db

RECORD = "tests.helpdesk.event_tasks.record_event_task"
FAIL = "tests.helpdesk.event_tasks.failing_event_task"

Expected = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def consumers(settings: Any) -> Iterator[list[Any]]:
    """The recording task as the only consumer, run eagerly whatever the broker setting."""
    settings.EVENT_CONSUMER_TASKS = [RECORD]
    was_eager = celery_app.conf.get("task_always_eager")
    celery_app.conf.update(task_always_eager=True)
    event_tasks.RECEIVED.clear()
    event_tasks.TASK_SIZES.clear()
    yield event_tasks.RECEIVED
    event_tasks.RECEIVED.clear()
    event_tasks.TASK_SIZES.clear()
    celery_app.conf.update(task_always_eager=was_eager)


@pytest.fixture
def layer(settings: Any) -> BaseChannelLayer:
    """A fresh in-memory channel layer, also when the suite runs with Redis."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layer = get_channel_layer()
    assert channel_layer is not None
    async_to_sync(channel_layer.flush)()
    return channel_layer


def subscribe(layer: BaseChannelLayer, group: str) -> str:
    channel: str = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def drain(layer: BaseChannelLayer, channel: str) -> list[dict[str, Any]]:
    """Everything waiting on ``channel``, without blocking once it is empty."""

    async def receive_all() -> list[dict[str, Any]]:
        received = []
        while True:
            try:
                received.append(await asyncio.wait_for(layer.receive(channel), timeout=0.01))
            except TimeoutError:
                return received

    return async_to_sync(receive_all)()


# Events for workers only: browsers learn the same from another event.
NOT_PUSHED = frozenset({"message.queued", "agent.routing_changed"})
# Events for one agent: pushed to that agent's own group, not to every agent.
OWN_GROUP = frozenset({"agent.mentioned"})


def pushed(expected: Expected) -> list[dict[str, Any]]:
    return [
        {"type": "helpdesk.event", "event": name, "data": data}
        for name, data in expected
        if name not in NOT_PUSHED and name not in OWN_GROUP
    ]


# --- The world every service case starts from ------------------------------------------------


@dataclass
class World:
    ticket: Ticket
    other: Ticket
    agent: User
    teammate: User
    team: Team
    order: Order
    customer: Customer
    other_customer: Customer


@pytest.fixture
def world(
    make_ticket: Callable[..., Ticket],
    agent: User,
    teammate: User,
    returns_team: Team,
    consumers: list[Any],
    layer: BaseChannelLayer,
) -> World:
    ticket = make_ticket(sender_address="ana@example.com")
    other = make_ticket(sender_address="bruno@example.com")
    order = Order.objects.create(
        customer=ticket.customer,
        store="shop",
        external_id="1001",
        number="#1001",
        placed_at=datetime(2025, 1, 1, tzinfo=UTC),
        currency="EUR",
        total=Decimal("10.00"),
    )
    # The fixtures' own events are not under test.
    consumers.clear()
    async_to_sync(layer.flush)()
    return World(
        ticket, other, agent, teammate, returns_team, order, ticket.customer, other.customer
    )


def _new_ticket_id() -> int:
    return Ticket.objects.order_by("-id").values_list("id", flat=True)[0]


def when_message_opens_a_ticket(w: World) -> Expected:
    message = receive_message(
        InboundMessage(channel="sms", sender_address="+14155550123", text="Hi")
    )
    return [
        ("ticket.created", {"ticket_id": message.ticket_id}),
        (
            "message.created",
            {"ticket_id": message.ticket_id, "message_id": message.pk, "kind": "customer"},
        ),
    ]


def when_message_reopens_a_ticket(w: World) -> Expected:
    message = receive_message(
        InboundMessage(channel="email", sender_address="ana@example.com", text="Again")
    )
    return [
        (
            "message.created",
            {"ticket_id": w.ticket.pk, "message_id": message.pk, "kind": "customer"},
        ),
        ("ticket.updated", {"ticket_id": w.ticket.pk, "fields": ["status"]}),
    ]


def when_message_follows_up_a_closed_ticket(w: World) -> Expected:
    message = receive_message(
        InboundMessage(channel="email", sender_address="ana@example.com", text="Again")
    )
    follow_up = message.ticket_id
    return [
        ("ticket.created", {"ticket_id": follow_up}),
        ("message.created", {"ticket_id": follow_up, "message_id": message.pk, "kind": "customer"}),
    ]


def when_ticket_opened(w: World) -> Expected:
    ticket = open_ticket(customer=w.customer, channel="email", subject="Phone call")
    return [("ticket.created", {"ticket_id": ticket.pk})]


def when_reply(w: World) -> Expected:
    message = add_reply(w.ticket, author=w.agent, text="On its way")
    fields = ["assignee", "first_responded_at", "last_agent_message_at", "last_message_at"]
    return [
        ("message.created", {"ticket_id": w.ticket.pk, "message_id": message.pk, "kind": "reply"}),
        ("message.queued", {"ticket_id": w.ticket.pk, "message_id": message.pk}),
        ("ticket.updated", {"ticket_id": w.ticket.pk, "fields": [*fields, "status"]}),
    ]


def when_note_mentions(w: World) -> Expected:
    note = add_note(w.ticket, author=w.agent, text="@carol look", mentions=[w.teammate.pk])
    ids = {"ticket_id": w.ticket.pk, "message_id": note.pk}
    return [
        ("message.created", {**ids, "kind": "note"}),
        (
            "agent.mentioned",
            {
                "user_id": w.teammate.pk,
                **ids,
                "ticket_number": w.ticket.number,
                "author_id": w.agent.pk,
            },
        ),
    ]


def when_note(w: World) -> Expected:
    note = add_note(w.ticket, author=w.agent, text="VIP")
    return [("message.created", {"ticket_id": w.ticket.pk, "message_id": note.pk, "kind": "note"})]


def updated(w: World, *fields: str) -> Expected:
    return [("ticket.updated", {"ticket_id": w.ticket.pk, "fields": list(fields)})]


def when_assign(w: World) -> Expected:
    assign_ticket(w.ticket, w.teammate, actor=w.agent)
    return updated(w, "assignee")


def when_unassign(w: World) -> Expected:
    unassign_ticket(w.ticket, actor=w.agent)
    return updated(w, "assignee")


def when_availability(w: World) -> Expected:
    set_availability(w.agent, "online", actor=w.agent)
    return [("agent.availability_changed", {"user_id": w.agent.pk, "availability": "online"})]


def when_agent_capacity(w: World) -> Expected:
    lead = User.objects.create_user("lead", "lead@shop.test", "pw", role=User.Role.ADMIN)
    update_agent(w.teammate, actor=lead, capacity=7)
    return [("agent.routing_changed", {"user_id": w.teammate.pk, "fields": ["capacity"]})]


def when_team(w: World) -> Expected:
    assign_team(w.ticket, w.team, actor=w.agent)
    return updated(w, "team")


def when_solved(w: World) -> Expected:
    change_status(w.ticket, "solved", actor=w.agent)
    return updated(w, "solved_at", "status")


def when_closed(w: World) -> Expected:
    change_status(w.ticket, "closed", actor=w.agent)
    return updated(w, "closed_at", "status")


def _sla_policy(w: World) -> None:
    """A 60-minute first response, warned 15 minutes before, clocked on ``w.ticket`` only."""
    SlaPolicy.objects.create(name="Events", first_response_minutes=60, warning_minutes=15)
    sync_ticket_sla(w.ticket.pk)


def when_sla_warning(w: World) -> Expected:
    check_ticket_sla(w.ticket.pk, now=w.ticket.created_at + timedelta(minutes=50))
    return [("sla.warning", {"ticket_id": w.ticket.pk, "target": "first_response"})]


def when_sla_breached(w: World) -> Expected:
    check_ticket_sla(w.ticket.pk, now=w.ticket.created_at + timedelta(minutes=61))
    return [("sla.breached", {"ticket_id": w.ticket.pk, "target": "first_response"})]


def when_priority(w: World) -> Expected:
    change_priority(w.ticket, "high", actor=w.agent)
    return updated(w, "priority")


def when_tag(w: World) -> Expected:
    tag_ticket(w.ticket, ["refund"], actor=w.agent)
    return updated(w, "tags")


def when_untag(w: World) -> Expected:
    untag_ticket(w.ticket, ["refund"], actor=w.agent)
    return updated(w, "tags")


def when_link(w: World) -> Expected:
    link_order(w.ticket, w.order, actor=w.agent)
    return updated(w, "orders")


def when_unlink(w: World) -> Expected:
    unlink_order(w.ticket, w.order, actor=w.agent)
    return updated(w, "orders")


def when_merge_tickets(w: World) -> Expected:
    merge_tickets(w.ticket, w.other, actor=w.agent)
    return [("ticket.merged", {"source_ticket_id": w.ticket.pk, "target_ticket_id": w.other.pk})]


def when_merge_customers(w: World) -> Expected:
    merge = merge_customers(w.customer, w.other_customer, actor=w.agent)
    ids = {"source_customer_id": w.customer.pk, "target_customer_id": w.other_customer.pk}
    return [("customer.merged", {"merge_id": merge.pk, **ids})]


def when_undo_customer_merge(w: World) -> Expected:
    merge = undo_customer_merge(CustomerMerge.objects.get(), actor=w.agent)
    ids = {"source_customer_id": w.customer.pk, "target_customer_id": w.other_customer.pk}
    return [("customer.merge_undone", {"merge_id": merge.pk, **ids})]


def _queued_reply(w: World) -> Message:
    return add_reply(w.ticket, author=w.agent, text="On its way")


def _sent_reply(w: World) -> Message:
    message = mark_message_sent(_queued_reply(w).pk, provider_message_id="out-1@shop.test")
    assert message is not None
    return message


def _the_reply(w: World) -> Message:
    return Message.objects.get(ticket=w.ticket, kind=Message.Kind.REPLY)


def message_updated(message: Message, *fields: str) -> Expected:
    ids = {"ticket_id": message.ticket_id, "message_id": message.pk}
    return [("message.updated", {**ids, "fields": list(fields)})]


def when_sent(w: World) -> Expected:
    message = _the_reply(w)
    mark_message_sent(message.pk, provider_message_id="out-1@shop.test")
    fields = ("delivery_error", "delivery_status", "delivery_updated_at", "provider_message_id")
    return message_updated(message, *fields)


def when_failed(w: World) -> Expected:
    message = _the_reply(w)
    mark_message_failed(message.pk, error="550 mailbox unavailable")
    return message_updated(message, "delivery_error", "delivery_status", "delivery_updated_at")


def when_delivered(w: World) -> Expected:
    message = _the_reply(w)
    apply_status_update(None, provider_message_id="out-1@shop.test", status="delivered")
    return message_updated(message, "delivery_status", "delivery_updated_at")


def when_failure_reported(w: World) -> Expected:
    message = _the_reply(w)
    apply_status_update(
        None, provider_message_id="out-1@shop.test", status="failed", error="Bounced"
    )
    return message_updated(message, "delivery_error", "delivery_status", "delivery_updated_at")


def when_nothing_moves(w: World) -> Expected:
    """A report that changes nothing (a late "sent" after "sent") tells nobody."""
    apply_status_update(None, provider_message_id="out-1@shop.test", status="sent")
    mark_message_sent(_the_reply(w).pk, provider_message_id="out-2@shop.test")
    return []


def nothing(w: World) -> None:
    return None


CASES: dict[str, tuple[Callable[[World], Any], Callable[[World], Expected]]] = {
    "receive-new": (nothing, when_message_opens_a_ticket),
    "receive-reopens": (
        lambda w: change_status(w.ticket, "pending", actor=w.agent),
        when_message_reopens_a_ticket,
    ),
    "receive-follow-up": (
        lambda w: change_status(w.ticket, "closed", actor=w.agent),
        when_message_follows_up_a_closed_ticket,
    ),
    "open_ticket": (nothing, when_ticket_opened),
    "add_reply": (nothing, when_reply),
    "add_note": (nothing, when_note),
    "add_note-mentions": (nothing, when_note_mentions),
    "assign_ticket": (nothing, when_assign),
    "unassign_ticket": (lambda w: assign_ticket(w.ticket, w.agent, actor=None), when_unassign),
    "assign_team": (nothing, when_team),
    "set_availability": (nothing, when_availability),
    "update_agent-capacity": (nothing, when_agent_capacity),
    "change_status-solved": (nothing, when_solved),
    "change_status-closed": (nothing, when_closed),
    "change_priority": (nothing, when_priority),
    "sla-warning": (_sla_policy, when_sla_warning),
    "sla-breached": (_sla_policy, when_sla_breached),
    "tag_ticket": (nothing, when_tag),
    "untag_ticket": (lambda w: tag_ticket(w.ticket, ["refund"], actor=None), when_untag),
    "link_order": (nothing, when_link),
    "unlink_order": (lambda w: link_order(w.ticket, w.order, actor=None), when_unlink),
    "merge_tickets": (nothing, when_merge_tickets),
    "merge_customers": (nothing, when_merge_customers),
    "undo_customer_merge": (
        lambda w: merge_customers(w.customer, w.other_customer, actor=None),
        when_undo_customer_merge,
    ),
    "mark_message_sent": (_queued_reply, when_sent),
    "mark_message_failed": (_queued_reply, when_failed),
    "apply_status_update-delivered": (_sent_reply, when_delivered),
    "apply_status_update-failed": (_sent_reply, when_failure_reported),
    "apply_status_update-unchanged": (_sent_reply, when_nothing_moves),
}


@pytest.mark.parametrize("case", CASES)
def test_service_events_are_delivered_only_after_commit(
    case: str,
    world: World,
    layer: BaseChannelLayer,
    consumers: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """Nothing reaches a browser or a task until the transaction commits; then every event
    goes to the agents' group once (never again to a ticket's group, so a socket in both
    sees it once) and to every consumer task, in the order the service emitted them."""
    given, when = CASES[case]
    given(world)
    consumers.clear()
    agents = subscribe(layer, AGENTS_GROUP)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        expected = when(world)

    assert consumers == []
    assert drain(layer, agents) == []
    ticket_channels = {
        pk: subscribe(layer, ticket_group(pk)) for pk in Ticket.objects.values_list("id", flat=True)
    }
    for callback in callbacks:
        callback()

    assert consumers == expected
    assert drain(layer, agents) == pushed(expected)
    for pk, channel in ticket_channels.items():
        assert drain(layer, channel) == [], f"ticket-{pk}"


def test_every_event_type_is_covered_by_a_service_case(world: World) -> None:
    """A new event type needs a row in CASES."""
    names: set[str] = set()
    for case, (given, when) in CASES.items():
        with transaction.atomic():
            given(world)
            names |= {name for name, _ in when(world)}
            transaction.set_rollback(True)
        assert names, case

    assert names == set(EVENT_TYPES)


class Boom(Exception):
    pass


@pytest.mark.parametrize("case", CASES)
def test_nothing_is_delivered_when_the_transaction_rolls_back(
    case: str,
    world: World,
    layer: BaseChannelLayer,
    consumers: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    given, when = CASES[case]
    given(world)
    consumers.clear()
    agents = subscribe(layer, AGENTS_GROUP)

    def change_then_fail() -> None:
        with transaction.atomic():
            when(world)
            raise Boom

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        change_then_fail()

    assert callbacks == []
    assert consumers == []
    assert drain(layer, agents) == []


# --- Robust delivery -------------------------------------------------------------------------


def test_a_failing_channel_layer_push_does_not_stop_the_consumer_tasks(
    layer: BaseChannelLayer,
    consumers: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A realtime outage is logged; automation still hears about the change."""

    async def refuse(group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(layer, "group_send", refuse)

    with (
        caplog.at_level(logging.ERROR, logger="helpdesk.events"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        emit(TicketUpdated(ticket_id=7, fields=("status",)))

    assert consumers == [("ticket.updated", {"ticket_id": 7, "fields": ["status"]})]
    assert [r.getMessage() for r in caplog.records] == [
        "Could not push ticket.updated to group agents",
    ]


def test_an_unusable_channel_layer_does_not_stop_the_consumer_tasks(
    settings: Any,
    consumers: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A layer that cannot even be built (bad backend, bad URL) is logged, not fatal."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "no.such.ChannelLayer"}}

    with (
        caplog.at_level(logging.ERROR, logger="helpdesk.events"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        emit(TicketCreated(ticket_id=3))

    assert consumers == [("ticket.created", {"ticket_id": 3})]
    assert [r.getMessage() for r in caplog.records] == ["No channel layer for ticket.created"]


def test_a_failing_consumer_task_does_not_stop_the_others_or_the_push(
    settings: Any,
    layer: BaseChannelLayer,
    consumers: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each consumer is on its own; a broken one (or a wrong path) is logged."""
    settings.EVENT_CONSUMER_TASKS = [FAIL, "tests.helpdesk.event_tasks.no_such_task", RECORD]
    agents = subscribe(layer, AGENTS_GROUP)

    with (
        caplog.at_level(logging.ERROR, logger="helpdesk.events"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        emit(TicketCreated(ticket_id=1))
        emit(TicketCreated(ticket_id=2))

    assert consumers == [("ticket.created", {"ticket_id": 1}), ("ticket.created", {"ticket_id": 2})]
    assert drain(layer, agents) == pushed(consumers)
    assert [r.getMessage() for r in caplog.records] == [
        f"Could not hand ticket.created to {FAIL}",
        "Could not hand ticket.created to tests.helpdesk.event_tasks.no_such_task",
    ] * 2


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_delivers_at_once(consumers: list[Any]) -> None:
    """In autocommit there is nothing to wait for."""
    emit(TicketCreated(ticket_id=5))

    assert consumers == [("ticket.created", {"ticket_id": 5})]


def test_each_event_is_its_own_task_outside_a_delivered_together_block(
    consumers: list[Any], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        emit(TicketCreated(ticket_id=1))
        emit(MessageCreated(ticket_id=1, message_id=10, kind="customer"))

    assert event_tasks.TASK_SIZES == [1, 1]
    assert consumers == [
        ("ticket.created", {"ticket_id": 1}),
        ("message.created", {"ticket_id": 1, "message_id": 10, "kind": "customer"}),
    ]


# --- Delivered together ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_delivered_together_block_hands_its_commits_to_each_consumer_in_one_task(
    consumers: list[Any], layer: BaseChannelLayer
) -> None:
    """As the inbound batch task threads messages: each commits on its own and is pushed to
    the browsers at once, and the consumers get one task, in commit order, at the end."""
    agents = subscribe(layer, AGENTS_GROUP)

    with delivered_together():
        with transaction.atomic():
            emit(TicketCreated(ticket_id=1))
            emit(MessageCreated(ticket_id=1, message_id=10, kind="customer"))
        assert [m["event"] for m in drain(layer, agents)] == ["ticket.created", "message.created"]
        assert consumers == []
        with transaction.atomic():
            emit(MessageCreated(ticket_id=2, message_id=20, kind="customer"))

    assert event_tasks.TASK_SIZES == [3]
    assert consumers == [
        ("ticket.created", {"ticket_id": 1}),
        ("message.created", {"ticket_id": 1, "message_id": 10, "kind": "customer"}),
        ("message.created", {"ticket_id": 2, "message_id": 20, "kind": "customer"}),
    ]
    assert [m["event"] for m in drain(layer, agents)] == ["message.created"]


@pytest.mark.django_db(transaction=True)
def test_a_delivered_together_block_leaves_out_what_rolled_back_and_keeps_what_committed(
    consumers: list[Any], layer: BaseChannelLayer
) -> None:
    """A message that fails rolls back alone; an error that ends the block still hands on
    what had committed before it."""
    agents = subscribe(layer, AGENTS_GROUP)

    def create(ticket_id: int, *, fail: bool = False) -> None:
        with transaction.atomic():
            emit(TicketCreated(ticket_id=ticket_id))
            if fail:
                raise Boom

    def batch_that_fails_at_the_end() -> None:
        with delivered_together():
            create(1)
            with pytest.raises(Boom):
                create(2, fail=True)
            create(3)
            raise Boom

    with pytest.raises(Boom):
        batch_that_fails_at_the_end()

    assert event_tasks.TASK_SIZES == [2]
    assert consumers == [("ticket.created", {"ticket_id": 1}), ("ticket.created", {"ticket_id": 3})]
    assert drain(layer, agents) == pushed(consumers)


@pytest.mark.django_db(transaction=True)
def test_a_nested_delivered_together_block_joins_the_outer_one(consumers: list[Any]) -> None:
    with delivered_together():
        emit(TicketCreated(ticket_id=1))
        with delivered_together():
            emit(TicketCreated(ticket_id=2))
        assert consumers == []
        emit(TicketCreated(ticket_id=3))

    assert event_tasks.TASK_SIZES == [3]
    assert [payload["ticket_id"] for _, payload in consumers] == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_a_block_that_commits_nothing_enqueues_nothing(consumers: list[Any]) -> None:
    def roll_back() -> None:
        with transaction.atomic():
            emit(TicketCreated(ticket_id=1))
            raise Boom

    with delivered_together(), pytest.raises(Boom):
        roll_back()

    assert event_tasks.TASK_SIZES == []
    # The block is over: the next event goes out on its own again.
    emit(TicketCreated(ticket_id=2))
    assert event_tasks.TASK_SIZES == [1]


@pytest.mark.django_db(transaction=True)
def test_a_consumer_receives_only_its_subscribed_events_and_no_task_without_any(
    settings: Any, consumers: list[Any]
) -> None:
    """The delivery pipeline subscribes to queued messages alone: a batch of customer
    messages costs it no task, a batch with a queued reply one task with just that."""
    settings.EVENT_CONSUMER_TASKS = ["tests.helpdesk.event_tasks.queued_only_event_task", RECORD]
    event_tasks.QUEUED_ONLY.clear()
    with delivered_together():
        emit(TicketCreated(ticket_id=1))
        emit(MessageCreated(ticket_id=1, message_id=10, kind="customer"))
    assert event_tasks.QUEUED_ONLY == []
    with delivered_together():
        emit(MessageCreated(ticket_id=1, message_id=11, kind="reply"))
        emit(MessageQueued(ticket_id=1, message_id=11))

    assert event_tasks.QUEUED_ONLY == [[["message.queued", {"ticket_id": 1, "message_id": 11}]]]
    assert event_tasks.TASK_SIZES == [2, 2]


def test_events_from_payloads_sets_malformed_items_aside_and_keeps_the_rest() -> None:
    good = ["ticket.created", {"ticket_id": 1}]
    bad = [
        ["ticket.deleted", {"ticket_id": 1}],
        ["ticket.created", {"ticket_id": "1"}],
        ["ticket.created"],
        "ticket.created",
        ["ticket.created", None],
        ["ticket.created", ["ticket_id", 1]],
        None,
    ]

    events, malformed = events_from_payloads([bad[0], good, *bad[1:], good])

    assert events == [TicketCreated(ticket_id=1), TicketCreated(ticket_id=1)]
    assert malformed == bad


# --- Payloads --------------------------------------------------------------------------------

SAMPLES: list[Event] = [
    TicketCreated(ticket_id=1),
    TicketUpdated(ticket_id=2, fields=("assignee", "status")),
    MessageCreated(ticket_id=3, message_id=30, kind="reply"),
    MessageUpdated(ticket_id=3, message_id=30, fields=("delivery_status", "delivery_error")),
    MessageQueued(ticket_id=3, message_id=30),
    TicketsMerged(source_ticket_id=4, target_ticket_id=5),
    CustomersMerged(merge_id=6, source_customer_id=7, target_customer_id=8),
    CustomerMergeUndone(merge_id=6, source_customer_id=7, target_customer_id=8),
    AgentMentioned(user_id=9, ticket_id=3, ticket_number=1003, message_id=30, author_id=10),
    SlaWarning(ticket_id=3, target="first_response"),
    SlaBreached(ticket_id=3, target="resolution"),
    AgentAvailabilityChanged(user_id=9, availability="offline"),
    AgentRoutingChanged(user_id=9, fields=("capacity", "teams")),
]


def test_every_event_type_has_a_sample() -> None:
    assert {type(sample) for sample in SAMPLES} == set(EVENT_TYPES.values())


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: event.name)
def test_event_round_trips_through_json(event: Event) -> None:
    """What a worker receives from the broker rebuilds the very same event."""
    wire = json.loads(json.dumps({"name": event.name, "payload": event.payload()}))

    assert event_from_payload(wire["name"], wire["payload"]) == event


def test_payload_is_json_shaped() -> None:
    """Lists, not tuples, so eager and brokered consumers see the same thing."""
    assert TicketUpdated(ticket_id=2, fields=("tags",)).payload() == {
        "ticket_id": 2,
        "fields": ["tags"],
    }


@pytest.mark.parametrize(
    ("name", "payload", "error"),
    [
        ("ticket.deleted", {"ticket_id": 1}, KeyError),
        ("ticket.created", {}, KeyError),
        ("message.created", {"ticket_id": 1, "message_id": 2}, KeyError),
        ("ticket.created", {"ticket_id": "1"}, TypeError),
        ("ticket.created", {"ticket_id": True}, TypeError),
        ("ticket.created", {"ticket_id": None}, TypeError),
        ("ticket.updated", {"ticket_id": 1, "fields": "status"}, TypeError),
        ("ticket.updated", {"ticket_id": 1, "fields": [1]}, TypeError),
        ("message.created", {"ticket_id": 1, "message_id": 2, "kind": 3}, TypeError),
        ("message.updated", {"ticket_id": 1, "fields": ["delivery_status"]}, KeyError),
        ("message.updated", {"ticket_id": 1, "message_id": "2", "fields": []}, TypeError),
        ("message.updated", {"ticket_id": 1, "message_id": 2, "fields": "sent"}, TypeError),
    ],
)
def test_malformed_payloads_are_refused(
    name: str, payload: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        event_from_payload(name, payload)


def test_extra_payload_keys_are_ignored() -> None:
    """A newer sender may add fields; an older receiver still understands the rest."""
    assert event_from_payload("ticket.created", {"ticket_id": 1, "extra": "x"}) == TicketCreated(
        ticket_id=1
    )


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: event.name)
def test_event_groups(event: Event) -> None:
    """Every domain event for browsers reaches each agent's socket exactly once, through the
    agents group; worker-only events reach no socket."""
    if event.name in OWN_GROUP:
        assert isinstance(event, AgentMentioned)
        assert event.groups() == [agent_group(event.user_id)]
        return
    assert event.groups() == ([] if event.name in NOT_PUSHED else [AGENTS_GROUP])


def test_a_mention_reaches_only_the_mentioned_agents_own_group(
    world: World, layer: BaseChannelLayer, django_capture_on_commit_callbacks: Any
) -> None:
    agents = subscribe(layer, AGENTS_GROUP)
    carol = subscribe(layer, agent_group(world.teammate.pk))
    bob = subscribe(layer, agent_group(world.agent.pk))

    with django_capture_on_commit_callbacks(execute=True):
        note = add_note(world.ticket, author=world.agent, text="hi", mentions=[world.teammate.pk])

    mention = {
        "type": "helpdesk.event",
        "event": "agent.mentioned",
        "data": {
            "user_id": world.teammate.pk,
            "ticket_id": world.ticket.pk,
            "ticket_number": world.ticket.number,
            "message_id": note.pk,
            "author_id": world.agent.pk,
        },
    }
    assert drain(layer, carol) == [mention]
    assert drain(layer, bob) == []
    assert [push["event"] for push in drain(layer, agents)] == ["message.created"]


class RecordingLayer:
    """Stands in for an out-of-process channel layer: records each group_send and how many
    ran at once; ``fail`` makes every send raise."""

    def __init__(self, *, expected: int, fail: bool = False) -> None:
        self.sends: list[tuple[str, dict[str, Any]]] = []
        self.running = 0
        self.most_at_once = 0
        self.expected = expected
        self.fail = fail
        self.events = 0
        self.finished = threading.Event()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(0.002)
        self.running -= 1
        self.sends.append((group, message))
        self.events += len(message.get("events", [message]))
        if self.events >= self.expected:
            self.finished.set()
        if self.fail:
            raise ConnectionError("redis is down")


def events_sent(layer: RecordingLayer, group: str) -> list[dict[str, Any]]:
    """Every event the group got, in order, whether sent alone or together."""
    return [
        event
        for sent_to, message in layer.sends
        if sent_to == group
        for event in message.get("events", [message])
    ]


@pytest.fixture
def push_loop() -> Iterator[_BackgroundLoop]:
    loop = _BackgroundLoop(in_flight=2)
    yield loop
    loop.loop.call_soon_threadsafe(loop.loop.stop)


def test_a_burst_of_pushes_goes_out_together_a_few_sends_at_a_time(
    push_loop: _BackgroundLoop,
) -> None:
    """A worker committing a batch pushes hundreds of events at once: at most ``in_flight``
    sends run together (each holds a connection of the layer's pool), what waits is sent
    to its group as one message, and every event arrives, in order."""
    layer = RecordingLayer(expected=250)
    errors: list[BaseException] = []
    for number in range(200):
        push_loop.push(layer, "agents", event_message(number), on_error=errors.append)
        if number % 4 == 0:
            push_loop.push(layer, "agent-7", event_message(number), on_error=errors.append)

    assert layer.finished.wait(timeout=10)
    assert events_sent(layer, "agents") == [event_message(n) for n in range(200)]
    assert events_sent(layer, "agent-7") == [event_message(n) for n in range(0, 200, 4)]
    assert layer.most_at_once <= 2
    assert len(layer.sends) < 20
    together = [message for _, message in layer.sends if "events" in message]
    assert together
    assert all(message["type"] == "helpdesk.events" for message in together)
    assert errors == []


def test_a_lone_push_goes_out_alone(push_loop: _BackgroundLoop) -> None:
    layer = RecordingLayer(expected=1)

    push_loop.push(layer, "agents", event_message(1), on_error=lambda error: None)

    assert layer.finished.wait(timeout=10)
    assert layer.sends == [("agents", event_message(1))]


def test_a_failed_send_reports_each_of_its_events(push_loop: _BackgroundLoop) -> None:
    layer = RecordingLayer(expected=30, fail=True)
    errors: list[tuple[int, BaseException]] = []
    for number in range(30):
        push_loop.push(
            layer,
            "agents",
            event_message(number),
            on_error=functools.partial(
                lambda number, error: errors.append((number, error)), number
            ),
        )

    assert layer.finished.wait(timeout=10)
    deadline = time.monotonic() + 5
    while len(errors) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(number for number, _ in errors) == list(range(30))
    assert all(isinstance(error, ConnectionError) for _, error in errors)


def event_message(number: int) -> dict[str, Any]:
    return {"type": "helpdesk.event", "event": "ticket.updated", "data": {"ticket_id": number}}
