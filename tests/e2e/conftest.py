"""A real Chromium for the browser tests, driven by Playwright's sync API.

Debian's Chromium at /usr/bin/chromium is used (Playwright cannot download its own here); the
tests are skipped, saying why, when it is not installed. Every test here is marked ``e2e``:
``pytest -m e2e`` runs only them, ``pytest -m "not e2e"`` everything else.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Without these Chromium reaches for the network at start (updates, sync, field trials) and
# stalls on machines that have none.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

Result = TypeVar("Result")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for all the browser tests.

    Package scope, not session scope: while Playwright's sync API is started, it keeps an
    asyncio loop registered as running in the test thread, and every later test in the
    session would run inside it. Tearing it down after the last browser test gives the rest
    of the suite a plain thread again.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM}; install it with "
            "`apt-get install -y chromium` to run the browser tests."
        )
    # Django refuses ORM calls from a thread with a running event loop (it would block the
    # loop). Here the loop is Playwright's, idle while the test's own code runs, and fixtures
    # and assertions must query the database from this thread; so the check is switched off
    # for exactly as long as the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at desktop size."""
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    folder = Path(settings.BASE_DIR) / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def outside_event_loop(function: Callable[[], Result]) -> Result:
    """Run ``function`` in a thread of its own.

    Services emit events after commit, and the realtime push goes through ``async_to_sync``,
    which refuses to run in a thread whose event loop is running (Playwright's, here). Data
    that services create is therefore made in a plain thread; it commits before the browser
    asks for it (the browser tests use ``transactional_db``).
    """

    def run() -> Result:
        try:
            return function()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
