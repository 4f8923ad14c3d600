"""Two real Celery worker processes route the same tickets at once on PostgreSQL: no ticket
is assigned twice and no agent gets more than their capacity, even for agents in two teams
whose routers run side by side.

The workers get their own Redis key prefix, so they never take the tasks of another test
run's worker (tests/integration) and it never sees them; the test sends them tasks through
a Celery app on that prefix.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from django.db.models import Count

from automation.models import TeamRouting
from customers.services import create_customer
from helpdesk.models import Team, User
from tests.integration.conftest import database_url_of_test_database
from tickets.models import Ticket, TicketActivity
from tickets.services import change_status, open_ticket

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT = 60.0
SETTLE_TIMEOUT = 120.0

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks under two worker processes: PostgreSQL only (SQLite has one writer)",
    ),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL for the Celery broker"),
]


class Workers:
    def __init__(self, prefix: str, logs: list[Path]) -> None:
        self.prefix = prefix
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []
        self.hostnames: list[str] = []
        # Not the current app: shared tasks would follow it, and the tests after this one
        # would send their tasks to these workers' queues instead of running them in process.
        self.app = Celery("routing-test", broker=settings.REDIS_URL, set_as_current=False)
        self.app.conf.broker_transport_options = {"global_keyprefix": f"{prefix}:celery:"}
        self.app.conf.task_default_queue = "default"
        self.redis = redis.Redis.from_url(settings.REDIS_URL)

    def send(self, name: str, *args: Any) -> None:
        self.app.send_task(name, args=list(args), queue="default")

    def succeeded(self, index: int) -> int:
        return self.logs[index].read_text(errors="replace").count("succeeded in")

    def output(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-3000:] for log in self.logs)

    def settle(self) -> None:
        """Wait until the queue is empty and no task is in flight, twice in a row."""
        queue = f"{self.prefix}:celery:default"
        unacked = f"{self.prefix}:celery:unacked"
        deadline = time.monotonic() + SETTLE_TIMEOUT
        quiet = 0
        while quiet < 3:
            assert time.monotonic() < deadline, f"workers did not settle:\n{self.output()}"
            busy = self.redis.llen(queue) or self.redis.hlen(unacked)
            quiet = 0 if busy else quiet + 1
            time.sleep(0.5)

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
        for key in self.redis.scan_iter(f"{self.prefix}:*"):
            self.redis.delete(key)


@pytest.fixture
def workers(transactional_db: None, tmp_path: Path) -> Iterator[Workers]:
    prefix = f"routing-test-{uuid.uuid4().hex[:10]}"
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    pool = Workers(prefix, logs)
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.automation.routing.worker_settings",
        "DATABASE_URL": database_url_of_test_database(),
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_KEY_PREFIX": prefix,
    }
    try:
        for index, log in enumerate(logs, start=1):
            hostname = f"routing-{index}-{uuid.uuid4().hex[:6]}@localhost"
            command = [
                *(sys.executable, "-m", "celery", "-A", "helpdesk", "worker"),
                *("--pool=solo", "--concurrency=1", "-Q", "default", "--loglevel=info"),
                *("--hostname", hostname),
                *("--include", "tests.automation.routing.event_tasks"),
                *("--without-mingle", "--without-gossip", "--without-heartbeat"),
            ]
            with log.open("wb") as log_file:
                pool.processes.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=environ, stdout=log_file, stderr=subprocess.STDOUT
                    )
                )
            pool.hostnames.append(hostname)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            replies = pool.app.control.ping(destination=pool.hostnames, timeout=1.0) or []
            if {name for reply in replies for name in reply} >= set(pool.hostnames):
                break
            for process in pool.processes:
                if process.poll() is not None:
                    pytest.fail(f"a worker exited with {process.returncode}:\n{pool.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the workers did not answer ping:\n{pool.output()}")
        yield pool
    finally:
        pool.stop()


def loads() -> dict[int, int]:
    rows = (
        Ticket.objects.filter(assignee__isnull=False, status__in=["new", "open"])
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["assignee_id"]: row["n"] for row in rows}


def assert_no_double_assignment() -> None:
    assigned = Counter(
        TicketActivity.objects.filter(verb=TicketActivity.Verb.ASSIGNED).values_list(
            "ticket_id", flat=True
        )
    )
    routed = Counter(
        TicketActivity.objects.filter(verb=TicketActivity.Verb.ROUTED).values_list(
            "ticket_id", flat=True
        )
    )
    assert all(count == 1 for count in assigned.values()), assigned.most_common(3)
    assert routed == assigned
    assert sum(assigned.values()) == Ticket.objects.filter(assignee__isnull=False).count()


def test_two_workers_route_at_once_without_double_assignment_or_overload(
    workers: Workers, settings: Any
) -> None:
    # The test process itself hands events to nobody: only the workers route.
    settings.EVENT_CONSUMER_TASKS = []
    front = Team.objects.create(name="Front", slug="front")
    back = Team.objects.create(name="Back", slug="back")
    TeamRouting.objects.create(team=front, mode=TeamRouting.Mode.ROUND_ROBIN)
    TeamRouting.objects.create(team=back, mode=TeamRouting.Mode.LEAST_LOADED)
    agents = []
    for n in range(6):
        agent = User.objects.create_user(
            f"agent{n}", f"agent{n}@shop.test", "pw", capacity=5, availability="online"
        )
        # Four agents in both teams: two routers compete for their seats.
        agent.teams.add(*([front, back] if n < 4 else [front]))
        agents.append(agent)
    customer = create_customer(name="Ana", email="ana@example.com")
    tickets = [
        open_ticket(customer=customer, channel="email", subject=f"#{n}", team=(front, back)[n % 2])
        for n in range(80)
    ]

    # Each ticket routed twice (a retry, a second event) plus queue drains, shuffled.
    rng = random.Random(3)  # a reproducible order
    jobs: list[tuple[str, tuple[int, ...]]] = [
        ("automation.route_ticket_task", (ticket.pk,)) for ticket in tickets for _ in range(2)
    ]
    jobs += [("automation.drain_routing_queue_task", (team.pk,)) for team in (front, back) * 5]
    jobs += [("automation.routing_queue_task", ())] * 5
    rng.shuffle(jobs)
    for name, args in jobs:
        workers.send(name, *args)
    workers.settle()

    assert_no_double_assignment()
    per_agent = loads()
    assert all(per_agent.get(agent.pk, 0) <= agent.capacity for agent in agents), per_agent
    # 30 seats, 80 tickets: every seat is taken and the rest wait.
    assert sum(per_agent.values()) == 30
    assert Ticket.objects.filter(assignee__isnull=True).count() == 50
    assert workers.succeeded(0) > 0, workers.output()
    assert workers.succeeded(1) > 0, workers.output()

    # Ten tickets are solved; concurrent queue sweeps give out exactly ten seats again.
    for ticket in Ticket.objects.filter(assignee__isnull=False).order_by("pk")[:10]:
        change_status(ticket, Ticket.Status.SOLVED, actor=ticket.assignee)
    for _ in range(4):
        workers.send("automation.routing_queue_task")
        for team in (front, back):
            workers.send("automation.drain_routing_queue_task", team.pk)
    workers.settle()

    assert_no_double_assignment()
    per_agent = loads()
    assert all(per_agent.get(agent.pk, 0) <= agent.capacity for agent in agents), per_agent
    assert sum(per_agent.values()) == 30
    assert Ticket.objects.filter(assignee__isnull=True).count() == 40
