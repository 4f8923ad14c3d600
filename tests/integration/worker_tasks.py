"""A task only the integration tests use. The worker they start imports this module
(``celery worker --include``), so it stays free of pytest and of anything test-only."""

from __future__ import annotations

import os
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import connection

from tickets.models import Ticket


def seen_key(event_name: str, ticket_id: int) -> str:
    return f"integration:event-seen:{event_name}:{ticket_id}"


@shared_task(name="tests.integration.record_ticket_event_task")
def record_ticket_event_task(items: list[Any]) -> None:
    """Subscribed to domain events in EVENT_CONSUMER_TASKS: loads the ticket each event names
    from the worker's own database connection and leaves what it saw in the shared cache
    (Redis), where the test process reads it."""
    for event_name, payload in items:
        ticket_id = payload.get("ticket_id")
        if not isinstance(ticket_id, int):
            continue
        ticket = Ticket.objects.filter(pk=ticket_id).values("number", "subject").first()
        cache.set(
            seen_key(event_name, ticket_id),
            {"ticket": ticket, "database": str(connection.settings_dict["NAME"])},
            timeout=300,
        )


@shared_task(name="tests.integration.niceness_task", ignore_result=False)
def niceness_task() -> int:
    """The niceness of the pool process that runs it."""
    return os.getpriority(os.PRIO_PROCESS, 0)
