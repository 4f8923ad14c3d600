"""The SLA clocks of one ticket, computed from its history. Pure: no database.

Everything is derived again from the ticket's status changes and messages on every change,
so the result does not depend on which events arrived, in which order or how often: handling
an event twice computes the same clocks.

The clocks:

- **First response** starts when the ticket is created and is met by the first reply.
- **Next response** starts at a customer message once the ticket has had a reply and no
  next-response clock is open (the oldest unanswered message counts), and is met by the next
  reply. Each such wait is its own cycle.
- **Resolution** starts when the ticket is created and is met when the ticket is solved or
  closed. A reopened ticket resumes the same clock: the time it spent solved does not count,
  the time before does, and a resolution that was met becomes undecided again.

All of them count business time only while the ticket runs: not in the policy's pause
statuses, and not while solved or closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"
DONE = "done"

STOP_STATUSES = frozenset({"solved", "closed"})
FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"
RESOLUTION = "resolution"


class BusinessCalendar(Protocol):
    def duration_between(self, start: datetime, end: datetime) -> timedelta: ...

    def add_duration(self, start: datetime, duration: timedelta) -> datetime: ...


@dataclass(frozen=True)
class History:
    created_at: datetime
    initial_status: str
    # (moment, new status), in order
    status_changes: Sequence[tuple[datetime, str]]
    customer_messages: Sequence[datetime]
    replies: Sequence[datetime]
    first_responded_at: datetime | None = None


@dataclass(frozen=True)
class Period:
    state: str  # RUNNING, PAUSED or STOPPED
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class Clock:
    target: str
    cycle: int
    target_minutes: int
    state: str  # RUNNING, PAUSED, STOPPED (ticket solved or closed) or DONE
    started_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    elapsed_minutes: float
    achieved: bool | None


def periods(history: History, pause_statuses: Iterable[str]) -> list[Period]:
    """Running, paused and stopped stretches from creation on; the last one is open."""
    pausing = frozenset(pause_statuses)

    def state_of(status: str) -> str:
        if status in STOP_STATUSES:
            return STOPPED
        return PAUSED if status in pausing else RUNNING

    result: list[Period] = []
    state, since = state_of(history.initial_status), history.created_at
    for moment, status in history.status_changes:
        moment = max(moment, history.created_at)
        new_state = state_of(status)
        if new_state == state:
            continue
        if moment > since:
            result.append(Period(state, since, moment))
        elif result and result[-1].state == new_state:
            # A change at the very moment of the previous one: the stretch before is empty.
            since = result.pop().started_at
            state = new_state
            continue
        state, since = new_state, moment
    result.append(Period(state, since, None))
    return result


def _measure(
    target: str,
    cycle: int,
    minutes: int,
    start: datetime,
    stop: datetime | None,
    timeline: list[Period],
    calendar: BusinessCalendar,
    now: datetime,
) -> Clock:
    """Run one clock from ``start`` to ``stop`` (None: still open) over the timeline."""
    limit = stop if stop is not None else max(now, start)
    goal = timedelta(minutes=minutes)
    consumed = timedelta()
    due_at: datetime | None = None
    for period in timeline:
        if period.state != RUNNING:
            continue
        begin = max(period.started_at, start)
        end = period.ended_at if period.ended_at is not None else limit
        end = min(end, limit)
        if period.ended_at is None and stop is None and due_at is None:
            # The clock runs now: its due time follows from where this stretch began, so it
            # is the same whenever it is computed.
            due_at = calendar.add_duration(begin, goal - consumed) if begin <= limit else None
        if end <= begin:
            continue
        part = calendar.duration_between(begin, end)
        if due_at is None and consumed + part >= goal:
            due_at = calendar.add_duration(begin, goal - consumed)
        consumed += part
    elapsed = consumed.total_seconds() / 60
    if stop is not None:
        state = DONE
        achieved: bool | None = consumed <= goal
    else:
        state = timeline[-1].state
        achieved = False if due_at is not None and due_at <= now else None
    if due_at is not None and consumed < goal and state != RUNNING:
        # Paused or stopped before the target: no due time until the clock runs again.
        due_at = None
    return Clock(
        target=target,
        cycle=cycle,
        target_minutes=minutes,
        state=state,
        started_at=start,
        completed_at=stop,
        due_at=due_at,
        elapsed_minutes=round(elapsed, 4),
        achieved=achieved,
    )


def compute(
    history: History,
    *,
    first_response_minutes: int | None,
    next_response_minutes: int | None,
    resolution_minutes: int | None,
    pause_statuses: Iterable[str],
    calendar: BusinessCalendar,
    now: datetime,
) -> tuple[list[Clock], list[Period]]:
    """The ticket's clocks (first response, next-response cycles, resolution) and its
    timeline of periods at ``now``."""
    timeline = periods(history, pause_statuses)
    clocks: list[Clock] = []
    replies = sorted(history.replies)
    first_reply = replies[0] if replies else None
    if history.first_responded_at is not None and (
        first_reply is None or history.first_responded_at < first_reply
    ):
        first_reply = history.first_responded_at
    if first_response_minutes:
        clocks.append(
            _measure(
                FIRST_RESPONSE,
                0,
                first_response_minutes,
                history.created_at,
                first_reply,
                timeline,
                calendar,
                now,
            )
        )
    if next_response_minutes:
        cycle = 0
        waiting_since: datetime | None = None
        answered = first_reply is not None
        events = sorted(
            [(moment, 1, "customer") for moment in history.customer_messages]
            + [(moment, 0, "reply") for moment in replies]
        )
        for moment, _order, kind in events:
            if kind == "customer":
                if answered and waiting_since is None and first_reply and moment >= first_reply:
                    waiting_since = moment
                continue
            answered = True
            if waiting_since is not None:
                clocks.append(
                    _measure(
                        NEXT_RESPONSE,
                        cycle,
                        next_response_minutes,
                        waiting_since,
                        moment,
                        timeline,
                        calendar,
                        now,
                    )
                )
                cycle += 1
                waiting_since = None
        if waiting_since is not None:
            clocks.append(
                _measure(
                    NEXT_RESPONSE,
                    cycle,
                    next_response_minutes,
                    waiting_since,
                    None,
                    timeline,
                    calendar,
                    now,
                )
            )
    if resolution_minutes:
        last = timeline[-1]
        stop = last.started_at if last.state == STOPPED else None
        clocks.append(
            _measure(
                RESOLUTION, 0, resolution_minutes, history.created_at, stop, timeline, calendar, now
            )
        )
    return clocks, timeline
