"""The actions that go through the other automation areas: routing, escalation, macros."""

from __future__ import annotations

from typing import Any

from automation.macros.services import save_macro
from automation.models import Macro, Rule, TeamRouting
from helpdesk.models import Team, User
from tickets.models import Message, Ticket, TicketActivity


def _online(user: User) -> User:
    User.objects.filter(pk=user.pk).update(availability="online", capacity=5)
    user.refresh_from_db()
    return user


def test_run_routing_assigns_within_the_team(
    make_rule: Any, make_ticket: Any, support_team: Team, agent: User
) -> None:
    _online(agent)
    TeamRouting.objects.create(team=support_team, mode=TeamRouting.Mode.ROUND_ROBIN)
    make_rule(
        name="Route support",
        actions=[{"type": "assign_team", "team": support_team.pk}, {"type": "run_routing"}],
    )
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert (ticket.team_id, ticket.assignee_id) == (support_team.pk, agent.pk)
    summary = TicketActivity.objects.get(ticket=ticket, verb="rule_applied").data["summary"]
    assert summary == "applied the rule “Route support”: moved to team Support, ran routing"


def test_escalate_moves_to_the_escalation_team(
    make_rule: Any, make_ticket: Any, support_team: Team, returns_team: Team
) -> None:
    TeamRouting.objects.create(team=support_team, escalation_team=returns_team)
    make_rule(
        trigger=Rule.Trigger.TICKET_UPDATED,
        trigger_fields=["priority"],
        conditions={"all": [{"field": "priority", "op": "in", "value": ["urgent"]}]},
        actions=[{"type": "escalate"}],
    )
    ticket = make_ticket()
    from tickets import services

    services.assign_team(ticket, support_team, actor=None)
    services.change_priority(ticket, "urgent", actor=None)
    from automation.rules.handlers import handle_event
    from helpdesk.events import TicketUpdated

    handle_event(TicketUpdated(ticket_id=ticket.pk, fields=("priority",)))
    ticket.refresh_from_db()
    assert ticket.team_id == returns_team.pk


def test_apply_macro_runs_its_actions_and_sends_its_body(make_rule: Any, make_ticket: Any) -> None:
    macro = save_macro(
        Macro(name="Where is my order", body="Hi {{ customer.first_name }}!", add_tags=["wismo"])
    )
    make_rule(
        name="WISMO",
        conditions={"all": [{"field": "body", "op": "contains", "value": "where is"}]},
        actions=[{"type": "apply_macro", "macro": macro.pk}],
    )
    ticket = make_ticket(sender_name="Ana Souza", text="Where is my parcel?")
    assert list(ticket.tags.values_list("name", flat=True)) == ["wismo"]
    reply = Message.objects.get(ticket=ticket, kind="reply")
    assert (reply.text, reply.is_automated, reply.author_agent_id) == ("Hi Ana!", True, None)
    ticket.refresh_from_db()
    assert ticket.assignee_id is None


def test_send_reply_is_automatic_and_leaves_the_ticket_unassigned(
    make_rule: Any, make_ticket: Any
) -> None:
    make_rule(actions=[{"type": "send_reply", "body": "Ticket #{{ ticket.number }} received"}])
    ticket = make_ticket()
    reply = Message.objects.get(ticket=ticket, kind="reply")
    assert reply.text == f"Ticket #{ticket.number} received"
    assert reply.is_automated is True
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.first_responded_at) == (None, None)


def test_an_unknown_template_variable_is_refused_at_save(admin_client_api: Any) -> None:
    response = admin_client_api.post(
        "/api/v1/rules/",
        {
            "name": "x",
            "trigger": "ticket_created",
            "actions": [{"type": "send_reply", "body": "Hi {{ customer.password }}"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "customer.password" in " ".join(response.json()["actions"])
    assert not Ticket.objects.exists()
