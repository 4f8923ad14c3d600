"""Searching the inbox in a real Chromium: results while typing, matched words marked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from helpdesk.models import User
from tests.workspace.browser.conftest import AsgiServer
from tests.workspace.browser.test_workspace_live import assigned, customer_writes, sign_in
from tickets.models import Ticket
from tickets.services import InboundMessage, receive_message

pytestmark = [pytest.mark.e2e]


def customer_writes_about(server: AsgiServer, number: int, subject: str, text: str) -> Ticket:
    message = server.call(
        lambda: receive_message(
            InboundMessage(
                channel="email",
                sender_address=f"shopper{number}@example.com",
                sender_name=f"Shopper {number}",
                subject=subject,
                text=text,
                starts_conversation=True,
            )
        )
    )
    return Ticket.objects.get(pk=message.ticket_id)


def test_search_shows_the_matching_message_with_its_words_marked(
    asgi_server: AsgiServer, browser: Browser, page: Page, agent: User, tmp_path: Path
) -> None:
    lamp = assigned(
        asgi_server,
        customer_writes_about(
            asgi_server,
            1,
            "Broken lamp",
            "Hello! The lampshade arrived cracked and the bulb rattles inside the box. "
            "Could you send a replacement shade before the weekend?",
        ),
        agent,
    )
    for number in range(2, 5):
        assigned(asgi_server, customer_writes(asgi_server, number, f"Question {number}"), agent)
    sign_in(page, asgi_server, "bob")
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(4)

    page.keyboard.press("/")
    page.keyboard.type("rattles box")

    expect(options).to_have_count(1)
    row = page.locator(f"#ticket-row-{lamp.pk}")
    expect(row.locator(".row-snippet mark")).to_have_text(["rattles", "box"])
    expect(page).to_have_url(re.compile(r"[?&]q=rattles\+box(&|$)"))
    page.screenshot(path=tmp_path / "search-desktop.png")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=tmp_path / "search-desktop-dark.png")
    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, storage_state=page.context.storage_state()
    )
    phone_page = phone.new_page()
    phone_page.goto(page.url)
    expect(phone_page.locator(f"#ticket-row-{lamp.pk} .row-snippet mark")).to_have_count(2)
    phone_page.screenshot(path=tmp_path / "search-phone.png")
    phone.close()
