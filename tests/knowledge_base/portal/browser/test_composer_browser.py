"""The composer's "Insert article" in Chromium: search with the keyboard, insert the link
in the customer's locale at the cursor."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from customers.models import Customer
from helpdesk.models import User
from knowledge_base.models import Article
from tests.e2e.conftest import PHONE
from tests.knowledge_base.portal.browser.conftest import screenshots
from tests.workspace.browser.conftest import AsgiServer
from tests.workspace.browser.test_workspace_live import sign_in
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e]


def test_insert_an_article_link_in_the_customers_locale_with_the_keyboard(
    asgi_server: AsgiServer,
    page: Page,
    agent: User,
    make_ticket: Callable[..., Ticket],
    make_article: Callable[..., Article],
    tmp_path: Path,
) -> None:
    article = make_article(
        "Return an item",
        "How to return an item.",
        translations={"de": "Einen Artikel zurücksenden"},
    )
    ticket = make_ticket(sender_address="jonas@example.com", subject="Rücksendung")
    Customer.objects.filter(pk=ticket.customer_id).update(locale="de")
    sign_in(page, asgi_server, "bob")

    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    reply = page.locator("#composer-text")
    reply.fill("Hallo Jonas, hier steht wie es geht: ")
    page.get_by_role("button", name="Insert article").click()
    search = page.get_by_role("combobox", name="Search the knowledge base")
    expect(search).to_be_focused()
    search.press_sequentially("return", delay=30)
    expect(page.get_by_role("option", name="Einen Artikel zurücksenden")).to_have_attribute(
        "aria-selected", "true"
    )
    screenshots(page, "composer-insert", tmp_path)
    search.press("Enter")

    url = f"{settings.PUBLIC_BASE_URL}/help/de/shipping/{article.slug}/"
    expect(reply).to_have_value(
        f"Hallo Jonas, hier steht wie es geht: Einen Artikel zurücksenden: {url}"
    )
    expect(reply).to_be_focused()
    expect(page.get_by_role("dialog", name="Insert a help center article")).to_be_hidden()


def test_the_insert_panel_fits_a_phone_screen(
    asgi_server: AsgiServer,
    browser: Browser,
    agent: User,
    make_ticket: Callable[..., Ticket],
    make_article: Callable[..., Article],
    tmp_path: Path,
) -> None:
    make_article("Return an item", "How to return an item.")
    ticket = make_ticket(sender_address="jonas@example.com")
    context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    phone = context.new_page()
    try:
        sign_in(phone, asgi_server, "bob")
        phone.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
        phone.get_by_role("button", name="Insert article").click()
        phone.get_by_role("combobox", name="Search the knowledge base").fill("return")
        option = phone.get_by_role("option", name="Return an item")
        expect(option).to_be_visible()
        folder = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
        phone.screenshot(path=str(folder / "composer-insert-phone-only.png"))
        panel = phone.get_by_role("dialog", name="Insert a help center article").bounding_box()
        assert panel is not None
        assert panel["x"] >= 0
        assert panel["x"] + panel["width"] <= PHONE["width"]
    finally:
        context.close()
