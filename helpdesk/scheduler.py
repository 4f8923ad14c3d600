"""The embedded default's stand-in for ``celery beat``.

Without Redis there is no beat process and Celery runs tasks eagerly, so the ASGI server
starts this scheduler: one daemon thread that runs the jobs of ``CELERY_BEAT_SCHEDULE`` in
the server process when they are due. Both read the same table, so a new periodic job is one
entry in settings. The jobs claim their rows with conditional UPDATEs, so two server
processes running the scheduler at once (``--reload``, several workers) do no work twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from celery import Celery
from celery.schedules import BaseSchedule, schedule
from django.apps import apps as django_apps
from django.conf import settings
from django.db import close_old_connections

from helpdesk.celery import app as celery_app

logger = logging.getLogger(__name__)

TICK_SECONDS = 1.0


def _as_schedule(value: float | timedelta | BaseSchedule, app: Celery) -> BaseSchedule:
    """Beat's forms of a schedule: seconds, a timedelta, or a schedule object (crontab)."""
    if isinstance(value, BaseSchedule):
        return value
    every = value if isinstance(value, timedelta) else timedelta(seconds=float(value))
    return schedule(run_every=every, app=app)


class EmbeddedScheduler:
    """Runs due jobs of a beat schedule table in a background thread."""

    def __init__(
        self,
        entries: Mapping[str, Mapping[str, Any]],
        *,
        app: Celery = celery_app,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.app = app
        # Celery imports task modules lazily; the table names tasks, so load them all now.
        # (Not import_default_modules: that reruns django.setup(), logging config included.)
        app.loader.autodiscover_tasks([config.name for config in django_apps.get_app_configs()])
        self.tick_seconds = tick_seconds
        self.entries = dict(entries)
        self.schedules = {
            name: _as_schedule(entry["schedule"], app) for name, entry in entries.items()
        }
        started = app.now()
        # Like beat: each job first runs one interval after start.
        self.last_run_at: dict[str, datetime] = dict.fromkeys(entries, started)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self) -> list[str]:
        """Run every job that is due now, in this thread; returns their names. A failing job
        is logged and does not keep the others from running."""
        ran = []
        for name, entry in self.entries.items():
            due, _next_check = self.schedules[name].is_due(self.last_run_at[name])
            if not due:
                continue
            self.last_run_at[name] = self.app.now()
            ran.append(name)
            try:
                task = self.app.tasks[entry["task"]]
                # Called, not applied: a job that found nothing to do every minute would
                # otherwise log a "succeeded" line each time.
                task(*entry.get("args", ()), **entry.get("kwargs", {}))
            except Exception:
                logger.exception("Scheduled job %s failed", name)
        return ran

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            self.run_due()
            # This thread serves no requests, so nothing else closes its database connection
            # when it breaks or outlives CONN_MAX_AGE.
            close_old_connections()

    def start(self) -> None:
        missing = sorted(
            entry["task"] for entry in self.entries.values() if entry["task"] not in self.app.tasks
        )
        if missing:
            logger.error("Scheduled tasks not found: %s", ", ".join(missing))
        self._thread = threading.Thread(
            target=self._loop, name="switchboard-scheduler", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


_embedded: EmbeddedScheduler | None = None
_embedded_lock = threading.Lock()


def start_embedded_scheduler() -> EmbeddedScheduler | None:
    """Start the scheduler once per process when there is no beat to do its work: no
    ``REDIS_URL`` (production runs ``celery beat``) and not under the test suite (tests run
    jobs themselves). Returns the running scheduler, or None."""
    global _embedded
    if settings.REDIS_URL or settings.TESTING:
        return None
    with _embedded_lock:
        if _embedded is None:
            _embedded = EmbeddedScheduler(settings.CELERY_BEAT_SCHEDULE)
            _embedded.start()
            logger.info("Embedded scheduler started: %s", ", ".join(_embedded.entries))
    return _embedded
