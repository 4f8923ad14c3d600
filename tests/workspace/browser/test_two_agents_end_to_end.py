"""Two agents in two real browsers, end to end: bob works the inbox with the keyboard, answers
a customer by email (delivered over SMTP to a local server, threaded on her message), adds a
note, hands the ticket to carol and closes tickets in bulk; carol, on the same ticket, sees
him there and sees his reply arrive; a signed WhatsApp notification posted meanwhile reaches
both inboxes within a second."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team, User
from tests.channels_inbox.email_adapter.conftest import Sink, smtp_sink  # noqa: F401 - fixture
from tests.channels_inbox.whatsapp.conftest import (
    ANA,
    URL,
    change_value,
    encode,
    make_account,
    notification,
    signature,
    text,
)
from tests.workspace.browser.conftest import AsgiServer
from tests.workspace.browser.test_workspace_live import customer_writes, sign_in
from tickets.models import Message, Ticket
from tickets.services import InboundMessage, receive_message

pytestmark = [pytest.mark.e2e]

DESKTOP: ViewportSize = {"width": 1440, "height": 900}
ALL_OPEN = "/inbox/?view=open"


@pytest.fixture
def mailbox(smtp_sink: Sink, support_team: Team) -> ChannelAccount:  # noqa: F811 - the fixture
    """The support mailbox, sending through the local SMTP server."""
    return ChannelAccount.objects.create(
        kind="email",
        name="Support mailbox",
        slug="support-mail",
        address="support@shop.test",
        credentials={
            "smtp_host": smtp_sink.host,
            "smtp_port": smtp_sink.port,
            "smtp_security": "none",
        },
        default_team=support_team,
    )


def ana_writes(server: AsgiServer, mailbox: ChannelAccount) -> Ticket:
    message = server.call(
        lambda: receive_message(
            InboundMessage(
                channel="email",
                sender_address="ana@example.com",
                sender_name="Ana Souza",
                subject="Broken lamp",
                text="The lamp arrived broken.",
                provider_message_id="lamp@example.com",
                starts_conversation=True,
            ),
            channel_account=mailbox,
        )
    )
    return Ticket.objects.get(pk=message.ticket_id)


@contextmanager
def browsers_refreshed(*pages: Page) -> Iterator[None]:
    """Wait, after the block, until every page has refetched its view counts.

    A live event makes a page refetch the rows it names and the open ticket after 150 ms and
    the counts after 300 ms, so the counts are the last of its reads. The test database on
    SQLite is in memory, shared between connections, where a table being read cannot be
    written ("database table is locked", with no busy wait): the next change waits for the
    browsers to stop reading, as an agent would.
    """
    with ExitStack() as stack:
        for page in pages:
            stack.enter_context(page.expect_response(re.compile(r"/inbox/counts/")))
        yield


def post_signed_notification(server: AsgiServer, body: bytes) -> int:
    """POST as Meta does, over HTTP to the running server."""
    request = urllib.request.Request(
        f"{server.url}{URL}",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature(body)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_two_agents_work_one_inbox_end_to_end(
    asgi_server: AsgiServer,
    browser: Browser,
    page: Page,
    agent: User,
    teammate: User,
    support_team: Team,
    mailbox: ChannelAccount,
    smtp_sink: Sink,  # noqa: F811 - the fixture
) -> None:
    # Given: Ana's email about a lamp, then two other customers' questions.
    lamp = ana_writes(asgi_server, mailbox)
    first = customer_writes(asgi_server, 1, "Question 1")
    second = customer_writes(asgi_server, 2, "Question 2")
    whatsapp = make_account(support_team)

    # bob signs in, goes to All open and opens Ana's ticket with the keyboard.
    sign_in(page, asgi_server, "bob")
    page.goto(f"{asgi_server.url}{ALL_OPEN}")
    expect(page.locator("#workspace")).to_have_attribute("data-live", "on")
    bobs_rows = page.get_by_role("listbox").get_by_role("option")
    expect(bobs_rows).to_have_count(3)
    expect(bobs_rows.nth(0)).to_have_attribute("id", f"ticket-row-{second.pk}")
    expect(bobs_rows.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(bobs_rows.nth(2)).to_have_attribute("id", f"ticket-row-{lamp.pk}")
    expect(bobs_rows.nth(2)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{lamp.number}/\?view=open$"))
    expect(page.locator("#ticket-subject")).to_have_text("Broken lamp")

    # carol, in a browser of her own, opens the same ticket: each sees the other there.
    carol_context = browser.new_context(viewport=DESKTOP)
    carol_context.set_default_timeout(10_000)
    carol = carol_context.new_page()
    sign_in(carol, asgi_server, "carol")
    carol.goto(f"{asgi_server.url}/tickets/{lamp.number}/?view=open")
    expect(carol.locator("#workspace")).to_have_attribute("data-live", "on")
    expect(page.locator("#presence")).to_have_text("Carol Agent is also viewing")
    expect(carol.locator("#presence")).to_have_text("Bob Agent is also viewing")

    # bob replies (r, Ctrl+Enter): the mail goes out, and carol sees the reply arrive.
    page.keyboard.press("r")
    composer = page.get_by_label("Message")
    expect(composer).to_be_focused()
    composer.fill("Sorry about the lamp, a new one ships today.")
    with browsers_refreshed(page, carol):
        page.keyboard.press("Control+Enter")
    expect(page.locator("#timeline .msg--reply")).to_contain_text(
        "Sorry about the lamp, a new one ships today."
    )
    expect(composer).to_have_value("")
    expect(carol.locator("#timeline .msg--reply")).to_contain_text(
        "Sorry about the lamp, a new one ships today."
    )
    reply = Message.objects.get(ticket=lamp, kind=Message.Kind.REPLY)
    assert (reply.author_agent, reply.text, reply.delivery_status) == (
        agent,
        "Sorry about the lamp, a new one ships today.",
        Message.DeliveryStatus.SENT,
    )
    [mail] = smtp_sink.received
    assert mail.rcpt_tos == ["ana@example.com"]
    sent = BytesParser(policy=policy.default).parsebytes(mail.content)
    assert isinstance(sent, EmailMessage)
    assert sent["Message-ID"] == f"<{reply.provider_message_id}>"
    assert sent["In-Reply-To"] == "<lamp@example.com>"
    assert sent["References"] == "<lamp@example.com>"
    assert sent["Subject"] == f"Re: Broken lamp [#{lamp.number}]"
    body = sent.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Sorry about the lamp, a new one ships today." in body.get_content()

    # A note (n), then the ticket goes to carol (a): she sees both without a reload.
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    expect(composer).to_be_focused()
    composer.fill("Replacement booked with the warehouse.")
    with browsers_refreshed(page, carol):
        page.keyboard.press("Control+Enter")
    expect(page.locator("#timeline .msg--note")).to_contain_text(
        "Replacement booked with the warehouse."
    )
    expect(carol.locator("#timeline .msg--note")).to_contain_text(
        "Replacement booked with the warehouse."
    )
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    assignee = page.locator("#field-assignee")
    expect(assignee).to_be_focused()
    with browsers_refreshed(page, carol):
        assignee.select_option(label="Carol Agent")
    expect(page.locator("#field-assignee")).to_have_value(str(teammate.pk))
    expect(carol.locator("#field-assignee")).to_have_value(str(teammate.pk))
    lamp.refresh_from_db()
    assert lamp.assignee == teammate

    # A signed WhatsApp notification: a new ticket for both, within a second.
    notice = encode(notification(change_value(messages=[text("Is my parcel on its way?")])))
    carols_pill = carol.locator("#new-pill")
    bobs_pill = page.locator("#new-pill")
    with browsers_refreshed(page, carol):
        assert post_signed_notification(asgi_server, notice) == 200
        answered = time.monotonic()
        # The list never moves under the cursor: a new ticket shows as the "1 new" pill.
        expect(bobs_pill).to_contain_text("1 new", timeout=1000)
        expect(carols_pill).to_contain_text("1 new", timeout=1000)
        assert time.monotonic() - answered < 1
    [event] = InboundEvent.objects.filter(channel_account=whatsapp)
    assert event.status == InboundEvent.Status.PROCESSED
    parcel = Ticket.objects.get(channel="whatsapp")
    assert parcel.customer.identities.get().address == ANA
    assert list(parcel.messages.values_list("kind", "text")) == [
        ("customer", "Is my parcel on its way?")
    ]
    carol.keyboard.press("u")
    bobs_pill.click()
    for agents_page in (page, carol):
        expect(agents_page.locator(f"#ticket-row-{parcel.pk}")).to_contain_text(
            "Is my parcel on its way?"
        )
    expect(bobs_rows).to_have_count(4)

    # bob closes the three email tickets in bulk; carol's open ticket follows.
    for ticket in (lamp, first, second):
        page.locator(f"#ticket-row-{ticket.pk} .row-check").click()
    bar = page.get_by_role("form", name="Change the selected tickets")
    expect(bar).to_contain_text("3 selected")
    with browsers_refreshed(page, carol):
        bar.get_by_label("Set the status of the selected tickets").select_option("closed")
    expect(page.locator("#bulk-result [role=status]")).to_contain_text(
        "Status set to Closed: 3 tickets changed."
    )
    expect(bobs_rows).to_have_count(1)
    expect(carol.locator("#field-status")).to_have_value("closed")

    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses == {
        lamp.pk: "closed",
        first.pk: "closed",
        second.pk: "closed",
        parcel.pk: "new",
    }
    assert list(lamp.messages.order_by("id").values_list("kind", "author_agent_id", "text")) == [
        ("customer", None, "The lamp arrived broken."),
        ("reply", agent.pk, "Sorry about the lamp, a new one ships today."),
        ("note", agent.pk, "Replacement booked with the warehouse."),
    ]
    assert len(smtp_sink.received) == 1
    carol_context.close()
