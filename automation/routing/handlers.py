"""How routing reacts to domain events (called by automation.tasks.handle_event_task)."""

from __future__ import annotations

from helpdesk.events import Event


def handle_event(event: Event) -> None:
    """Nothing yet."""
