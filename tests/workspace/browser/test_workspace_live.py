"""The workspace in a real Chromium: an agent works the inbox with the keyboard and replies,
and a change another agent makes shows up without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from helpdesk.models import User
from tests.workspace.browser.conftest import AsgiServer
from tickets.models import Message, Ticket
from tickets.services import InboundMessage, assign_ticket, change_status, receive_message

pytestmark = [pytest.mark.e2e]


def customer_writes(server: AsgiServer, number: int, subject: str) -> Ticket:
    message = server.call(
        lambda: receive_message(
            InboundMessage(
                channel="email",
                sender_address=f"buyer{number}@example.com",
                sender_name=f"Buyer {number}",
                subject=subject,
                text=f"Message {number} about {subject.lower()}.",
                starts_conversation=True,
            )
        )
    )
    return Ticket.objects.get(pk=message.ticket_id)


def assigned(server: AsgiServer, ticket: Ticket, agent: User) -> Ticket:
    return server.call(lambda: assign_ticket(ticket, agent, actor=agent))


def sign_in(page: Page, server: AsgiServer, username: str) -> None:
    page.goto(f"{server.url}/inbox/")
    expect(page).to_have_url(f"{server.url}/accounts/login/?next=/inbox/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/inbox/")
    # Live from here on: the socket is open.
    expect(page.locator("#workspace")).to_have_attribute("data-live", "on")


def test_agent_signs_in_moves_with_the_keyboard_opens_a_ticket_and_replies(
    asgi_server: AsgiServer, page: Page, agent: User
) -> None:
    tickets = [
        assigned(asgi_server, customer_writes(asgi_server, n, f"Question {n}"), agent)
        for n in range(3)
    ]
    sign_in(page, asgi_server, "bob")
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(3)
    # Most recent activity first: the last ticket assigned leads the list, and is selected.
    newest, middle, _oldest = reversed(tickets)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    expect(page.get_by_role("listbox")).to_be_focused()
    expect(page.get_by_role("listbox")).to_have_attribute(
        "aria-activedescendant", f"ticket-row-{middle.pk}"
    )
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/tickets/{middle.number}/"))
    expect(page.locator("#ticket-subject")).to_have_text(middle.subject)
    expect(page.get_by_role("log", name="Conversation")).to_contain_text(
        "Message 1 about question 1."
    )

    page.keyboard.press("r")
    composer = page.get_by_label("Message")
    expect(composer).to_be_focused()
    composer.fill("Thanks for writing, it ships tomorrow.")
    page.keyboard.press("Control+Enter")

    reply = page.locator("#timeline .msg--reply")
    expect(reply).to_contain_text("Thanks for writing, it ships tomorrow.")
    expect(composer).to_have_value("")
    saved = Message.objects.get(ticket=middle, kind=Message.Kind.REPLY)
    assert saved.text == "Thanks for writing, it ships tomorrow."
    assert saved.author_agent == agent
    assert newest.messages.filter(kind=Message.Kind.REPLY).count() == 0


def test_another_agents_change_appears_live_without_a_reload(
    asgi_server: AsgiServer, page: Page, agent: User, teammate: User
) -> None:
    ticket = assigned(asgi_server, customer_writes(asgi_server, 1, "Broken lamp"), agent)
    sign_in(page, asgi_server, "bob")
    row = page.locator(f"#ticket-row-{ticket.pk}")
    expect(row.locator(".status")).to_have_text("New")
    expect(page.locator('#view-nav [data-count="pending"]')).to_have_text("0")
    page.evaluate("window.stillTheSamePage = true")

    # carol, on another screen, sets bob's ticket to pending and gives him a new one.
    asgi_server.call(lambda: change_status(ticket, "pending", actor=teammate))
    newcomer = customer_writes(asgi_server, 2, "Wrong size")
    asgi_server.call(lambda: assign_ticket(newcomer, agent, actor=teammate))

    expect(row.locator(".status")).to_have_text("Pending")
    expect(page.locator('#view-nav [data-count="pending"]')).to_have_text("1")
    expect(page.locator('#view-nav [data-count="mine"]')).to_have_text("2")
    # The new ticket waits behind the pill instead of moving the list.
    pill = page.locator("#new-pill")
    expect(pill).to_be_visible()
    expect(pill).to_contain_text("1 new")
    expect(page.get_by_role("listbox").get_by_role("option")).to_have_count(1)
    assert page.evaluate("window.stillTheSamePage") is True

    pill.click()
    expect(page.get_by_role("listbox").get_by_role("option")).to_have_count(2)
    expect(page.locator(f"#ticket-row-{newcomer.pk}")).to_contain_text("Wrong size")
    expect(pill).to_be_hidden()
    assert page.evaluate("window.stillTheSamePage") is True
