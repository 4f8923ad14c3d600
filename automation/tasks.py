"""Automation's entry point for domain events.

One consumer task (``settings.EVENT_CONSUMER_TASKS``) takes every event automation reacts to
and hands it to each area in a fixed order: rules first (they may set the team, priority or
assignee), then routing (assigns within the team the rules chose), then SLA (the policy
depends on the priority), then auto-acknowledgements. Each handler is idempotent, loads what
it needs by id and changes tickets only through ``tickets.services``; a failure in one area
is logged and does not keep the event from the others, then the task fails so the broker's
retry runs the (idempotent) handlers again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task

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
    event_from_payload,
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


class AutomationFailed(Exception):
    """One or more areas failed on an event; the others ran."""


@shared_task(
    name="automation.handle_event_task",
    base=EventConsumerTask,
    subscribed_events=AUTOMATION_EVENTS,
    autoretry_for=(AutomationFailed,),
    retry_backoff=True,
    max_retries=5,
)
def handle_event_task(name: str, payload: dict[str, Any]) -> None:
    try:
        event = event_from_payload(name, payload)
    except (KeyError, TypeError):
        logger.warning("Ignoring a malformed %s event: %r", name, payload)
        return
    failed = []
    for area, handle in HANDLERS:
        try:
            handle(event)
        except Exception:
            logger.exception("Automation (%s) failed on %s %r", area, name, payload)
            failed.append(area)
    if failed:
        raise AutomationFailed(f"{', '.join(failed)} failed on {name}")
