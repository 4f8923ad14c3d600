"""A real Celery worker process runs what the web process enqueues, on the same database."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection

from automation.models import SlaPolicy, TicketSla
from channels_inbox.models import ChannelAccount
from channels_inbox.services import store_inbound_event
from channels_inbox.tasks import BATCH_SIZE, _slot_key, process_new_inbound_events_task
from helpdesk.celery import app as celery_app
from helpdesk.tasks import check_worker_task
from tests.integration.conftest import WORKER_NICENESS, WorkerProcess, needs_redis
from tests.integration.worker_tasks import niceness_task, seen_key
from tickets.models import Message, Ticket, TicketActivity
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


def test_worker_runs_tasks_at_the_configured_niceness(celery_worker: WorkerProcess) -> None:
    started_at = os.getpriority(os.PRIO_PROCESS, 0)  # the worker inherits the suite's

    niceness = niceness_task.delay().get(timeout=RESULT_TIMEOUT)

    assert niceness == min(started_at + WORKER_NICENESS, 19)


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


def telegram_update(number: int) -> bytes:
    """A private-chat text message from a customer of their own."""
    person = {"id": 500_000 + number, "is_bot": False, "first_name": f"Customer {number}"}
    chat = {"id": 500_000 + number, "type": "private", "first_name": f"Customer {number}"}
    message = {"message_id": number, "date": 1767268800, "from": person, "chat": chat}
    return json.dumps({"update_id": number, "message": {**message, "text": "Hello"}}).encode()


def wait_until_idle(worker: WorkerProcess) -> None:
    """The worker runs no task and holds none (asked twice, a moment apart: a solo worker
    busy with a task does not answer at all)."""
    deadline = time.monotonic() + RESULT_TIMEOUT
    quiet = 0
    while quiet < 2:
        assert time.monotonic() < deadline, "the worker did not finish"
        inspect = celery_app.control.inspect(destination=[worker.hostname], timeout=1.0)
        active, reserved = inspect.active(), inspect.reserved()
        busy = not active or not reserved or any(active.values()) or any(reserved.values())
        quiet = 0 if busy else quiet + 1
        time.sleep(0.3)


def test_a_long_backlog_is_threaded_in_turns_so_the_tasks_it_causes_keep_pace(
    celery_worker: WorkerProcess, settings: Any
) -> None:
    """A batch task threads INBOUND_BATCHES_PER_TASK batches, then queues its continuation
    behind the automation tasks those batches enqueued: the first tickets have their SLA
    clocks before the last messages of the backlog are threaded, not after all of them."""
    account = ChannelAccount.objects.create(
        kind="telegram",
        name="Shop bot",
        slug="shop-bot",
        address="shop_help_bot",
        credentials={"bot_token": "123456:integration", "secret_token": "integration-secret"},
    )
    SlaPolicy.objects.create(name="Standard", first_response_minutes=60)
    total = settings.INBOUND_BATCHES_PER_TASK * BATCH_SIZE + BATCH_SIZE + 3
    slots = [_slot_key(slot) for slot in range(settings.INBOUND_BATCH_WORKERS)]
    for key in slots:
        cache.add(key, 1)  # busy: storing leaves the backlog to the task started below
    try:
        for number in range(total):
            store_inbound_event(
                account, external_id=f"update-{number}", payload=telegram_update(number)
            )
        cache.delete(slots[0])
        cache.add(slots[0], 1)

        process_new_inbound_events_task.delay(0)

        deadline = time.monotonic() + RESULT_TIMEOUT
        while TicketSla.objects.filter(ticket__channel_account=account).count() < total:
            assert time.monotonic() < deadline, "the backlog or its automation did not finish"
            time.sleep(0.2)
        wait_until_idle(celery_worker)
    finally:
        cache.delete_many(slots)
    assert Message.objects.filter(channel_account=account).count() == total
    first_ticket = Ticket.objects.filter(channel_account=account).order_by("pk").first()
    clocks_started = TicketActivity.objects.get(
        ticket=first_ticket, verb=TicketActivity.Verb.SLA_APPLIED
    ).created_at
    last_message = Message.objects.filter(channel_account=account).latest("created_at")
    assert clocks_started < last_message.created_at
