"""What a rule does: one function per action type, each going through ``tickets.services``
(or the service of the automation area that owns the behaviour).

The other areas' services (routing, macros) are imported inside the functions, so this
module imports whatever state those areas are in. Each function returns the sentence that
goes on the timeline; a refusal is a ``TicketError`` (the engine rolls the rule back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q
from django.utils.module_loading import import_string

from automation.rules.context import TicketContext
from automation.rules.schema import describe_action
from helpdesk.events import enqueue_on_commit
from helpdesk.models import Team, User
from tickets import services as ticket_services
from tickets.services import TicketError

if TYPE_CHECKING:
    from automation.rules.engine import CompiledRule


def rule_author(rule: CompiledRule) -> User:
    """Who notes and replies are written as: the rule's author while active, else the
    oldest active admin (a note needs an agent as its author)."""
    author = (
        User.objects.filter(is_active=True)
        .filter(Q(pk=rule.created_by_id) | Q(role=User.Role.ADMIN) | Q(is_superuser=True))
        .order_by("-is_superuser", "pk")
    )
    by_id = {user.pk: user for user in author[:20]}
    if rule.created_by_id in by_id:
        return by_id[rule.created_by_id]
    if not by_id:
        raise TicketError("No active admin to write the rule's message as.")
    return next(iter(by_id.values()))


def _reason(rule: CompiledRule) -> str:
    return f"rule “{rule.name}”"


def _assign_agent(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    agent = User.objects.filter(pk=action["agent"], is_active=True).first()
    if agent is None:
        raise TicketError(f"Agent #{action['agent']} no longer exists or is deactivated.")
    ticket_services.assign_ticket(ctx.ticket, agent, actor=None)


def _assign_team(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    team = Team.objects.filter(pk=action["team"]).first()
    if team is None:
        raise TicketError(f"Team #{action['team']} no longer exists.")
    ticket_services.assign_team(ctx.ticket, team, actor=None)


def _run_routing(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    from automation.routing.services import route_ticket

    route_ticket(ctx.ticket.pk, reason=_reason(rule))


def _set_status(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    ticket_services.change_status(ctx.ticket, action["status"], actor=None)


def _set_priority(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    ticket_services.change_priority(ctx.ticket, action["priority"], actor=None)


def _add_tags(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    ticket_services.tag_ticket(ctx.ticket, action["tags"], actor=None)


def _remove_tags(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    ticket_services.untag_ticket(ctx.ticket, action["tags"], actor=None)


def render_body(text: str, ctx: TicketContext) -> str:
    try:
        from automation.macros.templating import render_template
    except ImportError:
        return text
    return render_template(text, ticket=ctx.ticket)


def _send_reply(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    """An automatic reply on the ticket's own channel: no author, not a response (the
    ticket's assignee, status and response stamps stay), marked automated so channels flag
    it and no rule or acknowledgement answers it. The channel is asked first whether free
    text can go out now (a closed WhatsApp window refuses: TicketError)."""
    body = render_body(action["body"], ctx)
    if settings.REPLY_CHECK:
        import_string(settings.REPLY_CHECK)(ctx.ticket)
    ticket_services.add_automatic_reply(
        ctx.ticket, text=body, summary=f"sent the automatic reply of {_reason(rule)}"
    )


def _add_note(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    body = render_body(action["body"], ctx)
    ticket_services.add_note(ctx.ticket, author=rule_author(rule), text=body)


def _notify_agents(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    """A note that @mentions the agents, through ``add_note``'s mentions: each is stored on
    the note and told (an ``AgentMentioned`` event to their browsers, an email while they are
    offline). The note's author (the rule's author) is not notified of their own note."""
    agents = list(User.objects.filter(pk__in=action["agents"], is_active=True).order_by("pk"))
    if not agents:
        return
    mentions = " ".join(f"@{agent.username}" for agent in agents)
    body = render_body(action["body"], ctx)
    ticket_services.add_note(
        ctx.ticket,
        author=rule_author(rule),
        text=f"{mentions} {body}\n\n({_reason(rule)})",
        mentions=[agent.pk for agent in agents],
    )


def _webhook(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    from automation.models import RuleWebhookDelivery
    from automation.rules.tasks import deliver_rule_webhook_task, webhook_payload

    delivery = RuleWebhookDelivery.objects.create(
        rule_id=rule.id, ticket=ctx.ticket, url=action["url"], payload={}
    )
    delivery.payload = webhook_payload(rule.id, rule.name, ctx.ticket, delivery.pk)
    delivery.save(update_fields=["payload"])
    enqueue_on_commit(deliver_rule_webhook_task, delivery.pk)


def _apply_macro(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    from automation.macros.services import apply_macro
    from automation.models import Macro

    macro = Macro.objects.filter(pk=action["macro"]).first()
    if macro is None:
        raise TicketError(f"Macro #{action['macro']} no longer exists.")
    # No actor: the macro's reply goes out as an automatic reply, its changes as the system's.
    apply_macro(ctx.ticket, macro, actor=None, send=True)


def _escalate(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> None:
    from automation.routing.services import escalate_ticket

    escalate_ticket(ctx.ticket.pk, reason=_reason(rule))


ACTION_FUNCTIONS: dict[str, Callable[[CompiledRule, TicketContext, dict[str, Any]], None]] = {
    "assign_agent": _assign_agent,
    "assign_team": _assign_team,
    "run_routing": _run_routing,
    "set_status": _set_status,
    "set_priority": _set_priority,
    "add_tags": _add_tags,
    "remove_tags": _remove_tags,
    "send_reply": _send_reply,
    "add_note": _add_note,
    "notify_agents": _notify_agents,
    "webhook": _webhook,
    "apply_macro": _apply_macro,
    "escalate": _escalate,
}


def apply_action(rule: CompiledRule, ctx: TicketContext, action: dict[str, Any]) -> str:
    """Do one action; returns what was done, for the timeline."""
    ACTION_FUNCTIONS[action["type"]](rule, ctx, action)
    return describe_action(action, rule.names)
