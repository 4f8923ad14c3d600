"""What automation reads once per task rather than once per event.

A task handles a list of events (a whole batch of inbound messages arrives as one). The
configuration the handlers consult on every event (the rules' version, the active SLA
policies, which accounts acknowledge automatically, which of the batch's tickets already
have SLA clocks) is read once for the list inside ``one_look_per_task()``. What a task reads
is what it acts on: a policy or rule saved meanwhile applies from the next task, as it would
had the events arrived a moment later. Outside the block (a test, a shell), every call
reads afresh.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_memo: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "automation_batch_memo", default=None
)
_ticket_ids: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "automation_batch_ticket_ids", default=frozenset()
)


@contextlib.contextmanager
def one_look_per_task(ticket_ids: Iterable[int]) -> Iterator[None]:
    """Read each piece of configuration once inside the block; ``ticket_ids`` are the
    tickets the task's events name, for lookups made for all of them at once."""
    memo_token = _memo.set({})
    ids_token = _ticket_ids.set(frozenset(ticket_ids))
    try:
        yield
    finally:
        _memo.reset(memo_token)
        _ticket_ids.reset(ids_token)


def once_per_task(key: str, read: Callable[[], T]) -> T:
    """``read()``, or what it returned earlier in this task."""
    memo = _memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def for_the_tasks_tickets(
    key: str, ticket_id: int, read: Callable[[Iterable[int]], set[int]]
) -> bool:
    """Whether ``ticket_id`` is among ``read(ids)``, where ``read`` answers for every ticket
    of the task at once (one query for the list rather than one per event). A ticket the
    task's events do not name is looked up on its own."""
    ids = _ticket_ids.get()
    if _memo.get() is None or ticket_id not in ids:
        return ticket_id in read([ticket_id])
    return ticket_id in once_per_task(key, lambda: read(ids))
