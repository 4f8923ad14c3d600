"""A consumer task that hands events to routing alone, for the long simulations: the other
automation areas and the delivery pipeline have their own tests, and running them on each
of thousands of events would only make these slow."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from automation.routing.handlers import handle_event
from helpdesk.events import events_from_payloads

ROUTING_ONLY = "tests.automation.routing.event_tasks.routing_event_task"


@shared_task(name="tests.automation.routing_event_task")
def routing_event_task(items: list[Any]) -> None:
    events, malformed = events_from_payloads(items)
    assert not malformed, malformed
    for event in events:
        handle_event(event)
