"""Celery tasks the event tests name in settings.EVENT_CONSUMER_TASKS."""

from __future__ import annotations

from typing import Any

from celery import shared_task

RECEIVED: list[tuple[str, dict[str, Any]]] = []


@shared_task(name="tests.helpdesk.record_event_task")
def record_event_task(name: str, payload: dict[str, Any]) -> None:
    RECEIVED.append((name, payload))


@shared_task(name="tests.helpdesk.failing_event_task")
def failing_event_task(name: str, payload: dict[str, Any]) -> None:
    raise RuntimeError(f"consumer down while handling {name}")
