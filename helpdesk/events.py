"""Domain events: the one way a change reaches agents' browsers and automation.

``emit()`` waits for the surrounding transaction to commit, then does exactly two things:
it pushes the event to the agents' browsers through the Channels layer, and it enqueues each
task named in ``settings.EVENT_CONSUMER_TASKS`` (automation subscribes there, so this module
never imports an app that depends on it). A consumer task takes a list of events, each a
``[name, payload]`` pair in the order they were committed (``events_from_payloads`` rebuilds
them). A task built on ``EventConsumerTask`` with ``subscribed_events``
(``@shared_task(base=EventConsumerTask, subscribed_events=...)``) receives only the events it
names, and is not enqueued when none is left; any other task receives every event.

Outside ``delivered_together()`` each committed event is enqueued on its own, a list of one.
Inside it, the pushes still go out as each transaction commits, but the consumers get one task
for everything the block committed: a worker threading a batch of inbound messages enqueues one
automation task per batch rather than two or three per message.

Events are small typed records of ids; receivers load what they need, so a late delivery
never carries stale data.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import threading
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from celery import Task
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

AGENTS_GROUP = "agents"


class EventConsumerTask(Task):
    """A consumer task that names the events it takes; None takes all of them."""

    subscribed_events: ClassVar[frozenset[str] | None] = None


def ticket_group(ticket_id: int) -> str:
    """The group of one open conversation, for events only its viewers need (who is
    typing, who is looking). Domain events go to ``AGENTS_GROUP`` alone: every agent's
    inbox needs them, and a socket in both groups would receive each one twice."""
    return f"ticket-{ticket_id}"


def agent_group(user_id: int) -> str:
    """One agent's own group, every socket of theirs: for what concerns them alone (an
    @mention in a note)."""
    return f"agent-{user_id}"


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
class MessageQueued(Event):
    """An outbound message waits for its channel to send it. For the delivery pipeline
    only: browsers learn of the message from ``message.created``."""

    name: ClassVar[str] = "message.queued"
    ticket_id: int
    message_id: int

    def groups(self) -> list[str]:
        return []


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


@dataclasses.dataclass(frozen=True)
class SlaWarning(Event):
    """An SLA target of the ticket is about to be missed; ``target`` is first_response,
    next_response or resolution."""

    name: ClassVar[str] = "sla.warning"
    ticket_id: int
    target: str


@dataclasses.dataclass(frozen=True)
class SlaBreached(Event):
    """An SLA target of the ticket was missed; ``target`` as in ``SlaWarning``."""

    name: ClassVar[str] = "sla.breached"
    ticket_id: int
    target: str


@dataclasses.dataclass(frozen=True)
class AgentAvailabilityChanged(Event):
    """An agent went online, away or offline: routing hands out or takes back work."""

    name: ClassVar[str] = "agent.availability_changed"
    user_id: int
    availability: str


@dataclasses.dataclass(frozen=True)
class AgentRoutingChanged(Event):
    """What routing weighs for an agent changed (``fields``: teams, capacity, skills,
    languages): waiting tickets may now fit them. For workers only."""

    name: ClassVar[str] = "agent.routing_changed"
    user_id: int
    fields: tuple[str, ...]

    def groups(self) -> list[str]:
        return []


@dataclasses.dataclass(frozen=True)
class AgentMentioned(Event):
    """An internal note @mentions the agent ``user_id``: a toast on their sockets (their own
    group only) and, while they are offline, an email."""

    name: ClassVar[str] = "agent.mentioned"
    user_id: int
    ticket_id: int
    ticket_number: int
    message_id: int
    author_id: int

    def groups(self) -> list[str]:
        return [agent_group(self.user_id)]


EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        TicketCreated,
        TicketUpdated,
        MessageCreated,
        MessageUpdated,
        MessageQueued,
        TicketsMerged,
        CustomersMerged,
        CustomerMergeUndone,
        SlaWarning,
        SlaBreached,
        AgentAvailabilityChanged,
        AgentRoutingChanged,
        AgentMentioned,
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
    fields = {
        field: _check_field(name, field, payload[field], expected)
        for field, expected in _field_types(cls)
    }
    return cls(**fields)


_FIELD_TYPES: dict[type[Event], tuple[tuple[str, Any], ...]] = {}


def _field_types(cls: type[Event]) -> tuple[tuple[str, Any], ...]:
    """(name, type) of each field: resolving the annotations is costly, and a worker
    rebuilds every event it receives."""
    types = _FIELD_TYPES.get(cls)
    if types is None:
        hints = typing.get_type_hints(cls)
        types = _FIELD_TYPES[cls] = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
    return types


def events_from_payloads(items: Sequence[Any]) -> tuple[list[Event], list[Any]]:
    """Rebuild the events a consumer task received, in order, and set aside the items that
    are not valid events (for the caller to log), so one malformed entry never costs the
    others."""
    events: list[Event] = []
    malformed: list[Any] = []
    for item in items:
        try:
            name, payload = item
            events.append(event_from_payload(name, payload))
        except (KeyError, TypeError, ValueError):
            malformed.append(item)
    return events, malformed


def emit(event: Event) -> None:
    """Deliver ``event`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _committed(event), robust=True)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """``task.delay(*args, **kwargs)`` after commit, so a worker never sees uncommitted rows."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs), robust=True)


class _Collector(threading.local):
    """The events committed so far inside this thread's ``delivered_together()`` block, or
    None outside one. Thread-local because commit hooks run on the committing thread."""

    pending: list[tuple[Event, dict[str, Any]]] | None = None


_collector = _Collector()


@contextlib.contextmanager
def delivered_together() -> Iterator[None]:
    """Hand the consumer tasks every event committed inside the block in one task each, at
    its end (also when the block raises: what committed stays committed). Browsers are
    pushed to as each transaction commits, as outside. A nested block joins the outer one."""
    if _collector.pending is not None:
        yield
        return
    _collector.pending = []
    try:
        yield
    finally:
        pending, _collector.pending = _collector.pending, None
        if pending:
            _enqueue_consumers(pending)


def _committed(event: Event) -> None:
    """Push, then enqueue (or collect). Each step is isolated: the change is committed, so
    one failing receiver (a realtime outage, a broker hiccup) must not keep it from the
    others."""
    payload = event.payload()
    _push_to_browsers(event, payload)
    if _collector.pending is not None:
        _collector.pending.append((event, payload))
    else:
        _enqueue_consumers([(event, payload)])


def _enqueue_consumers(events: Sequence[tuple[Event, dict[str, Any]]]) -> None:
    for task_path in settings.EVENT_CONSUMER_TASKS:
        try:
            task: Any = import_string(task_path)
            wanted = getattr(task, "subscribed_events", None)
            selected = [
                [event.name, payload]
                for event, payload in events
                if wanted is None or event.name in wanted
            ]
            if selected:
                task.delay(selected)
        except Exception:
            logger.exception(
                "Could not hand %s to %s", ", ".join(e.name for e, _ in events), task_path
            )


def _push_to_browsers(event: Event, payload: dict[str, Any]) -> None:
    groups = event.groups()
    if not groups:
        return
    try:
        layer = get_channel_layer()
    except Exception:
        # A misconfigured or unreachable layer fails here, before any group_send.
        logger.exception("No channel layer for %s", event.name)
        return
    if layer is None:
        return
    message = {"type": "helpdesk.event", "event": event.name, "data": payload}
    if isinstance(layer, InMemoryChannelLayer):
        # Its queues belong to the event loop of the one process that serves the sockets:
        # push on that loop (async_to_sync finds it from a view's thread) and wait.
        send: Callable[..., Any] = async_to_sync(layer.group_send)
        for group in groups:
            try:
                send(group, message)
            except Exception as error:
                _push_failed(event.name, group, error)
        return
    # An out-of-process layer (Redis) is pushed to from a loop that lives as long as the
    # process, without waiting: a new event loop and connection per event cost a worker
    # more than threading the message itself.
    for group in groups:
        _background_loop().push(
            layer, group, message, on_error=functools.partial(_push_failed, event.name, group)
        )


def _push_failed(name: str, group: str, error: BaseException) -> None:
    # The change is committed; a browser that misses a push catches up on its next fetch.
    # Automation must still run, so a realtime outage is only logged.
    logger.error("Could not push %s to group %s", name, group, exc_info=error)


class _BackgroundLoop:
    """An event loop on a daemon thread that pushes to an out-of-process channel layer for
    sync code, without making it wait.

    A worker that commits a batch of messages pushes a hundred events in a few milliseconds
    and keeps the interpreter busy meanwhile. So each group has at most one send on its
    way, and what is pushed to it meanwhile goes out together in the next send, as one
    ``helpdesk.events`` message whose events the consumers hand on one frame each, in
    order. One by one, a burst overflowed the sockets' channels (a channel holds 100
    messages; the layer drops the rest) and cost the worker and Redis a send per event. And
    at most ``in_flight`` sends run at once, for all groups together: unbounded, each held
    a connection of the layer's pool until the pool ran dry ("Too many connections") and
    pushes were lost. A lone push goes out alone and at once."""

    def __init__(self, in_flight: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.in_flight = asyncio.Semaphore(in_flight)
        # Per (layer, group) that has a send on its way: the messages pushed since it
        # started, with their error handlers. Touched on the loop's thread only.
        self.waiting: dict[tuple[int, str], list[tuple[dict[str, Any], Callable[..., None]]]] = {}
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="event-push-loop", daemon=True
        )
        self.thread.start()

    def push(
        self,
        layer: Any,
        group: str,
        message: dict[str, Any],
        *,
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.loop.call_soon_threadsafe(self._queue, layer, group, message, on_error)

    def _queue(
        self,
        layer: Any,
        group: str,
        message: dict[str, Any],
        on_error: Callable[[BaseException], None],
    ) -> None:
        key = (id(layer), group)
        if key in self.waiting:
            self.waiting[key].append((message, on_error))  # the group's next send takes it
            return
        self.waiting[key] = [(message, on_error)]
        self.loop.create_task(self._send_all(layer, group, key))

    async def _send_all(self, layer: Any, group: str, key: tuple[int, str]) -> None:
        """Send what waits for the group, then what was pushed meanwhile, until nothing
        is left."""
        while self.waiting[key]:
            async with self.in_flight:
                waiting, self.waiting[key] = self.waiting[key], []
                if len(waiting) == 1:
                    sent = waiting[0][0]
                else:
                    sent = {"type": "helpdesk.events", "events": [item for item, _ in waiting]}
                try:
                    await layer.group_send(group, sent)
                except Exception as error:
                    for _, on_error in waiting:
                        on_error(error)
        del self.waiting[key]


PUSHES_IN_FLIGHT = 32
_loops: dict[int, _BackgroundLoop] = {}
_loops_lock = threading.Lock()


def _background_loop() -> _BackgroundLoop:
    """This process's loop: keyed by pid because a forked worker child inherits the parent's
    objects but not its threads."""
    pid = os.getpid()
    loop = _loops.get(pid)
    if loop is None:
        with _loops_lock:
            loop = _loops.get(pid)
            if loop is None:
                # Well inside the channel layer's pool, which the process's other
                # pushes (a web view's) share.
                loop = _loops[pid] = _BackgroundLoop(
                    in_flight=max(1, min(PUSHES_IN_FLIGHT, settings.REDIS_MAX_CONNECTIONS // 2))
                )
    return loop
