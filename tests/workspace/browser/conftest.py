"""The workspace's browser tests: a real Chromium (the e2e package's fixtures) against a
real ASGI server (pages, static files and the agents' WebSocket) in this process.

The server runs in this process, on a thread of its own with its own event loop, so that
it shares the test database and the in-memory channel layer with the test: a change a test
makes through ``AsgiServer.call`` runs the way a view runs on that server, and its events
reach the browsers connected to it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import uvicorn
from asgiref.sync import sync_to_async
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections

from tests.e2e.conftest import browser, page  # noqa: F401 - fixtures for the browser tests

Result = TypeVar("Result")


class AsgiServer:
    """``helpdesk.asgi.application`` served by uvicorn on a free loopback port."""

    def __init__(self) -> None:
        from helpdesk.asgi import application

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(
            ASGIStaticFilesHandler(application),
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="asgi-test-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("The ASGI test server did not start.")
            time.sleep(0.01)
        self.loop: asyncio.AbstractEventLoop = self.server.servers[0].get_loop()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def call(self, function: Callable[[], Result]) -> Result:
        """Run ``function`` as the server runs a view: in a worker thread of its event loop,
        so the events it emits after commit are pushed on that loop, to its sockets."""

        def run() -> Result:
            try:
                return function()
            finally:
                connections.close_all()

        future = asyncio.run_coroutine_threadsafe(
            sync_to_async(run, thread_sensitive=False)(), self.loop
        )
        return future.result(timeout=30)


@pytest.fixture
def asgi_server(settings: Any, transactional_db: None) -> Iterator[AsgiServer]:
    # Browsers and test share one in-memory channel layer, even when REDIS_URL is set.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    server = AsgiServer()
    server.start()
    yield server
    server.stop()
