"""Time-based rules (once per episode) and the simulator (reads only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automation.models import Rule, RuleFiring, RuleWebhookDelivery
from automation.rules.services import simulate_rule
from automation.rules.tasks import time_rules_task
from helpdesk.models import User
from tickets import services
from tickets.models import Message, Ticket, TicketActivity


def _pending_rule(make_rule: Any, **extra: Any) -> Rule:
    return make_rule(
        name="Nudge",
        trigger=Rule.Trigger.TIME_BASED,
        time_basis=Rule.TimeBasis.STATUS_FOR,
        time_status="pending",
        time_minutes=60 * 24 * 3,
        actions=[{"type": "add_tags", "tags": ["stale"]}],
        **extra,
    )


def test_pending_for_three_days_fires_once_per_episode(
    make_rule: Any, make_ticket: Any, agent: User
) -> None:
    """Fires when the ticket has been pending for 3 days, not before, not twice; after the
    ticket leaves pending and comes back, a new episode fires again."""
    rule = _pending_rule(make_rule)
    ticket = make_ticket()
    services.change_status(ticket, "pending", actor=agent)
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=2, hours=23)):
        assert time_rules_task() == 0
    with time_machine.travel(start + timedelta(days=3, minutes=1)):
        assert time_rules_task() == 1
        assert time_rules_task() == 0
    with time_machine.travel(start + timedelta(days=5)):
        assert time_rules_task() == 0
        services.change_status(ticket, "open", actor=agent)
        services.untag_ticket(ticket, ["stale"], actor=agent)
        services.change_status(ticket, "pending", actor=agent)
    with time_machine.travel(start + timedelta(days=8, minutes=2)):
        assert time_rules_task() == 1
    assert RuleFiring.objects.filter(rule=rule, ticket=ticket).count() == 2
    assert list(ticket.tags.values_list("name", flat=True)) == ["stale"]


def test_unassigned_for_thirty_minutes(make_rule: Any, make_ticket: Any, agent: User) -> None:
    make_rule(
        trigger=Rule.Trigger.TIME_BASED,
        time_basis=Rule.TimeBasis.UNASSIGNED_FOR,
        time_minutes=30,
        actions=[{"type": "set_priority", "priority": "high"}],
    )
    waiting = make_ticket()
    taken = make_ticket()
    services.assign_ticket(taken, agent, actor=agent)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert time_rules_task() == 1
    waiting.refresh_from_db()
    taken.refresh_from_db()
    assert (waiting.priority, taken.priority) == ("high", "normal")


def test_customer_waiting_honours_conditions(make_rule: Any, make_ticket: Any) -> None:
    make_rule(
        trigger=Rule.Trigger.TIME_BASED,
        time_basis=Rule.TimeBasis.CUSTOMER_WAITING_FOR,
        time_minutes=120,
        conditions={"all": [{"field": "subject", "op": "contains", "value": "urgent"}]},
        actions=[{"type": "add_tags", "tags": ["overdue"]}],
    )
    hot = make_ticket(subject="Urgent: wrong size")
    calm = make_ticket(subject="Question")
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        assert time_rules_task() == 1
    assert list(hot.tags.values_list("name", flat=True)) == ["overdue"]
    assert not calm.tags.exists()


def _write_queries(queries: list[dict[str, Any]]) -> list[str]:
    writes = ("INSERT", "UPDATE", "DELETE")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(writes)]


def test_simulator_lists_matches_and_actions_without_side_effects(
    make_ticket: Any, agent: User
) -> None:
    """An unsaved rule with every kind of action, a webhook among them: the simulator says
    which recent tickets match and what would happen, writes nothing, sends nothing."""
    hit = make_ticket(subject="Refund for my order")
    make_ticket(subject="Hello there")
    old = make_ticket(subject="Refund from long ago")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    rule = Rule(
        name="Refunds",
        trigger=Rule.Trigger.TICKET_CREATED,
        conditions={"all": [{"field": "subject", "op": "contains", "value": "refund"}]},
        actions=[
            {"type": "set_priority", "priority": "high"},
            {"type": "assign_agent", "agent": agent.pk},
            {"type": "send_reply", "body": "We got it"},
            {"type": "webhook", "url": "http://127.0.0.1:9/hook"},
        ],
    )
    rule.full_clean(exclude=["webhook_secret"])
    counts_before = (
        Ticket.objects.count(),
        Message.objects.count(),
        TicketActivity.objects.count(),
        RuleWebhookDelivery.objects.count(),
    )
    with CaptureQueriesContext(connection) as queries:
        simulation = simulate_rule(rule)
    assert _write_queries(queries.captured_queries) == []
    assert len(queries.captured_queries) <= 10  # fixed, not per ticket
    assert simulation.scanned == 2
    assert [match.ticket_id for match in simulation.matches] == [hit.pk]
    assert simulation.matches[0].actions == [
        "would set priority to High",
        "would assign Bob Agent",
        "would send an automatic reply",
        "would send a webhook to 127.0.0.1",
    ]
    hit.refresh_from_db()
    assert (hit.priority, hit.assignee_id) == ("normal", None)
    assert counts_before == (
        Ticket.objects.count(),
        Message.objects.count(),
        TicketActivity.objects.count(),
        RuleWebhookDelivery.objects.count(),
    )


def test_simulator_for_time_based_rule_uses_the_time_condition(
    make_rule: Any, make_ticket: Any, agent: User
) -> None:
    fresh = make_ticket()
    services.change_status(fresh, "pending", actor=agent)
    rule = Rule(
        name="Stale",
        trigger=Rule.Trigger.TIME_BASED,
        time_basis=Rule.TimeBasis.STATUS_FOR,
        time_status="pending",
        time_minutes=60,
        actions=[{"type": "add_tags", "tags": ["stale"]}],
    )
    assert simulate_rule(rule).matches == []
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert [m.ticket_id for m in simulate_rule(rule).matches] == [fresh.pk]


@pytest.mark.django_db
def test_time_task_without_rules_is_quiet() -> None:
    assert time_rules_task() == 0
