"""The embedded scheduler that runs the beat table without Redis, and the table itself."""

# The fixtures come from adapters_for_tests, imported by name, which pytest then injects.
# ruff: noqa: F811

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from helpdesk.celery import app as celery_app
from helpdesk.models import User
from helpdesk.scheduler import EmbeddedScheduler, start_embedded_scheduler
from tests.channels_inbox import scheduled_tasks
from tests.channels_inbox.adapters_for_tests import (  # noqa: F401 - fixtures
    FakeProvider,
    eager_celery,
    provider,
    sms_account,
)
from tickets.models import Message
from tickets.services import InboundMessage, add_reply, receive_message

HOUR = 3600.0


@pytest.fixture(autouse=True)
def _ticks() -> Iterator[list[str]]:
    scheduled_tasks.TICKS.clear()
    scheduled_tasks.TICKED.clear()
    yield scheduled_tasks.TICKS
    scheduled_tasks.TICKS.clear()


def rewind(scheduler: EmbeddedScheduler, name: str, seconds: float) -> None:
    """As if the job last ran ``seconds`` ago."""
    scheduler.last_run_at[name] -= timedelta(seconds=seconds)


def test_every_job_in_the_beat_table_names_a_registered_task(settings: Any) -> None:
    EmbeddedScheduler(settings.CELERY_BEAT_SCHEDULE)  # loads every app's task module

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {
        "channels_inbox.sweep_inbound_events_task",
        "channels_inbox.sweep_queued_messages_task",
    } <= tasks
    assert tasks <= set(celery_app.tasks)


def test_a_job_runs_once_its_interval_has_passed() -> None:
    scheduler = EmbeddedScheduler(
        {
            "hourly": {"task": "tests.channels_inbox.tick_task", "schedule": HOUR},
            "daily": {
                "task": "tests.channels_inbox.tick_task",
                "schedule": timedelta(days=1),
                "args": ("daily",),
            },
        }
    )
    assert scheduler.run_due() == []

    rewind(scheduler, "hourly", HOUR + 1)
    assert scheduler.run_due() == ["hourly"]
    assert scheduler.run_due() == []

    assert scheduled_tasks.TICKS == ["tick"]


def test_a_failing_job_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scheduler = EmbeddedScheduler(
        {
            "broken": {"task": "tests.channels_inbox.broken_task", "schedule": HOUR},
            "missing": {"task": "tests.channels_inbox.no_such_task", "schedule": HOUR},
            "tick": {"task": "tests.channels_inbox.tick_task", "schedule": HOUR},
        }
    )
    for name in ("broken", "missing", "tick"):
        rewind(scheduler, name, HOUR + 1)

    assert scheduler.run_due() == ["broken", "missing", "tick"]

    assert scheduled_tasks.TICKS == ["tick"]
    assert "Scheduled job broken failed" in caplog.text
    assert "Scheduled job missing failed" in caplog.text


@pytest.mark.django_db
def test_the_sweep_job_sends_a_reply_whose_task_was_lost(
    sms_account: ChannelAccount,
    agent: User,
    provider: FakeProvider,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = receive_message(
        InboundMessage(channel="sms", sender_address="+4915112345678", text="Hello?"),
        channel_account=sms_account,
    ).ticket
    with django_capture_on_commit_callbacks():  # the commit's enqueue is lost
        message = add_reply(ticket, author=agent, text="Hello Ana!")
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    scheduler = EmbeddedScheduler(settings.CELERY_BEAT_SCHEDULE)
    rewind(scheduler, "sweep-queued-messages", HOUR)

    assert scheduler.run_due() == ["sweep-queued-messages"]

    message.refresh_from_db()
    assert message.delivery_status == "sent"
    assert [body["text"] for body in provider.sent] == ["Hello Ana!"]


def test_the_thread_runs_due_jobs_until_stopped() -> None:
    scheduler = EmbeddedScheduler(
        {"tick": {"task": "tests.channels_inbox.tick_task", "schedule": 0.02}}, tick_seconds=0.01
    )

    scheduler.start()
    try:
        assert scheduled_tasks.TICKED.wait(5)
    finally:
        scheduler.stop(timeout=5)

    assert scheduler._thread is not None
    assert not scheduler._thread.is_alive()
    count = len(scheduled_tasks.TICKS)
    assert count >= 1
    time.sleep(0.1)
    assert len(scheduled_tasks.TICKS) == count


def test_no_embedded_scheduler_under_tests_or_with_redis(settings: Any) -> None:
    assert settings.TESTING is True
    assert start_embedded_scheduler() is None

    settings.TESTING = False
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert start_embedded_scheduler() is None


def test_a_fresh_process_finds_every_scheduled_task() -> None:
    """In the test process other tests may already have imported a task module; a new
    process (``make run``, a worker) has only what autodiscovery loads."""
    program = (
        "import django; django.setup();"
        "from django.conf import settings;"
        "from helpdesk.celery import app;"
        "from helpdesk.scheduler import EmbeddedScheduler;"
        "EmbeddedScheduler(settings.CELERY_BEAT_SCHEDULE);"
        "print(sorted(e['task'] for e in settings.CELERY_BEAT_SCHEDULE.values()"
        " if e['task'] not in app.tasks))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"}
    environment.pop("REDIS_URL", None)

    finished = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip().splitlines()[-1] == "[]"
