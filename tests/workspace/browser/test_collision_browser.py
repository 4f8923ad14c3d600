"""Collision detection in two real browsers: each agent sees the other on the ticket and
sees them typing, and a message that arrives while one writes stops the send once."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from helpdesk.models import User
from tests.workspace.browser.conftest import AsgiServer
from tests.workspace.browser.test_workspace_live import assigned, customer_writes, sign_in
from tickets.models import Message
from tickets.services import add_note

pytestmark = [pytest.mark.e2e]


def test_two_agents_on_one_ticket_see_each_other_and_the_stale_reply_guard(
    asgi_server: AsgiServer,
    browser: Browser,
    page: Page,
    agent: User,
    teammate: User,
    tmp_path: Path,
) -> None:
    ticket = assigned(asgi_server, customer_writes(asgi_server, 1, "Broken lamp"), agent)
    sign_in(page, asgi_server, "bob")
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    expect(page.locator("#workspace")).to_have_attribute("data-live", "on")
    carol_context = browser.new_context(viewport={"width": 375, "height": 812})
    carol = carol_context.new_page()
    sign_in(carol, asgi_server, "carol")
    carol.goto(f"{asgi_server.url}/tickets/{ticket.number}/")

    bobs_bar = page.locator("#presence")
    carols_bar = carol.locator("#presence")
    expect(bobs_bar).to_have_text("Carol Agent is also viewing")
    expect(carols_bar).to_have_text("Bob Agent is also viewing")

    carol.get_by_label("Message").press_sequentially("Let me check the")
    expect(bobs_bar).to_have_text("Carol Agent is typing…")
    page.screenshot(path=tmp_path / "collision-desktop.png")
    carol.screenshot(path=tmp_path / "collision-phone.png")

    composer = page.get_by_label("Message")
    composer.fill("It ships tomorrow.")
    composer.press("End")
    composer.type("!")
    asgi_server.call(lambda: add_note(ticket, author=teammate, text="Warehouse says Friday."))
    expect(page.locator("#timeline")).to_contain_text("Warehouse says Friday.")
    composer.press("Control+Enter")

    guard = page.locator("#stale-guard")
    expect(guard).to_have_text(
        "1 new message arrived while you were writing. Review, then send again."
    )
    page.screenshot(path=tmp_path / "stale-guard-desktop.png")
    assert not Message.objects.filter(ticket=ticket, kind=Message.Kind.REPLY).exists()
    expect(composer).to_have_value("It ships tomorrow.!")

    composer.press("Control+Enter")
    expect(page.locator("#timeline .msg--reply")).to_contain_text("It ships tomorrow.!")
    expect(guard).to_be_hidden()

    carol_context.close()
    expect(bobs_bar).to_be_hidden()
