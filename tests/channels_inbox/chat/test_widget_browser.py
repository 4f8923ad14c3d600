"""The widget in a real browser: a shop's page embeds the script tag, a visitor opens the
launcher, writes, and sees the agent's reply arrive over the socket.

Switchboard runs as it does with ``make run``: the project's ASGI application under uvicorn
(in a thread of this process, so it shares the test database), serving pages, API and
WebSockets. The shop's page comes from a second server on another port: another origin,
as on a real shop.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from django.conf import settings as django_settings
from playwright.sync_api import Browser, Page, expect, sync_playwright
from rest_framework.authtoken.models import Token

from channels_inbox.models import ChannelAccount
from helpdesk.asgi import application
from helpdesk.models import User
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for this module, as tests/e2e/conftest.py starts it. Module scope, so
    Playwright's event loop is gone before the next module's tests run (an imported
    package-scoped fixture would outlive the package)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}; `apt-get install -y chromium`.")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    # The test queries the database while Playwright's loop is registered in its thread.
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
def artifacts() -> Path:
    """Where the screenshots go: test-artifacts/, which git ignores."""
    folder = Path(django_settings.BASE_DIR) / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def switchboard(settings: Any) -> Iterator[str]:
    """The ASGI application under uvicorn on a free port; its base URL."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def shop_site(switchboard: str) -> Iterator[str]:
    """The shop's own page with the widget's script tag, on another origin."""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Lamp Shop</title>
<style>body {{ font-family: Georgia, serif; margin: 40px; color: #333; }}
button {{ all: unset; }}</style></head>
<body><h1>Lamp Shop</h1><p>Warm light for long evenings.</p>
<script src="{switchboard}/widget.js" data-channel="lamp-chat" async></script>
</body></html>""".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def lamp_chat(shop_site: str, support_team: Any) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="chat",
        name="Lamp Shop",
        slug="lamp-chat",
        options={
            "allowed_origins": [shop_site],
            "brand_color": "#7a3e9d",
            "welcome_text": "Hi! Questions about a lamp? We're here.",
        },
        default_team=support_team,
    )


def reply_through_the_api(base: str, agent: User, ticket_id: int, text: str) -> None:
    """What the agent's inbox does: POST the reply to the REST API on the same server."""
    token = Token.objects.get_or_create(user=agent)[0].key
    request = urllib.request.Request(
        f"{base}/api/v1/tickets/{ticket_id}/reply/",
        data=json.dumps({"text": text}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def wait_for_status(text: str, status: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if Message.objects.filter(text=text, delivery_status=status).exists():
            return
        time.sleep(0.1)
    found = Message.objects.filter(text=text).values_list("delivery_status", flat=True).first()
    raise AssertionError(f"{text!r} is {found!r}, not {status!r}")


def wait_for_ticket() -> Ticket:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ticket = Ticket.objects.first()
        if ticket is not None:
            return ticket
        time.sleep(0.1)
    raise AssertionError("the visitor's message made no ticket")


def test_visitor_chats_with_an_agent_from_the_shops_page(
    browser: Browser,
    switchboard: str,
    shop_site: str,
    lamp_chat: ChannelAccount,
    online_agent: User,
    artifacts: Path,
) -> None:
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page: Page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(shop_site)
    launcher = page.get_by_role("button", name="Open chat: Lamp Shop")
    expect(launcher).to_be_visible()
    assert (
        launcher.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(122, 62, 157)"
    )

    # Open it with the keyboard: focus lands in the message box.
    launcher.focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Lamp Shop")
    expect(panel).to_be_visible()
    expect(panel.get_by_text("Hi! Questions about a lamp? We're here.")).to_be_visible()
    expect(panel.get_by_text("We're online.")).to_be_visible()
    message_box = panel.get_by_label("Message")
    expect(message_box).to_be_focused()

    message_box.fill("Does the Aurora lamp come with a bulb?")
    message_box.press("Enter")
    expect(panel.get_by_text("Does the Aurora lamp come with a bulb?")).to_be_visible()
    expect(panel.get_by_text("Sent", exact=True)).to_be_visible()

    ticket = wait_for_ticket()
    assert ticket.channel_account_id == lamp_chat.pk
    reply_through_the_api(switchboard, online_agent, ticket.pk, "Yes, a warm white E27 bulb.")

    expect(panel.get_by_text("Yes, a warm white E27 bulb.")).to_be_visible()
    expect(panel.get_by_text("Bob Agent")).to_be_visible()
    # The panel is open and the tab visible: the visitor has seen it.
    wait_for_status("Yes, a warm white E27 bulb.", "read")
    page.screenshot(path=str(artifacts / "chat-widget-1440x900.png"))

    # Escape closes the panel and gives the focus back to the launcher.
    message_box.focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()

    # At phone width the open panel fills the screen.
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    launcher.click()
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 375, 812)
    expect(panel.get_by_text("Yes, a warm white E27 bulb.")).to_be_visible()
    page.screenshot(path=str(artifacts / "chat-widget-375x812.png"))

    # A reload continues the same conversation.
    page.reload()
    page.get_by_role("button", name="Open chat: Lamp Shop").click()
    expect(panel.get_by_text("Does the Aurora lamp come with a bulb?")).to_be_visible()
    expect(panel.get_by_text("Yes, a warm white E27 bulb.")).to_be_visible()
    assert Ticket.objects.count() == 1

    assert errors == []
    context.close()
