"""The composer in a real Chromium: the channel's check before typing with the template
picker, @mentions that reach the mentioned agent live, and the message actions (retry,
original email, link an order)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, ViewportSize, expect

from channels_inbox.models import ChannelAccount
from channels_inbox.whatsapp.templates import create_whatsapp_template
from customers.services import OrderLineData, upsert_order
from helpdesk.models import User
from tests.workspace.browser.conftest import AsgiServer
from tests.workspace.browser.test_workspace_live import sign_in
from tickets.models import Message, Ticket
from tickets.services import (
    InboundAttachment,
    InboundMessage,
    add_reply,
    mark_message_failed,
    receive_message,
)

pytestmark = [pytest.mark.e2e]

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    folder = Path(__file__).resolve().parents[3] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


RAW = (
    b"From: Ana Souza <ana@example.com>\r\nTo: support@shop.test\r\n"
    b"Message-ID: <lamp@example.com>\r\nSubject: Broken lamp\r\n\r\nThe lamp arrived broken.\r\n"
)


def whatsapp_ticket(server: AsgiServer, account: ChannelAccount, ago: timedelta) -> Ticket:
    message = server.call(
        lambda: receive_message(
            InboundMessage(
                channel="whatsapp",
                sender_address="+17185550123",
                sender_name="Ana Souza",
                text="Is my parcel on its way?",
                provider_message_id="wamid.browser.1",
                received_at=timezone.now() - ago,
            ),
            channel_account=account,
        )
    )
    return Ticket.objects.get(pk=message.ticket_id)


def test_a_closed_whatsapp_window_offers_templates_instead_of_free_text(
    asgi_server: AsgiServer,
    browser: Browser,
    page: Page,
    agent: User,
    admin: User,
    whatsapp_account: ChannelAccount,
    artifacts: Path,
) -> None:
    asgi_server.call(
        lambda: create_whatsapp_template(
            whatsapp_account,
            name="order_update",
            language="en",
            category="utility",
            body="Hello {{1}}, your order {{2}} has shipped.",
            actor=admin,
        )
    )
    ticket = whatsapp_ticket(asgi_server, whatsapp_account, timedelta(hours=27))
    sign_in(page, asgi_server, "bob")
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")

    check = page.locator("#reply-check [role=alert]")
    expect(check).to_contain_text("The 24-hour customer service window closed at")
    expect(page.locator("#composer-text")).to_be_disabled()
    page.keyboard.press("n")  # a note still goes through
    expect(page.locator("#composer-text")).to_be_enabled()
    page.keyboard.press("Escape")
    page.locator("#composer input[name=mode][value=reply]").check(force=True)
    expect(page.locator("#composer-text")).to_be_disabled()

    page.get_by_text("order_update").click()
    page.get_by_label("{{1}}").fill("Ana")
    page.get_by_label("{{2}}").fill("#1042")
    preview = page.locator("[data-template-preview]")
    expect(preview).to_have_text("Hello Ana, your order #1042 has shipped.")
    page.screenshot(path=artifacts / "composer-template-desktop.png")
    phone = browser.new_context(viewport=PHONE, storage_state=page.context.storage_state())
    phone_page = phone.new_page()
    phone_page.goto(page.url)
    phone_page.get_by_text("order_update").click()
    phone_page.screenshot(path=artifacts / "composer-template-phone.png", full_page=True)
    phone.close()

    page.get_by_role("button", name="Send template").click()

    expect(page.locator("#timeline")).to_contain_text("Hello Ana, your order #1042 has shipped.")
    expect(page.locator("#reply-check")).to_contain_text("Template queued")
    reply = Message.objects.get(ticket=ticket, kind="reply")
    assert reply.text == "Hello Ana, your order #1042 has shipped."


def test_a_mention_suggested_by_keyboard_reaches_the_teammate_live(
    asgi_server: AsgiServer,
    browser: Browser,
    page: Page,
    agent: User,
    teammate: User,
    artifacts: Path,
) -> None:
    first = asgi_server.call(
        lambda: receive_message(
            InboundMessage(
                channel="email",
                sender_address="ana@example.com",
                sender_name="Ana Souza",
                subject="Refund for #1042",
                text="I would like a refund, please.",
                starts_conversation=True,
            )
        )
    )
    ticket = Ticket.objects.get(pk=first.ticket_id)
    carol_context = browser.new_context(viewport={"width": 1440, "height": 900})
    carol = carol_context.new_page()
    sign_in(carol, asgi_server, "carol")
    sign_in(page, asgi_server, "bob")
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    expect(page.locator("#workspace")).to_have_attribute("data-live", "on")

    page.keyboard.press("n")
    page.keyboard.type("Can you check this, @car")
    suggestions = page.get_by_role("listbox", name="Agents to mention")
    expect(suggestions.get_by_role("option")).to_have_count(1)
    expect(suggestions).to_contain_text("Carol Agent")
    page.screenshot(path=artifacts / "composer-mention-desktop.png")
    page.keyboard.press("Enter")
    expect(suggestions).to_have_count(0)
    expect(page.locator("#composer-text")).to_have_value("Can you check this, @carol ")
    page.keyboard.type("please?")
    page.keyboard.press("Control+Enter")

    expect(page.locator("#timeline")).to_contain_text("Can you check this, @carol please?")
    toast = carol.locator(".toast")
    expect(toast).to_contain_text(f"You were mentioned in a note on #{ticket.number}")
    expect(carol.locator("[data-mentions-badge]")).to_have_text("1")
    carol.screenshot(path=artifacts / "mention-toast-desktop.png")
    carol.get_by_role("link", name="Mentions").click()
    expect(carol.locator(".mention-list")).to_contain_text("Can you check this, @carol please?")
    carol_context.close()


def test_retry_original_email_and_order_link_on_the_ticket_page(
    asgi_server: AsgiServer,
    browser: Browser,
    page: Page,
    agent: User,
    email_account: ChannelAccount,
    artifacts: Path,
) -> None:
    first = asgi_server.call(
        lambda: receive_message(
            InboundMessage(
                channel="email",
                sender_address="ana@example.com",
                sender_name="Ana Souza",
                subject="Broken lamp",
                text="The lamp arrived broken.",
                provider_message_id="lamp@example.com",
                starts_conversation=True,
                attachments=(
                    InboundAttachment(
                        name="original.eml", content_type="message/rfc822", content=RAW
                    ),
                ),
            ),
            channel_account=email_account,
        )
    )
    ticket = Ticket.objects.get(pk=first.ticket_id)
    asgi_server.call(
        lambda: upsert_order(
            store="shop",
            external_id="1042",
            number="#1042",
            placed_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            currency="EUR",
            subtotal=Decimal("80.00"),
            total=Decimal("80.00"),
            customer=ticket.customer,
            lines=[
                OrderLineData(
                    title="Linen lamp shade", quantity=2, unit_price=Decimal(40), total=Decimal(80)
                )
            ],
        )
    )
    reply = asgi_server.call(lambda: add_reply(ticket, author=agent, text="Sorry to hear that!"))
    asgi_server.call(lambda: mark_message_failed(reply.pk, error="550 5.1.1 Mailbox unavailable"))
    sign_in(page, asgi_server, "bob")
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")

    expect(page.get_by_role("link", name="Download original (.eml)")).to_be_visible()
    failed = page.locator(f"#message-{reply.pk}")
    expect(failed).to_contain_text("Failed: 550 5.1.1 Mailbox unavailable")
    page.screenshot(path=artifacts / "ticket-actions-desktop.png")
    phone = browser.new_context(viewport=PHONE, storage_state=page.context.storage_state())
    phone_page = phone.new_page()
    phone_page.goto(page.url)
    phone_page.screenshot(path=artifacts / "ticket-actions-phone.png")
    phone_page.locator("[data-toggle-customer]").first.click()
    phone_page.screenshot(path=artifacts / "ticket-customer-phone.png")
    phone.close()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download original (.eml)").click()
    assert Path(download.value.path()).read_bytes() == RAW

    failed.get_by_role("button", name="Retry").click()
    expect(failed).not_to_contain_text("Failed:")
    expect(page.locator("#timeline")).to_contain_text("sent a failed reply again")

    # At desktop width the customer panel is always beside the conversation. The in-memory
    # test database refuses a write while another request reads ("table is locked"): the
    # retry's own reloads settle first.
    page.wait_for_load_state("networkidle")
    with page.expect_response(
        lambda response: "/orders/" in response.url and response.request.method == "POST"
    ) as linked:
        page.get_by_role("button", name=f"Link to #{ticket.number}").click()
    assert linked.value.ok
    expect(page.get_by_role("button", name=f"Unlink from #{ticket.number}")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("linked order #1042")
    assert list(ticket.orders.values_list("number", flat=True)) == ["#1042"]
