"""The customer page in a real Chromium: reached from the ticket's customer panel, merged
into another customer and un-merged again."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from customers.models import Customer
from helpdesk.models import User
from tests.workspace.browser.conftest import AsgiServer
from tests.workspace.browser.test_workspace_live import assigned, customer_writes, sign_in
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e]


def test_agent_merges_a_duplicate_customer_and_undoes_it(
    asgi_server: AsgiServer, browser: Browser, page: Page, agent: User, tmp_path: Path
) -> None:
    first = assigned(asgi_server, customer_writes(asgi_server, 1, "Broken lamp"), agent)
    second = assigned(asgi_server, customer_writes(asgi_server, 2, "Invoice copy"), agent)
    sign_in(page, asgi_server, "bob")
    page.goto(f"{asgi_server.url}/tickets/{second.number}/")
    page.get_by_role("link", name="Customer page").click()
    expect(page.locator("#customer-name")).to_have_text("Buyer 2")

    page.get_by_label("Merge this customer into another").fill("buyer1@example.com")
    page.get_by_role("button", name="Merge", exact=True).click()

    expect(page.locator("#customer-name")).to_have_text("Buyer 1")
    tickets = page.locator("#customer-tickets + .other-tickets li")
    expect(tickets).to_have_count(2)
    assert Ticket.objects.get(pk=second.pk).customer_id == first.customer_id
    page.screenshot(path=tmp_path / "customer-desktop.png")
    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, storage_state=page.context.storage_state()
    )
    phone_page = phone.new_page()
    phone_page.goto(page.url)
    expect(phone_page.locator("#customer-name")).to_be_visible()
    phone_page.screenshot(path=tmp_path / "customer-phone.png", full_page=True)
    phone.close()

    page.get_by_role("button", name="Un-merge Buyer 2").click()

    expect(page.locator("#customer-name")).to_have_text("Buyer 2")
    expect(tickets).to_have_count(1)
    assert Customer.objects.get(pk=second.customer_id).merged_into_id is None
