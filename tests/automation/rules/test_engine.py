"""Rules fired by real events: actions, order, stop processing, the timeline, idempotency
and loop protection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from automation.models import Rule, RuleFiring
from automation.rules.context import load_context
from automation.rules.engine import MAX_FIRINGS_PER_WINDOW, active_rules, run_rules
from automation.rules.handlers import handle_event
from helpdesk.events import MessageCreated, TicketUpdated
from helpdesk.models import Team, User
from tickets import services
from tickets.models import Message, Ticket, TicketActivity

RULE_APPLIED = TicketActivity.Verb.RULE_APPLIED


def _rule_lines(ticket: Ticket) -> list[str]:
    return [
        activity.data["summary"]
        for activity in TicketActivity.objects.filter(ticket=ticket, verb=RULE_APPLIED)
    ]


ACTION_CASES: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], Any]] = [
    (
        "assign_agent",
        lambda ids: {"type": "assign_agent", "agent": ids["agent"]},
        lambda t, ids: t.assignee_id == ids["agent"],
    ),
    (
        "assign_team",
        lambda ids: {"type": "assign_team", "team": ids["returns"]},
        lambda t, ids: t.team_id == ids["returns"],
    ),
    (
        "set_status",
        lambda ids: {"type": "set_status", "status": "pending"},
        lambda t, ids: t.status == "pending",
    ),
    (
        "set_priority",
        lambda ids: {"type": "set_priority", "priority": "urgent"},
        lambda t, ids: t.priority == "urgent",
    ),
    (
        "add_tags",
        lambda ids: {"type": "add_tags", "tags": ["Refund", "vip"]},
        lambda t, ids: set(t.tags.values_list("name", flat=True)) == {"refund", "vip"},
    ),
    (
        "add_note",
        lambda ids: {"type": "add_note", "body": "Check the order first"},
        lambda t, ids: t.messages.filter(kind="note", text="Check the order first").exists(),
    ),
    (
        "notify_agents",
        lambda ids: {"type": "notify_agents", "agents": [ids["agent"]], "body": "Look here"},
        lambda t, ids: (
            t.messages.get(kind="note", text__startswith="@bob Look here")
            .mentions.filter(pk=ids["agent"])
            .exists()
        ),
    ),
    (
        "send_reply",
        lambda ids: {"type": "send_reply", "body": "Hi {{ customer.first_name }}, thanks!"},
        lambda t, ids: t.messages.filter(
            kind="reply", direction="outbound", text="Hi Ana, thanks!"
        ).exists(),
    ),
]


@pytest.mark.parametrize(
    ("kind", "action", "check"), ACTION_CASES, ids=[case[0] for case in ACTION_CASES]
)
def test_action_runs_on_a_new_ticket_and_is_recorded(
    make_rule: Any,
    make_ticket: Any,
    agent: User,
    returns_team: Team,
    kind: str,
    action: Callable[[dict[str, Any]], dict[str, Any]],
    check: Any,
) -> None:
    """A ticket-created rule with a matching condition does its action through the ticket
    services, and the timeline says which rule did what."""
    ids = {"agent": agent.pk, "returns": returns_team.pk}
    make_rule(
        name="Refunds",
        conditions={"all": [{"field": "subject", "op": "contains", "value": "refund"}]},
        actions=[action(ids)],
    )
    ticket = make_ticket(
        sender_address="ana@example.com", sender_name="Ana Souza", subject="Refund please"
    )
    ticket.refresh_from_db()
    assert check(ticket, ids)
    lines = _rule_lines(ticket)
    assert len(lines) == 1
    assert lines[0].startswith("applied the rule “Refunds”: ")
    activity = TicketActivity.objects.get(ticket=ticket, verb=RULE_APPLIED)
    assert activity.data["rule"]["name"] == "Refunds"


def test_rule_whose_conditions_fail_does_nothing(make_rule: Any, make_ticket: Any) -> None:
    make_rule(
        conditions={"all": [{"field": "subject", "op": "contains", "value": "refund"}]},
        actions=[{"type": "set_priority", "priority": "urgent"}],
    )
    ticket = make_ticket(subject="Hello")
    ticket.refresh_from_db()
    assert ticket.priority == "normal"
    assert _rule_lines(ticket) == []
    assert not RuleFiring.objects.exists()


def test_inactive_rules_do_not_run(make_rule: Any, make_ticket: Any) -> None:
    make_rule(active=False, actions=[{"type": "set_priority", "priority": "urgent"}])
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_remove_tags_on_ticket_updated_with_field_filter(make_rule: Any, make_ticket: Any) -> None:
    """A ticket-updated rule with a field filter runs only when that field changed."""
    make_rule(
        trigger=Rule.Trigger.TICKET_UPDATED,
        trigger_fields=["status"],
        conditions={"all": [{"field": "status", "op": "in", "value": ["solved"]}]},
        actions=[{"type": "remove_tags", "tags": ["waiting"]}],
    )
    ticket = make_ticket()
    services.tag_ticket(ticket, ["waiting", "keep"], actor=None)  # tags changed: not status
    handle_event(TicketUpdated(ticket_id=ticket.pk, fields=("tags",)))
    assert set(ticket.tags.values_list("name", flat=True)) == {"waiting", "keep"}
    services.change_status(ticket, "solved", actor=None)
    handle_event(TicketUpdated(ticket_id=ticket.pk, fields=("solved_at", "status")))
    assert set(ticket.tags.values_list("name", flat=True)) == {"keep"}


def test_rules_run_in_order_and_stop_processing_ends_the_event(
    make_rule: Any, make_ticket: Any
) -> None:
    """Lower positions run first; a firing rule with stop processing keeps later ones from
    running, and a rule that does not match does not stop anything."""
    make_rule(
        name="no match, stops",
        position=0,
        stop_processing=True,
        conditions={"all": [{"field": "channel", "op": "in", "value": ["sms"]}]},
        actions=[{"type": "add_tags", "tags": ["zero"]}],
    )
    make_rule(name="first", position=1, actions=[{"type": "add_tags", "tags": ["first"]}])
    make_rule(
        name="second, stops",
        position=2,
        stop_processing=True,
        actions=[{"type": "add_tags", "tags": ["second"]}],
    )
    make_rule(name="third", position=3, actions=[{"type": "add_tags", "tags": ["third"]}])
    ticket = make_ticket()
    assert set(ticket.tags.values_list("name", flat=True)) == {"first", "second"}
    lines = _rule_lines(ticket)
    assert lines == [
        "applied the rule “first”: added tags first",
        "applied the rule “second, stops”: added tags second",
    ]


def test_a_later_rule_sees_what_an_earlier_one_changed(make_rule: Any, make_ticket: Any) -> None:
    make_rule(name="urgent", position=0, actions=[{"type": "set_priority", "priority": "urgent"}])
    make_rule(
        name="tag urgent",
        position=1,
        conditions={"all": [{"field": "priority", "op": "in", "value": ["urgent"]}]},
        actions=[{"type": "add_tags", "tags": ["hot"]}],
    )
    ticket = make_ticket()
    assert list(ticket.tags.values_list("name", flat=True)) == ["hot"]


def test_customer_message_rule_fires_once_per_message_even_when_retried(
    make_rule: Any, make_ticket: Any
) -> None:
    """The handler is idempotent: the same message event twice fires the rule once."""
    make_rule(
        trigger=Rule.Trigger.CUSTOMER_MESSAGE,
        conditions={"all": [{"field": "body", "op": "contains", "value": "cancel"}]},
        actions=[{"type": "add_note", "body": "Customer wants to cancel"}],
    )
    ticket = make_ticket(text="Please cancel my order")
    message = ticket.messages.get(kind="customer")
    event = MessageCreated(ticket_id=ticket.pk, message_id=message.pk, kind="customer")
    handle_event(event)
    handle_event(event)
    assert ticket.messages.filter(kind="note").count() == 1
    assert RuleFiring.objects.count() == 1


def test_automated_customer_messages_trigger_nothing(make_rule: Any, make_ticket: Any) -> None:
    make_rule(
        trigger=Rule.Trigger.CUSTOMER_MESSAGE, actions=[{"type": "add_tags", "tags": ["answered"]}]
    )
    ticket = make_ticket()
    ticket.tags.clear()
    message = ticket.messages.get(kind="customer")
    Message.objects.filter(pk=message.pk).update(is_automated=True)
    RuleFiring.objects.all().delete()
    handle_event(MessageCreated(ticket_id=ticket.pk, message_id=message.pk, kind="customer"))
    assert not ticket.tags.exists()


def test_agent_reply_trigger(make_rule: Any, make_ticket: Any, agent: User) -> None:
    make_rule(
        trigger=Rule.Trigger.AGENT_REPLY, actions=[{"type": "set_status", "status": "pending"}]
    )
    ticket = make_ticket()
    services.add_reply(ticket, author=agent, text="We are on it", check_channel=False)
    reply = ticket.messages.get(kind="reply")
    handle_event(MessageCreated(ticket_id=ticket.pk, message_id=reply.pk, kind="reply"))
    ticket.refresh_from_db()
    assert ticket.status == "pending"


def test_a_refused_action_rolls_the_rule_back_and_says_so(
    make_rule: Any, make_ticket: Any, inactive_agent: User, agent: User
) -> None:
    """An agent deactivated after the rule was saved: nothing of the rule stays but a line
    saying why it could not run."""
    rule = make_rule(
        name="Give to bob",
        actions=[{"type": "add_tags", "tags": ["x"]}, {"type": "assign_agent", "agent": agent.pk}],
    )
    User.objects.filter(pk=agent.pk).update(is_active=False)
    ticket = make_ticket()
    assert not ticket.tags.exists()
    assert ticket.assignee_id is None
    assert _rule_lines(ticket) == [
        f"could not apply the rule “Give to bob”: Agent #{agent.pk} no longer exists or is "
        "deactivated."
    ]
    assert not RuleFiring.objects.filter(rule=rule).exists()


@pytest.mark.django_db(transaction=True)
def test_ping_pong_rules_stop_in_the_eager_setup(
    make_rule: Any, make_ticket: Any, agent: User
) -> None:
    """Two rules that undo each other (open → pending, pending → open), with events handled
    inline after each commit as in the embedded setup: the chain stops instead of running
    forever, each rule firing at most once per round."""
    make_rule(
        name="park",
        trigger=Rule.Trigger.TICKET_UPDATED,
        trigger_fields=["status"],
        conditions={"all": [{"field": "status", "op": "in", "value": ["open"]}]},
        actions=[{"type": "set_status", "status": "pending"}],
    )
    make_rule(
        name="unpark",
        trigger=Rule.Trigger.TICKET_UPDATED,
        trigger_fields=["status"],
        conditions={"all": [{"field": "status", "op": "in", "value": ["pending"]}]},
        actions=[{"type": "set_status", "status": "open"}],
    )
    ticket = make_ticket()
    services.change_status(ticket, "open", actor=agent)  # autocommit: handled inline
    firings = RuleFiring.objects.filter(ticket=ticket)
    assert firings.filter(rule__name="park").count() == 1
    assert firings.filter(rule__name="unpark").count() == 1
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_ping_pong_across_workers_is_capped(make_rule: Any, make_ticket: Any) -> None:
    """Without the inline chain (a worker handles each event later), the per-rule, per-ticket
    cap stops the ping-pong after MAX_FIRINGS_PER_WINDOW rounds."""
    make_rule(
        name="park",
        trigger=Rule.Trigger.TICKET_UPDATED,
        trigger_fields=["status"],
        conditions={"all": [{"field": "status", "op": "in", "value": ["open"]}]},
        actions=[{"type": "set_status", "status": "pending"}],
    )
    make_rule(
        name="unpark",
        trigger=Rule.Trigger.TICKET_UPDATED,
        trigger_fields=["status"],
        conditions={"all": [{"field": "status", "op": "in", "value": ["pending"]}]},
        actions=[{"type": "set_status", "status": "open"}],
    )
    ticket = make_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(status="open")
    # Each round: a worker receives "status changed" and runs the rules, as a broker would.
    for _ in range(MAX_FIRINGS_PER_WINDOW * 3):
        handle_event(TicketUpdated(ticket_id=ticket.pk, fields=("status",)))
    for name in ("park", "unpark"):
        assert RuleFiring.objects.filter(ticket=ticket, rule__name=name).count() == (
            MAX_FIRINGS_PER_WINDOW
        )


def test_a_rule_does_not_react_to_its_own_change(make_rule: Any, make_ticket: Any) -> None:
    """A rule running its actions is not evaluated again for the events they cause."""
    rule = make_rule(
        trigger=Rule.Trigger.TICKET_UPDATED,
        actions=[
            {"type": "add_tags", "tags": ["again"]},
            {"type": "set_priority", "priority": "high"},
        ],
    )
    ticket = make_ticket()
    ctx = load_context(ticket.pk)
    assert ctx is not None
    assert run_rules(ctx, active_rules(Rule.Trigger.TICKET_UPDATED)) == [rule.pk]
    assert RuleFiring.objects.filter(rule=rule).count() == 1


def test_saving_a_rule_refreshes_the_compiled_rules(make_rule: Any, db: None) -> None:
    rule = make_rule(actions=[{"type": "set_priority", "priority": "high"}])
    assert [r.id for r in active_rules(Rule.Trigger.TICKET_CREATED)] == [rule.pk]
    rule.active = False
    rule.save()
    assert active_rules(Rule.Trigger.TICKET_CREATED) == []


def test_the_ticket_timeline_says_which_rule_did_what(
    make_rule: Any, make_ticket: Any, agent: User
) -> None:
    """ "Why did this happen?" is answered on the ticket page."""
    from django.test import Client

    make_rule(name="VIP first", actions=[{"type": "set_priority", "priority": "urgent"}])
    ticket = make_ticket()
    client = Client()
    client.force_login(agent)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "applied the rule “VIP first”: set priority to Urgent" in page
