"""The customer portal in Chromium: sign in with the link from the email, see the ticket,
reply; see the orders; sign out."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from channels_inbox.models import ChannelAccount
from customers.models import Order, OrderLine
from customers.services import create_customer
from helpdesk.models import User
from tests.channels_inbox.email_adapter.conftest import Sink
from tests.knowledge_base.portal.browser.conftest import screenshots
from tests.workspace.browser.conftest import AsgiServer
from tickets.models import Message, Ticket
from tickets.services import InboundMessage, add_note, add_reply, receive_message

pytestmark = [pytest.mark.e2e]


def test_sign_in_with_the_emailed_link_see_the_ticket_and_reply(
    asgi_server: AsgiServer,
    page: Page,
    agent: User,
    mailbox: ChannelAccount,
    smtp_sink: Sink,
    make_ticket: Callable[..., Ticket],
    tmp_path: Path,
) -> None:
    ana = create_customer(name="Ana Souza", email="ana@example.com")
    first = receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            subject="Lamp arrived broken",
            text="The shade is cracked.",
            starts_conversation=True,
        ),
        channel_account=mailbox,
    )
    ticket = first.ticket
    add_note(ticket, author=agent, text="Internal: check the courier")
    add_reply(ticket, author=agent, text="Sorry! A new shade is on its way.", check_channel=False)
    make_ticket(sender_address="ben@example.com", subject="Ben's own question")
    order = Order.objects.create(
        customer=ana,
        store="shop",
        external_id="1",
        number="#1042",
        placed_at=timezone.now(),
        currency="EUR",
        shipping_total="4.90",
        total="54.80",
        fulfillment_status=Order.FulfillmentStatus.FULFILLED,
        financial_status=Order.FinancialStatus.PAID,
        tracking=[
            {"carrier": "DHL", "number": "JJD000123", "url": "https://dhl.example/t/JJD000123"}
        ],
    )
    OrderLine.objects.create(
        order=order, title="Desk lamp", quantity=2, unit_price="24.95", total="49.90"
    )
    mail.outbox.clear()

    page.goto(f"{asgi_server.url}/help/portal/")
    screenshots(page, "portal-sign-in", tmp_path)
    page.get_by_label("Email address").fill("ana@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    assert len(mail.outbox) == 1
    found = re.search(r"http://\S+/help/portal/sign-in/\S+/", str(mail.outbox[0].body))
    assert found is not None
    path = "/help/" + found.group(0).split("/help/", 1)[1]
    page.goto(asgi_server.url + path)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Your requests")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Lamp arrived broken"))).to_be_visible()
    expect(page.get_by_text("Ben's own question")).to_have_count(0)
    screenshots(page, "portal-tickets", tmp_path)

    page.get_by_role("link", name=re.compile("Lamp arrived broken")).click()
    expect(page.get_by_text("Sorry! A new shade is on its way.")).to_be_visible()
    expect(page.get_by_text("Bob Agent")).to_be_visible()
    expect(page.get_by_text("check the courier")).to_have_count(0)
    page.get_by_label("Your reply").fill("Thank you, it arrived today.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Thank you, it arrived today.")).to_be_visible()
    screenshots(page, "portal-ticket", tmp_path)
    assert Message.objects.filter(
        ticket=ticket, text="Thank you, it arrived today.", direction="inbound"
    ).exists()

    page.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Order #1042")).to_be_visible()
    expect(page.get_by_role("link", name="Track parcel")).to_have_attribute(
        "href", "https://dhl.example/t/JJD000123"
    )
    screenshots(page, "portal-orders", tmp_path)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Email me a sign-in link")).to_be_visible()
    # The used link does not sign in again.
    page.goto(asgi_server.url + path)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
