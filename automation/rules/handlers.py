"""How rules react to domain events (called by automation.tasks.handle_events_task).

Each event maps to one trigger; the engine evaluates that trigger's active rules on a
context loaded once. An event no rule listens to costs a cache read. Idempotent: events
with an identity (a message, a ticket's creation, an SLA target's due time) are recorded
per rule in ``RuleFiring.event_key``, so a retried task fires nothing twice.
"""

from __future__ import annotations

from automation.rules.context import load_context, load_message_context
from automation.rules.engine import active_rules, rules_in_progress, run_rules
from helpdesk.events import (
    Event,
    MessageCreated,
    SlaBreached,
    SlaWarning,
    TicketCreated,
    TicketUpdated,
)


def handle_event(event: Event) -> None:
    from automation.models import Rule

    trigger: str
    event_key = ""
    message_id: int | None = None
    if isinstance(event, TicketCreated):
        trigger, event_key = Rule.Trigger.TICKET_CREATED, "ticket.created"
    elif isinstance(event, MessageCreated):
        if event.kind == "customer":
            trigger = Rule.Trigger.CUSTOMER_MESSAGE
        elif event.kind == "reply":
            trigger = Rule.Trigger.AGENT_REPLY
        else:
            return
        event_key, message_id = f"message:{event.message_id}", event.message_id
    elif isinstance(event, TicketUpdated):
        trigger = Rule.Trigger.TICKET_UPDATED
    elif isinstance(event, SlaWarning | SlaBreached):
        trigger = (
            Rule.Trigger.SLA_WARNING if isinstance(event, SlaWarning) else Rule.Trigger.SLA_BREACHED
        )
    else:
        return
    rules = active_rules(trigger)
    if isinstance(event, TicketUpdated):
        changed = set(event.fields)
        rules = [rule for rule in rules if not rule.trigger_fields or rule.trigger_fields & changed]
    skip = rules_in_progress()
    rules = [rule for rule in rules if rule.id not in skip]
    if not rules:
        return
    if message_id is not None:
        ctx, automated = load_message_context(event.ticket_id, message_id)
        if automated:
            return  # an auto-reply, a bounce or our own automatic reply: no rule reacts
    else:
        ctx = load_context(event.ticket_id)
    if ctx is None:
        return
    if isinstance(event, SlaWarning | SlaBreached):
        due = getattr(ctx.ticket, f"{event.target}_due_at", None)
        event_key = f"{event.name}:{event.target}:{due.isoformat() if due else ''}"
    run_rules(ctx, rules, event_key=event_key)
