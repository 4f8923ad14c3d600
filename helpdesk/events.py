"""Domain events: the one way a change reaches agents' browsers and automation.

``emit()`` waits for the surrounding transaction to commit, then does exactly two things:
it pushes the event to the agents' browsers through the Channels layer, and it enqueues each
task named in ``settings.EVENT_CONSUMER_TASKS`` (automation subscribes there, so this module
never imports an app that depends on it). Events are small typed records of ids; receivers
load what they need, so a late delivery never carries stale data.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

AGENTS_GROUP = "agents"


def ticket_group(ticket_id: int) -> str:
    return f"ticket-{ticket_id}"


@dataclasses.dataclass(frozen=True)
class Event:
    name: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def groups(self) -> list[str]:
        return [AGENTS_GROUP]


@dataclasses.dataclass(frozen=True)
class TicketCreated(Event):
    name: ClassVar[str] = "ticket.created"
    ticket_id: int

    def groups(self) -> list[str]:
        return [AGENTS_GROUP, ticket_group(self.ticket_id)]


@dataclasses.dataclass(frozen=True)
class TicketUpdated(Event):
    """Fields of the ticket changed; ``fields`` names them (status, assignee, tags, ...)."""

    name: ClassVar[str] = "ticket.updated"
    ticket_id: int
    fields: tuple[str, ...]

    def groups(self) -> list[str]:
        return [AGENTS_GROUP, ticket_group(self.ticket_id)]


@dataclasses.dataclass(frozen=True)
class MessageCreated(Event):
    name: ClassVar[str] = "message.created"
    ticket_id: int
    message_id: int
    kind: str

    def groups(self) -> list[str]:
        return [AGENTS_GROUP, ticket_group(self.ticket_id)]


@dataclasses.dataclass(frozen=True)
class TicketsMerged(Event):
    name: ClassVar[str] = "ticket.merged"
    source_ticket_id: int
    target_ticket_id: int

    def groups(self) -> list[str]:
        return [
            AGENTS_GROUP,
            ticket_group(self.source_ticket_id),
            ticket_group(self.target_ticket_id),
        ]


@dataclasses.dataclass(frozen=True)
class CustomersMerged(Event):
    name: ClassVar[str] = "customer.merged"
    merge_id: int
    source_customer_id: int
    target_customer_id: int


@dataclasses.dataclass(frozen=True)
class CustomerMergeUndone(Event):
    name: ClassVar[str] = "customer.merge_undone"
    merge_id: int
    source_customer_id: int
    target_customer_id: int


EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        TicketCreated,
        TicketUpdated,
        MessageCreated,
        TicketsMerged,
        CustomersMerged,
        CustomerMergeUndone,
    )
}


def event_from_payload(name: str, payload: dict[str, Any]) -> Event:
    """Rebuild an event a task received; raises KeyError/TypeError on an unknown shape."""
    cls = EVENT_TYPES[name]
    fields = {f.name: payload[f.name] for f in dataclasses.fields(cls)}
    if "fields" in fields:
        fields["fields"] = tuple(fields["fields"])
    return cls(**fields)


def emit(event: Event) -> None:
    """Deliver ``event`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: deliver(event), robust=True)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """``task.delay(*args, **kwargs)`` after commit, so a worker never sees uncommitted rows."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs), robust=True)


def deliver(event: Event) -> None:
    payload = event.payload()
    _push_to_browsers(event, payload)
    for task_path in settings.EVENT_CONSUMER_TASKS:
        task: Any = import_string(task_path)
        task.delay(event.name, payload)


def _push_to_browsers(event: Event, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    send: Callable[..., Any] = async_to_sync(layer.group_send)
    message = {"type": "helpdesk.event", "event": event.name, "data": payload}
    for group in event.groups():
        try:
            send(group, message)
        except Exception:
            # The change is committed; a browser that misses a push catches up on its next
            # fetch. Automation below must still run, so a realtime outage is only logged.
            logger.exception("Could not push %s to group %s", event.name, group)
