"""Browser tests of the contact form, the portal and the composer's "Insert article": a
real Chromium against the real ASGI server (the workspace's fixtures)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.conftest import PHONE, browser, page  # noqa: F401 - fixtures
from tests.workspace.browser.conftest import asgi_server  # noqa: F401 - fixture


def screenshots(tab: Page, name: str, tmp_path: Path) -> None:
    """Desktop and phone (light and dark) screenshots of the page, into
    ``PORTAL_SCREENSHOTS`` when set (to look at them), else the test's temporary folder."""
    folder = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    size = tab.viewport_size
    tab.screenshot(path=str(folder / f"{name}-desktop.png"), full_page=True)
    tab.set_viewport_size(PHONE)  # type: ignore[arg-type]
    tab.screenshot(path=str(folder / f"{name}-phone.png"), full_page=True)
    tab.emulate_media(color_scheme="dark")
    tab.screenshot(path=str(folder / f"{name}-phone-dark.png"), full_page=True)
    tab.emulate_media(color_scheme="light")
    if size is not None:
        tab.set_viewport_size(size)
