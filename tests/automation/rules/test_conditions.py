"""Every condition field and operator, matching and not matching one known ticket."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from automation.rules.conditions import compile_conditions
from automation.rules.context import TicketContext, load_context
from automation.rules.schema import validate_rule_definition
from channels_inbox.models import ChannelAccount
from customers.models import Customer, Order
from helpdesk.models import Team, User
from tickets import services
from tickets.models import Ticket


@pytest.fixture
def known_ticket(
    make_ticket: Any, email_account: ChannelAccount, support_team: Team, agent: User
) -> Ticket:
    """An email ticket from Ana (pt-BR, customer tag vip), subject 'Refund for order 1001',
    body 'My parcel never arrived', tags refund + damaged, priority high, Support team,
    assigned to bob, one paid and fulfilled order of 120.50 shipped 3 days ago."""
    ticket = make_ticket(
        sender_address="ana@example.com",
        subject="Refund for order 1001",
        text="My parcel never arrived",
    )
    Customer.objects.filter(pk=ticket.customer_id).update(locale="pt-BR", tags=["VIP"])
    Ticket.objects.filter(pk=ticket.pk).update(
        channel_account=email_account,
        priority="high",
        team=support_team,
        assignee=agent,
        last_agent_message_at=timezone.now() - timedelta(minutes=90),
    )
    services.tag_ticket(ticket, ["refund", "damaged"], actor=None)
    order = Order.objects.create(
        customer_id=ticket.customer_id,
        store="shop",
        external_id="1001",
        number="#1001",
        placed_at=timezone.now() - timedelta(days=5),
        currency="EUR",
        total=Decimal("120.50"),
        financial_status="paid",
        fulfillment_status="fulfilled",
        tracking=[{"number": "T1", "shipped_at": (timezone.now() - timedelta(days=3)).isoformat()}],
    )
    services.link_order(ticket, order, actor=None)
    return Ticket.objects.get(pk=ticket.pk)


def _check(node: dict[str, Any]) -> dict[str, Any]:
    return validate_rule_definition(
        trigger="ticket_created",
        trigger_fields=[],
        time_basis="",
        time_status="",
        time_minutes=None,
        conditions={"all": [node]},
        actions=[{"type": "set_status", "status": "open"}],
    ).conditions


def _ctx(ticket: Ticket) -> TicketContext:
    ctx = load_context(ticket.pk)
    assert ctx is not None
    return ctx


# (condition that matches, condition that does not): ids are filled by the test from names.
CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"field": "channel", "op": "in", "value": ["email"]},
        {"field": "channel", "op": "in", "value": ["whatsapp", "sms"]},
    ),
    (
        {"field": "channel", "op": "not_in", "value": ["sms"]},
        {"field": "channel", "op": "not_in", "value": ["email"]},
    ),
    (
        {"field": "subject", "op": "contains", "value": "REFUND"},
        {"field": "subject", "op": "contains", "value": "invoice"},
    ),
    (
        {"field": "subject", "op": "not_contains", "value": "invoice"},
        {"field": "subject", "op": "not_contains", "value": "refund"},
    ),
    (
        {"field": "subject", "op": "starts_with", "value": "refund"},
        {"field": "subject", "op": "starts_with", "value": "order"},
    ),
    (
        {"field": "subject", "op": "ends_with", "value": "1001"},
        {"field": "subject", "op": "ends_with", "value": "refund"},
    ),
    (
        {"field": "subject", "op": "equals", "value": "refund for order 1001"},
        {"field": "subject", "op": "equals", "value": "refund"},
    ),
    (
        {"field": "subject", "op": "matches", "value": r"order \d{4}"},
        {"field": "subject", "op": "matches", "value": r"^order"},
    ),
    (
        {"field": "body", "op": "contains", "value": "never arrived"},
        {"field": "body", "op": "contains", "value": "thank you"},
    ),
    (
        {"field": "body", "op": "matches", "value": "parcel|package"},
        {"field": "body", "op": "matches", "value": "invoice"},
    ),
    (
        {"field": "customer_tags", "op": "any_of", "value": ["vip", "wholesale"]},
        {"field": "customer_tags", "op": "any_of", "value": ["wholesale"]},
    ),
    (
        {"field": "customer_tags", "op": "none_of", "value": ["blocked"]},
        {"field": "customer_tags", "op": "none_of", "value": ["vip"]},
    ),
    (
        {"field": "customer_identity", "op": "ends_with", "value": "@example.com"},
        {"field": "customer_identity", "op": "ends_with", "value": "@shop.test"},
    ),
    (
        {"field": "customer_identity", "op": "equals", "value": "ana@example.com"},
        {"field": "customer_identity", "op": "contains", "value": "bob"},
    ),
    (
        {"field": "language", "op": "in", "value": ["pt"]},
        {"field": "language", "op": "in", "value": ["de", "en"]},
    ),
    (
        {"field": "language", "op": "not_in", "value": ["de"]},
        {"field": "language", "op": "not_in", "value": ["pt-br"]},
    ),
    (
        {"field": "priority", "op": "in", "value": ["high", "urgent"]},
        {"field": "priority", "op": "in", "value": ["low"]},
    ),
    (
        {"field": "status", "op": "in", "value": ["new"]},
        {"field": "status", "op": "not_in", "value": ["new"]},
    ),
    ({"field": "team", "op": "in", "value": ["support"]}, {"field": "team", "op": "is_empty"}),
    (
        {"field": "assignee", "op": "is_not_empty"},
        {"field": "assignee", "op": "not_in", "value": ["bob"]},
    ),
    (
        {"field": "tags", "op": "all_of", "value": ["refund", "damaged"]},
        {"field": "tags", "op": "all_of", "value": ["refund", "vip"]},
    ),
    (
        {"field": "tags", "op": "any_of", "value": ["damaged", "other"]},
        {"field": "tags", "op": "none_of", "value": ["refund"]},
    ),
    (
        {"field": "has_order", "op": "is", "value": True},
        {"field": "has_order", "op": "is", "value": False},
    ),
    (
        {"field": "order_status", "op": "in", "value": ["paid"]},
        {"field": "order_status", "op": "in", "value": ["refunded"]},
    ),
    (
        {"field": "fulfillment_status", "op": "in", "value": ["fulfilled"]},
        {"field": "fulfillment_status", "op": "not_in", "value": ["fulfilled"]},
    ),
    (
        {"field": "order_total", "op": "gt", "value": 100},
        {"field": "order_total", "op": "lte", "value": "120.49"},
    ),
    (
        {"field": "days_since_shipped", "op": "gte", "value": 2},
        {"field": "days_since_shipped", "op": "gt", "value": 4},
    ),
    (
        {"field": "minutes_since_agent_message", "op": "gt", "value": 60},
        {"field": "minutes_since_agent_message", "op": "lt", "value": 60},
    ),
    (
        {"field": "minutes_since_customer_message", "op": "lt", "value": 5},
        {"field": "minutes_since_customer_message", "op": "gt", "value": 5},
    ),
    (
        {"field": "channel_account", "op": "in", "value": ["account"]},
        {"field": "channel_account", "op": "not_in", "value": ["account"]},
    ),
]


def _resolve(node: dict[str, Any], ticket: Ticket) -> dict[str, Any]:
    ids = {
        "support": ticket.team_id,
        "bob": ticket.assignee_id,
        "account": ticket.channel_account_id,
    }
    node = dict(node)
    if isinstance(node.get("value"), list):
        node["value"] = [ids.get(item, item) for item in node["value"]]
    return node


@pytest.mark.parametrize(
    ("matching", "not_matching"), CASES, ids=[f"{c[0]['field']}-{c[0]['op']}" for c in CASES]
)
def test_condition_matches_and_does_not_match(
    known_ticket: Ticket, matching: dict[str, Any], not_matching: dict[str, Any]
) -> None:
    """Each field/operator is true for the known ticket in one form and false in the other."""
    ctx = _ctx(known_ticket)
    assert compile_conditions(_check(_resolve(matching, known_ticket)))(ctx) is True
    assert compile_conditions(_check(_resolve(not_matching, known_ticket)))(ctx) is False


def test_groups_combine_all_and_any(known_ticket: Ticket) -> None:
    """all needs every item, any one of them; groups nest."""
    yes = {"field": "channel", "op": "in", "value": ["email"]}
    no = {"field": "priority", "op": "in", "value": ["low"]}
    ctx = _ctx(known_ticket)

    def run(tree: dict[str, Any]) -> bool:
        cleaned = validate_rule_definition(
            trigger="ticket_created",
            trigger_fields=[],
            time_basis="",
            time_status="",
            time_minutes=None,
            conditions=tree,
            actions=[{"type": "escalate"}],
        ).conditions
        return compile_conditions(cleaned)(ctx)

    assert run({"all": [yes, yes]}) is True
    assert run({"all": [yes, no]}) is False
    assert run({"any": [no, yes]}) is True
    assert run({"any": [no, no]}) is False
    assert run({"all": [yes, {"any": [no, yes]}]}) is True
    assert run({"all": [yes, {"any": [no, {"all": [no]}]}]}) is False
    assert run({}) is True


def test_customer_message_body_is_the_triggering_message(known_ticket: Ticket) -> None:
    """For a message event, body conditions look at that message, cut to the guard's length."""
    ctx = load_context(known_ticket.pk, message_text="x" * 20_000 + "refund")
    assert ctx is not None
    cond = compile_conditions(_check({"field": "body", "op": "contains", "value": "refund"}))
    assert cond(ctx) is False  # beyond the 10,000 characters a pattern may look at


def test_business_hours_condition_uses_the_calendar(known_ticket: Ticket) -> None:
    """open/closed asks automation.sla.calendar.is_open with the chosen calendar."""
    pytest.importorskip("automation.sla.calendar")
    from automation.models import BusinessHours

    hours = BusinessHours.objects.create(name="Office", time_zone="UTC")
    ctx = _ctx(known_ticket)
    opened = compile_conditions(
        _check({"field": "business_hours", "op": "open", "value": hours.pk})
    )(ctx)
    closed = compile_conditions(
        _check({"field": "business_hours", "op": "closed", "value": hours.pk})
    )(ctx)
    from automation.sla.calendar import is_open

    assert opened is is_open(hours, ctx.now)
    assert closed is not opened
