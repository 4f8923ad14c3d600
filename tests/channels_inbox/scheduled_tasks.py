"""Celery tasks the scheduler tests put in a beat table."""

from __future__ import annotations

import threading

from celery import shared_task

TICKS: list[str] = []
TICKED = threading.Event()


@shared_task(name="tests.channels_inbox.tick_task")
def tick_task(label: str = "tick") -> None:
    TICKS.append(label)
    TICKED.set()


@shared_task(name="tests.channels_inbox.broken_task")
def broken_task() -> None:
    raise RuntimeError("the job broke")
