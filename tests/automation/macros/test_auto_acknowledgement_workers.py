"""Two real Celery worker processes on PostgreSQL take the events of the same new tickets
at the same moment: each ticket gets exactly one acknowledgement.

PostgreSQL and Redis only (CI's second run): the workers are separate processes on the
test database. They use a Redis database and key prefix of their own and a queue named for
this run, so they neither take nor answer (ping) anything of tests/integration's worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from automation.macros.services import save_auto_acknowledgement
from automation.models import AutoAcknowledgement, AutoAcknowledgementSent
from channels_inbox.models import ChannelAccount
from helpdesk.events import MessageCreated, TicketCreated
from tests.integration.conftest import database_url_of_test_database
from tickets.models import Message, TicketActivity
from tickets.services import InboundMessage, receive_message

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="two worker processes need PostgreSQL"
    ),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL for the Celery broker"),
]

ROOT = Path(__file__).resolve().parents[3]
TICKETS = 6
START_TIMEOUT = 120.0
RESULT_TIMEOUT = 30.0


def _own_redis_url() -> str:
    """REDIS_URL on another database number: Celery's control broadcasts are per database."""
    parts = urlsplit(settings.REDIS_URL)
    current = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(current + 7) % 16}"))


class Workers:
    def __init__(self, tmp_path: Path) -> None:
        self.queue = f"autoack-{uuid.uuid4().hex[:10]}"
        self.prefix = f"switchboard-test-{self.queue}"
        self.redis_url = _own_redis_url()
        # Not the current app: shared tasks would follow it, and the tests after this one
        # would send their tasks to these workers' queues instead of running them in process.
        self.app = Celery("autoack-test", broker=self.redis_url, set_as_current=False)
        self.app.conf.broker_transport_options = {"global_keyprefix": f"{self.prefix}:celery:"}
        self.hostnames = [f"{self.queue}-{n}@localhost" for n in (1, 2)]
        self.logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        environ = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "DATABASE_URL": database_url_of_test_database(),
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": self.redis_url,
            "REDIS_KEY_PREFIX": self.prefix,
        }
        for hostname, log in zip(self.hostnames, self.logs, strict=True):
            command = [
                *(sys.executable, "-m", "celery", "-A", "helpdesk", "worker"),
                *("--pool=solo", "--concurrency=1", "-Q", self.queue, "--loglevel=warning"),
                *("--hostname", hostname, "--without-mingle", "--without-gossip"),
                "--without-heartbeat",
            ]
            with log.open("wb") as log_file:
                self.processes.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=environ, stdout=log_file, stderr=subprocess.STDOUT
                    )
                )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            replies = self.app.control.ping(destination=self.hostnames, timeout=1.0) or []
            if {name for reply in replies for name in reply} >= set(self.hostnames):
                return
            for process, log in zip(self.processes, self.logs, strict=True):
                if process.poll() is not None:
                    pytest.fail(f"a worker exited:\n{log.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the workers did not answer ping")

    def send(self, name: str, payload: dict[str, Any]) -> None:
        self.app.send_task(
            "automation.handle_events_task", args=[[[name, payload]]], queue=self.queue
        )

    def wait_until_idle(self) -> None:
        """The queue is empty and neither worker runs a task (asked twice, a moment apart,
        since a worker takes its next task between the two)."""
        client = redis.Redis.from_url(self.redis_url)
        queue_key = f"{self.prefix}:celery:{self.queue}"
        deadline = time.monotonic() + RESULT_TIMEOUT
        quiet = 0
        while quiet < 2:
            assert time.monotonic() < deadline, "the workers did not finish"
            active = self.app.control.inspect(destination=self.hostnames, timeout=1.0).active()
            busy = any(tasks for tasks in (active or {}).values())
            quiet = 0 if busy or client.llen(queue_key) else quiet + 1
            time.sleep(0.3)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        client = redis.Redis.from_url(self.redis_url)
        keys = list(client.scan_iter(match=f"{self.prefix}:*", count=500))
        if keys:
            client.unlink(*keys)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    pair = Workers(tmp_path)
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()


def test_two_workers_acknowledge_each_new_ticket_once(
    workers: Workers, email_account: ChannelAccount, settings: Any
) -> None:
    """Given new tickets whose events nobody has handled yet, when the ticket.created and
    message.created of each (each twice, as a retry would) reach two workers at once, every
    ticket has one acknowledgement and one receipt."""
    save_auto_acknowledgement(AutoAcknowledgement(channel_account=email_account))
    settings.EVENT_CONSUMER_TASKS = []  # the events go to the two workers below, by hand
    messages = [
        receive_message(
            InboundMessage(
                channel="email",
                sender_address=f"buyer{n}@example.com",
                sender_name=f"Buyer {n}",
                subject=f"Question {n}",
                text="Hello?",
                starts_conversation=True,
            ),
            channel_account=email_account,
        )
        for n in range(TICKETS)
    ]
    assert not Message.objects.filter(is_automated=True).exists()

    for message in messages:
        created = TicketCreated(ticket_id=message.ticket_id)
        written = MessageCreated(
            ticket_id=message.ticket_id, message_id=message.pk, kind=message.kind
        )
        for event in (created, written, created, written):
            workers.send(event.name, event.payload())

    ticket_ids = [message.ticket_id for message in messages]
    deadline = time.monotonic() + RESULT_TIMEOUT
    while AutoAcknowledgementSent.objects.filter(ticket_id__in=ticket_ids).count() < TICKETS:
        assert time.monotonic() < deadline, "the workers did not acknowledge every ticket"
        time.sleep(0.2)
    workers.wait_until_idle()  # every remaining event handled: none may send a second one
    for ticket_id in ticket_ids:
        assert (
            Message.objects.filter(
                ticket_id=ticket_id, direction="outbound", is_automated=True
            ).count()
            == 1
        )
        assert AutoAcknowledgementSent.objects.filter(ticket_id=ticket_id).count() == 1
        assert (
            TicketActivity.objects.filter(
                ticket_id=ticket_id, verb=TicketActivity.Verb.AUTO_ACKNOWLEDGED
            ).count()
            == 1
        )
