"""Celery tasks the event tests name in settings.EVENT_CONSUMER_TASKS."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from helpdesk.events import EventConsumerTask

# Every event received, in order, as (name, payload).
RECEIVED: list[tuple[str, dict[str, Any]]] = []
# How many events each task received: one task per event, or one per delivered_together().
TASK_SIZES: list[int] = []


@shared_task(name="tests.helpdesk.record_event_task")
def record_event_task(items: list[Any]) -> None:
    TASK_SIZES.append(len(items))
    RECEIVED.extend((name, payload) for name, payload in items)


@shared_task(name="tests.helpdesk.failing_event_task")
def failing_event_task(items: list[Any]) -> None:
    raise RuntimeError(f"consumer down while handling {len(items)} events")


# What the subscribed task received, one list per task.
QUEUED_ONLY: list[list[Any]] = []


@shared_task(
    name="tests.helpdesk.queued_only_event_task",
    base=EventConsumerTask,
    subscribed_events=frozenset({"message.queued"}),
)
def queued_only_event_task(items: list[Any]) -> None:
    QUEUED_ONLY.append(items)
