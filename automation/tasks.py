"""Automation's entry point for domain events.

One consumer task (``settings.EVENT_CONSUMER_TASKS``) takes the events automation reacts to,
a list at a time (a whole batch of inbound messages arrives as one task), and hands each event
in turn to each area in a fixed order: rules first (they may set the team, priority or
assignee), then routing (assigns within the team the rules chose), then SLA (the policy
depends on the priority), then auto-acknowledgements. Each handler is idempotent, loads what
it needs by id and changes tickets only through ``tickets.services``; a failure in one area
is logged and does not keep the event, or the events after it, from the others; then the task
fails so the broker's retry runs the (idempotent) handlers again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task

from automation.batch import one_look_per_task
from automation.macros import handlers as autoack_handlers
from automation.macros import tasks as macros_tasks  # noqa: F401  (registers its tasks)
from automation.routing import handlers as routing_handlers
from automation.routing import tasks as routing_tasks  # noqa: F401
from automation.rules import handlers as rules_handlers
from automation.rules import tasks as rules_tasks  # noqa: F401
from automation.sla import handlers as sla_handlers
from automation.sla import tasks as sla_tasks  # noqa: F401
from helpdesk.events import (
    AgentAvailabilityChanged,
    AgentRoutingChanged,
    Event,
    EventConsumerTask,
    MessageCreated,
    SlaBreached,
    SlaWarning,
    TicketCreated,
    TicketsMerged,
    TicketUpdated,
    events_from_payloads,
)

logger = logging.getLogger(__name__)

AUTOMATION_EVENTS = frozenset(
    {
        TicketCreated.name,
        TicketUpdated.name,
        MessageCreated.name,
        TicketsMerged.name,
        SlaWarning.name,
        SlaBreached.name,
        AgentAvailabilityChanged.name,
        AgentRoutingChanged.name,
    }
)

HANDLERS: tuple[tuple[str, Callable[[Event], None]], ...] = (
    ("rules", rules_handlers.handle_event),
    ("routing", routing_handlers.handle_event),
    ("sla", sla_handlers.handle_event),
    ("auto-acknowledgements", autoack_handlers.handle_event),
)


def _tickets_named(events: list[Event]) -> set[int]:
    return {
        ticket_id
        for event in events
        for field in ("ticket_id", "source_ticket_id", "target_ticket_id")
        if isinstance(ticket_id := getattr(event, field, None), int)
    }


class AutomationFailed(Exception):
    """One or more areas failed on an event; the others ran."""


@shared_task(
    name="automation.handle_events_task",
    base=EventConsumerTask,
    subscribed_events=AUTOMATION_EVENTS,
    autoretry_for=(AutomationFailed,),
    retry_backoff=True,
    max_retries=5,
)
def handle_events_task(items: list[Any]) -> None:
    events, malformed = events_from_payloads(items)
    for item in malformed:
        logger.warning("Ignoring a malformed event: %r", item)
    failed = []
    with one_look_per_task(_tickets_named(events)):
        for event in events:
            for area, handle in HANDLERS:
                try:
                    handle(event)
                except Exception:
                    logger.exception("Automation (%s) failed on %s %r", area, event.name, event)
                    failed.append(f"{area} on {event.name}")
    if failed:
        raise AutomationFailed("; ".join(failed))
