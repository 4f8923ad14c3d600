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
import typing
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
    """The group of one open conversation, for events only its viewers need (who is
    typing, who is looking). Domain events go to ``AGENTS_GROUP`` alone: every agent's
    inbox needs them, and a socket in both groups would receive each one twice."""
    return f"ticket-{ticket_id}"


@dataclasses.dataclass(frozen=True)
class Event:
    name: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        """JSON-shaped (tuples become lists), so a consumer sees the same payload whether
        Celery runs eagerly or through a broker, and the browser gets the same over any
        channel layer."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()
        }

    def groups(self) -> list[str]:
        return [AGENTS_GROUP]


@dataclasses.dataclass(frozen=True)
class TicketCreated(Event):
    name: ClassVar[str] = "ticket.created"
    ticket_id: int


@dataclasses.dataclass(frozen=True)
class TicketUpdated(Event):
    """Fields of the ticket changed; ``fields`` names them (status, assignee, tags, ...)."""

    name: ClassVar[str] = "ticket.updated"
    ticket_id: int
    fields: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class MessageCreated(Event):
    name: ClassVar[str] = "message.created"
    ticket_id: int
    message_id: int
    kind: str


@dataclasses.dataclass(frozen=True)
class MessageUpdated(Event):
    """Fields of a message changed after it was written; ``fields`` names them. Delivery
    progress is the reason today: a reply shown as "sending…" becomes sent, delivered, read
    or "failed: <reason>" without a reload."""

    name: ClassVar[str] = "message.updated"
    ticket_id: int
    message_id: int
    fields: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TicketsMerged(Event):
    name: ClassVar[str] = "ticket.merged"
    source_ticket_id: int
    target_ticket_id: int


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
        MessageUpdated,
        TicketsMerged,
        CustomersMerged,
        CustomerMergeUndone,
    )
}


def _check_field(name: str, field: str, value: Any, expected: Any) -> Any:
    if expected is int:
        # bool is an int subclass, but True is no ticket id.
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name}.{field} must be an int, not {value!r}.")
        return value
    if expected is str:
        if not isinstance(value, str):
            raise TypeError(f"{name}.{field} must be a str, not {value!r}.")
        return value
    # tuple[str, ...]: arrives as a list after JSON.
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"{name}.{field} must be a list of str, not {value!r}.")
    return tuple(value)


def event_from_payload(name: str, payload: dict[str, Any]) -> Event:
    """Rebuild an event a task received; raises KeyError on an unknown event or a missing
    field, TypeError on a field of the wrong type."""
    cls = EVENT_TYPES[name]
    hints = typing.get_type_hints(cls)
    fields = {
        f.name: _check_field(name, f.name, payload[f.name], hints[f.name])
        for f in dataclasses.fields(cls)
    }
    return cls(**fields)


def emit(event: Event) -> None:
    """Deliver ``event`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: deliver(event), robust=True)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """``task.delay(*args, **kwargs)`` after commit, so a worker never sees uncommitted rows."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs), robust=True)


def deliver(event: Event) -> None:
    """Push, then enqueue. Each step is isolated: the change is committed, so one failing
    receiver (a realtime outage, a broker hiccup) must not keep it from the others."""
    payload = event.payload()
    _push_to_browsers(event, payload)
    for task_path in settings.EVENT_CONSUMER_TASKS:
        try:
            task: Any = import_string(task_path)
            task.delay(event.name, payload)
        except Exception:
            logger.exception("Could not hand %s to %s", event.name, task_path)


def _push_to_browsers(event: Event, payload: dict[str, Any]) -> None:
    try:
        layer = get_channel_layer()
    except Exception:
        # A misconfigured or unreachable layer fails here, before any group_send.
        logger.exception("No channel layer for %s", event.name)
        return
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
