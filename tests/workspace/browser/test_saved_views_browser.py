"""Saved views in a real Chromium: filter the list, save it by name, find it in the side
bar, delete it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from helpdesk.models import User
from tests.workspace.browser.conftest import AsgiServer
from tests.workspace.browser.test_workspace_live import assigned, customer_writes, sign_in
from tickets.models import SavedView
from tickets.services import change_priority

pytestmark = [pytest.mark.e2e]


def test_agent_saves_the_filtered_list_and_deletes_it_again(
    asgi_server: AsgiServer, browser: Browser, page: Page, agent: User, tmp_path: Path
) -> None:
    tickets = [
        assigned(asgi_server, customer_writes(asgi_server, n, f"Question {n}"), agent)
        for n in range(3)
    ]
    asgi_server.call(lambda: change_priority(tickets[0], "urgent", actor=agent))
    sign_in(page, asgi_server, "bob")
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(3)

    page.get_by_text("Filters").click()
    page.locator("#inbox-query select[name=priority]").select_option("urgent")
    expect(options).to_have_count(1)
    page.get_by_text("Save view", exact=True).click()
    page.get_by_label("Name of the view").fill("Urgent mine")
    page.get_by_role("button", name="Save", exact=True).click()

    saved = page.get_by_role("navigation", name="Inbox views").get_by_role(
        "link", name="Urgent mine"
    )
    expect(saved).to_have_attribute("aria-current", "page")
    expect(options).to_have_count(1)
    assert SavedView.objects.get(owner=agent).query == "view=mine&sort=updated&priority=urgent"
    page.screenshot(path=tmp_path / "saved-desktop.png")
    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, storage_state=page.context.storage_state()
    )
    phone_page = phone.new_page()
    phone_page.goto(page.url)
    phone_page.get_by_role("button", name="Views").click()
    expect(phone_page.get_by_role("link", name="Urgent mine")).to_be_visible()
    phone_page.wait_for_timeout(300)  # the drawer slides in for 150 ms
    phone_page.screenshot(path=tmp_path / "saved-phone.png")
    phone.close()

    page.get_by_role("link", name="All open").click()
    expect(options).to_have_count(3)
    saved.click()
    expect(options).to_have_count(1)
    saved.hover()
    page.get_by_role("button", name="Delete the saved view Urgent mine").click()
    expect(saved).to_have_count(0)
    assert not SavedView.objects.exists()
