"""Bulk actions in a real Chromium: check rows with x and shift-click, then change them all."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from helpdesk.models import User
from tests.workspace.browser.conftest import AsgiServer
from tests.workspace.browser.test_workspace_live import assigned, customer_writes, sign_in
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e]


def test_agent_checks_rows_with_the_keyboard_and_shift_click_and_closes_them(
    asgi_server: AsgiServer, browser: Browser, page: Page, agent: User, tmp_path: Path
) -> None:
    tickets = [
        assigned(asgi_server, customer_writes(asgi_server, n, f"Question {n}"), agent)
        for n in range(5)
    ]
    newest_first = list(reversed(tickets))
    sign_in(page, asgi_server, "bob")
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(5)
    bar = page.get_by_role("form", name="Change the selected tickets")
    expect(bar).to_be_hidden()

    page.keyboard.press("x")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("1 selected")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("x")
    expect(bar).to_contain_text("1 selected")
    page.locator(f"#ticket-row-{newest_first[3].pk} .row-check").click(modifiers=["Shift"])
    expect(bar).to_contain_text("4 selected")
    # Checking never opens a ticket.
    expect(page.locator("#ticket-pane")).to_have_count(0)
    page.screenshot(path=tmp_path / "bulk-desktop.png")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=tmp_path / "bulk-desktop-dark.png")
    page.emulate_media(color_scheme="light")
    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, storage_state=page.context.storage_state()
    )
    phone_page = phone.new_page()
    phone_page.goto(page.url)
    phone_page.locator(f"#ticket-row-{tickets[0].pk} .row-check").click()
    phone_page.locator(f"#ticket-row-{tickets[1].pk} .row-check").click()
    expect(phone_page.get_by_role("form", name="Change the selected tickets")).to_contain_text(
        "2 selected"
    )
    phone_page.screenshot(path=tmp_path / "bulk-phone.png")
    phone.close()

    bar.get_by_label("Set the status of the selected tickets").select_option("solved")

    summary = page.locator("#bulk-result [role=status]")
    expect(summary).to_contain_text("Status set to Solved: 4 tickets changed.")
    expect(bar).to_be_hidden()
    expect(options).to_have_count(1)
    expect(page.locator('#view-nav [data-count="mine"]')).to_have_text("1")
    page.screenshot(path=tmp_path / "bulk-done-desktop.png")
    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses == {
        **{ticket.pk: "solved" for ticket in newest_first[:4]},
        newest_first[4].pk: "new",
    }
