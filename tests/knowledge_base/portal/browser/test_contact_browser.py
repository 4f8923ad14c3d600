"""The contact form in Chromium: suggestions appear while typing the subject, opening one is
counted, and sending opens an email ticket with its confirmation sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from channels_inbox.models import ChannelAccount
from knowledge_base.models import Article, DeflectionEvent
from tests.channels_inbox.email_adapter.conftest import Sink
from tests.knowledge_base.portal.browser.conftest import screenshots
from tests.workspace.browser.conftest import AsgiServer
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.e2e]


def test_suggestions_while_typing_then_opening_one_and_then_sending(
    asgi_server: AsgiServer,
    page: Page,
    mailbox: ChannelAccount,
    smtp_sink: Sink,
    make_article: Callable[..., Article],
    tmp_path: Path,
) -> None:
    late = make_article("My parcel is late", "Parcels take three to five working days.")
    make_article("Track your parcel", "Every parcel has a tracking number.")
    make_article("Refunds", "Money back within 14 days.", category="returns")

    page.goto(f"{asgi_server.url}/help/contact/")
    page.get_by_label("Your name").fill("Ana Souza")
    page.get_by_label("Email address").fill("ana@example.com")
    page.get_by_label("Subject").press_sequentially("parcel late", delay=30)

    suggestions = page.get_by_role("region", name="These articles might answer your question")
    expect(suggestions).to_be_visible()
    links = suggestions.get_by_role("link")
    expect(links.first).to_contain_text("My parcel is late")
    expect(page.locator("[data-suggestions-status]")).to_contain_text("might answer")
    screenshots(page, "contact-suggestions", tmp_path)
    assert DeflectionEvent.objects.filter(kind="shown", article=late).count() == 1

    # Opening a suggestion goes through the counting redirect to the article.
    links.first.click()
    expect(page).to_have_url(f"{asgi_server.url}/help/shipping/{late.slug}/")
    assert DeflectionEvent.objects.filter(kind="opened", article=late).count() == 1

    # Back to the form: it still holds what was typed; the customer writes anyway.
    page.go_back()
    expect(page.get_by_label("Subject")).to_have_value("parcel late")
    page.get_by_label("How can we help?").fill("It has been two weeks. <script>x</script>")
    page.wait_for_timeout(3000)  # a person takes longer than the form's minimum
    page.get_by_role("button", name="Send message").click()

    expect(page.get_by_role("heading", name="Thank you, we have your message")).to_be_visible()
    ticket = Ticket.objects.get()
    expect(page.get_by_role("status")).to_contain_text(f"#{ticket.number}")
    screenshots(page, "contact-sent", tmp_path)
    assert (ticket.channel, ticket.channel_account_id) == ("email", mailbox.pk)
    assert Message.objects.filter(ticket=ticket, is_automated=True).get().delivery_status == "sent"
    assert len(smtp_sink.received) == 1
    assert DeflectionEvent.objects.filter(kind="submitted", article=late, ticket=ticket).exists()


def test_the_empty_form_is_labelled_and_shows_errors(
    asgi_server: AsgiServer, page: Page, mailbox: ChannelAccount, tmp_path: Path
) -> None:
    page.goto(f"{asgi_server.url}/help/contact/")
    screenshots(page, "contact", tmp_path)
    page.wait_for_timeout(3000)
    page.get_by_role("button", name="Send message").click()

    expect(page.get_by_role("alert")).to_contain_text("Please check the fields")
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    screenshots(page, "contact-errors", tmp_path)
    assert Ticket.objects.count() == 0
