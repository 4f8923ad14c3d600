"""Real services: a Celery worker process and the Redis channel layer.

These tests need ``REDIS_URL`` (CI's second run sets it, with PostgreSQL); without it they
are skipped and say why. The worker runs as its own process against the very database
pytest-django created for this run, so it only sees rows the test has committed
(``transactional_db``). Keep every test that needs the worker in test_celery_worker.py:
``make test`` gives each xdist process whole files, and two workers on the run's queue
would take each other's tasks (the fixture refuses to run beside another one).
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
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.sqlite3.creation import DatabaseCreation

from helpdesk.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_TIMEOUT = 60.0
WORKER_NICENESS = 3

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="needs REDIS_URL: a real Redis for the Celery broker and the channel layer "
    "(CI's PostgreSQL + Redis run sets it)",
)


def database_url_of_test_database() -> str:
    """A DATABASE_URL for the database this test run uses (test_<name> on PostgreSQL)."""
    config = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(str(config["USER"] or ""), safe="")
        password = quote(str(config["PASSWORD"] or ""), safe="")
        credentials = f"{user}:{password}@" if password else f"{user}@"
        host = quote(str(config["HOST"] or ""), safe="")
        port = f":{config['PORT']}" if config["PORT"] else ""
        return f"postgres://{credentials}{host}{port}/{quote(str(config['NAME']), safe='')}"
    if connection.vendor == "sqlite" and not DatabaseCreation.is_in_memory_db(config["NAME"]):
        return f"sqlite:///{config['NAME']}"
    pytest.skip("the test database lives in this process's memory; a worker cannot reach it")


class WorkerProcess:
    def __init__(self, process: subprocess.Popen[bytes], hostname: str, log: Path) -> None:
        self.process = process
        self.hostname = hostname
        self.log = log

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def answers_ping(self) -> bool:
        replies = celery_app.control.ping(destination=[self.hostname], timeout=1.0) or []
        return any(self.hostname in reply for reply in replies)

    def other_workers(self) -> list[str]:
        replies = celery_app.control.ping(timeout=1.0) or []
        return sorted(name for reply in replies for name in reply if name != self.hostname)

    def stop(self) -> None:
        if self.process.poll() is None:
            # TERM is Celery's warm shutdown: it finishes the task at hand and acknowledges it.
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def celery_worker(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """A real ``celery -A helpdesk worker`` process, answering ping, for this module."""
    with django_db_blocker.unblock():
        database_url = database_url_of_test_database()
    hostname = f"integration-{os.getpid()}-{uuid.uuid4().hex[:8]}@localhost"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "0",
        # As docker-compose.yml runs it, so the suite sees the niceness take effect.
        "WORKER_NICENESS": str(WORKER_NICENESS),
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "helpdesk", "worker"),
        *("--pool=solo", "--concurrency=1", "-Q", "default", "--loglevel=warning"),
        *("--hostname", hostname, "--include", "tests.integration.worker_tasks"),
        # Faster start; a lone test worker needs no cluster chatter.
        *("--without-mingle", "--without-gossip", "--without-heartbeat"),
    ]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environ, stdout=log_file, stderr=subprocess.STDOUT
        )
    worker = WorkerProcess(process, hostname, log)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not worker.answers_ping():
            if process.poll() is not None:
                pytest.fail(
                    f"the Celery worker exited with {process.returncode}:\n{worker.output()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not answer ping:\n{worker.output()}")
        if others := worker.other_workers():
            pytest.fail(f"other Celery workers consume this run's queue: {', '.join(others)}")
        yield worker
    finally:
        worker.stop()
