"""The macro picker in a real Chromium: open it with m, filter, preview, apply with the
keyboard; the body lands in the reply box and the actions on the ticket."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from automation.macros.services import save_macro
from automation.models import Macro
from helpdesk.models import User
from tests.workspace.browser.conftest import AsgiServer
from tests.workspace.browser.test_workspace_live import assigned, customer_writes, sign_in
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e]


def test_agent_applies_a_macro_with_the_keyboard(
    asgi_server: AsgiServer, browser: Browser, page: Page, agent: User, tmp_path: Path
) -> None:
    save_macro(
        Macro(
            name="Tracking link",
            body="Hi {{ customer.first_name }}, your ticket is #{{ ticket.number }}.",
            add_tags=["wismo"],
            set_status=Ticket.Status.PENDING,
        )
    )
    save_macro(Macro(name="Refund issued", body="Refunded.", owner=agent))
    ticket = assigned(asgi_server, customer_writes(asgi_server, 1, "Where is it?"), agent)
    sign_in(page, asgi_server, "bob")
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    expect(page.locator("#workspace")).to_have_attribute("data-live", "on")

    page.locator("body").press("m")
    search = page.get_by_role("combobox", name="Search macros")
    expect(search).to_be_focused()
    options = page.get_by_role("listbox", name="Macros").get_by_role("option")
    expect(options).to_have_count(2)
    search.fill("track")
    expect(options.filter(visible=True)).to_have_count(1)
    search.press("Enter")
    preview = page.locator("[data-macro-preview]")
    expect(preview).to_contain_text(f"Hi Buyer, your ticket is #{ticket.number}.")
    expect(preview).to_contain_text("Set status to Pending")
    page.screenshot(path=tmp_path / "macro-preview-desktop.png")
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=page.context.storage_state()
    )
    phone_page = phone.new_page()
    phone_page.goto(page.url)
    phone_page.get_by_role("button", name="Macro").click()
    phone_page.get_by_role("option", name="Refund issued").click()
    expect(phone_page.locator("[data-macro-preview]")).to_contain_text("Refunded.")
    phone_page.screenshot(path=tmp_path / "macro-preview-phone.png")
    phone.close()

    search.press("Enter")

    composer = page.locator("#composer-text")
    expect(composer).to_have_value(f"Hi Buyer, your ticket is #{ticket.number}.")
    expect(composer).to_be_focused()
    expect(page.get_by_role("dialog", name="Apply a macro")).to_be_hidden()
    expect(page.locator("#ticket-header, .ticket-header").first).to_contain_text("Pending")
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.status == Ticket.Status.PENDING
    assert list(fresh.tags.values_list("name", flat=True)) == ["wismo"]
    page.screenshot(path=tmp_path / "macro-applied-desktop.png")
