"""A real Celery worker process runs what the web process enqueues, on the same database."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection

from helpdesk.tasks import check_worker_task
from tests.integration.conftest import WorkerProcess, needs_redis
from tests.integration.worker_tasks import seen_key
from tickets.models import Ticket
from tickets.services import InboundMessage, receive_message

# Every test that needs a Celery worker lives in this file and shares one (module scope):
# `make test` distributes whole files (--dist loadfile), so only one worker consumes the
# run's "default" queue, and it points at this process's test database.
pytestmark = [pytest.mark.integration, needs_redis, pytest.mark.django_db(transaction=True)]

RESULT_TIMEOUT = 30.0


def wait_for_cache(key: str) -> Any:
    deadline = time.monotonic() + RESULT_TIMEOUT
    while (value := cache.get(key)) is None:
        assert time.monotonic() < deadline, f"nothing under {key} after {RESULT_TIMEOUT}s"
        time.sleep(0.1)
    return value


def test_worker_runs_an_enqueued_task_against_the_test_database(
    celery_worker: WorkerProcess,
) -> None:
    result = check_worker_task.delay()

    assert result.get(timeout=RESULT_TIMEOUT) == {
        "database": str(connection.settings_dict["NAME"]),
        "vendor": connection.vendor,
    }
    assert result.successful() is True


def test_domain_event_reaches_a_subscribed_task_in_the_worker(
    celery_worker: WorkerProcess, settings: Any
) -> None:
    """receive_message commits, emit() enqueues the subscriber after commit, and the worker
    loads the new ticket from its own connection."""
    settings.EVENT_CONSUMER_TASKS = ["tests.integration.worker_tasks.record_ticket_event_task"]

    message = receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            sender_name="Ana Souza",
            subject="Lamp arrived broken",
            text="The lamp arrived broken.",
            starts_conversation=True,
        )
    )

    ticket = Ticket.objects.get(pk=message.ticket_id)
    seen = wait_for_cache(seen_key("ticket.created", ticket.pk))
    assert seen == {
        "ticket": {"number": ticket.number, "subject": "Lamp arrived broken"},
        "database": str(connection.settings_dict["NAME"]),
    }
