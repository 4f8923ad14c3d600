"""An admin finds a ticket in the Django admin, in a real browser, at desktop and phone size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from helpdesk.models import User
from tests.e2e.conftest import PHONE, outside_event_loop
from tickets.models import Ticket
from tickets.services import InboundMessage, receive_message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def open_ticket_from(sender: str, subject: str) -> Ticket:
    message = outside_event_loop(
        lambda: receive_message(
            InboundMessage(
                channel="email",
                sender_address=sender,
                sender_name=sender.split("@")[0].title(),
                subject=subject,
                text="It arrived broken. Can you send a new one?",
                starts_conversation=True,
            )
        )
    )
    return Ticket.objects.get(pk=message.ticket_id)


def test_admin_signs_in_searches_a_ticket_number_and_opens_the_ticket(
    live_server: object, page: Page, admin: User, artifacts: Path
) -> None:
    others = [open_ticket_from(f"buyer{i}@example.com", f"Order question {i}") for i in range(3)]
    wanted = open_ticket_from("ana@example.com", "Lamp arrived broken")
    base = str(live_server.url)  # type: ignore[attr-defined]

    # Sign in through the admin's own login form.
    page.goto(f"{base}/admin/")
    expect(page).to_have_url(f"{base}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/admin/")

    # Open the ticket list from the admin index: every ticket is listed.
    page.locator('#content-main a[href="/admin/tickets/ticket/"]').first.click()
    expect(page.locator("#result_list tbody tr")).to_have_count(len(others) + 1)

    # Search by number, the way agents quote it.
    page.locator("#searchbar").fill(f"#{wanted.number}")
    page.locator("#searchbar").press("Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Lamp arrived broken")
    expect(rows.first).to_contain_text("Ana")
    page.screenshot(path=str(artifacts / "admin-ticket-search-1440x900.png"), full_page=True)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.screenshot(path=str(artifacts / "admin-ticket-search-390x844.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})

    # Open it and see its subject and the customer's message.
    rows.first.get_by_role("link", name=str(wanted.number), exact=True).click()
    # The change page keeps the search in its URL, for the way back to the list.
    expect(page).to_have_url(re.compile(rf"^{base}/admin/tickets/ticket/{wanted.pk}/change/\?"))
    expect(page.get_by_role("heading", name=str(wanted), exact=True)).to_be_visible()
    expect(page.locator(".field-subject .readonly")).to_have_text("Lamp arrived broken")
    expect(page.get_by_text("It arrived broken. Can you send a new one?")).to_be_visible()
    page.screenshot(path=str(artifacts / "admin-ticket-change-1440x900.png"), full_page=True)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    expect(page.locator(".field-subject .readonly")).to_be_visible()
    page.screenshot(path=str(artifacts / "admin-ticket-change-390x844.png"), full_page=True)
