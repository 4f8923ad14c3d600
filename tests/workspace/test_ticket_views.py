"""The ticket page: its timeline, the customer beside it, the composer and the inline edits,
each through the services, with the errors an agent can meet."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from channels_inbox.models import ChannelAccount
from customers.models import Order
from customers.services import OrderLineData, add_identity, upsert_order
from helpdesk.models import Team, User
from tickets.models import Ticket
from tickets.services import (
    InboundAttachment,
    InboundMessage,
    add_note,
    add_reply,
    apply_status_update,
    assign_ticket,
    change_status,
    link_order,
    mark_message_failed,
    mark_message_sent,
    merge_tickets,
    receive_message,
)

MakeTicket = Callable[..., Ticket]
HTMX = {"HX-Request": "true"}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def order(ticket: Ticket) -> Order:
    placed, _created = upsert_order(
        store="shop",
        external_id="1042",
        number="#1042",
        placed_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        currency="EUR",
        subtotal=Decimal("80.00"),
        shipping_total=Decimal("4.95"),
        total=Decimal("84.95"),
        customer=ticket.customer,
        financial_status=Order.FinancialStatus.PAID,
        fulfillment_status=Order.FulfillmentStatus.FULFILLED,
        tracking=[
            {"carrier": "DHL", "number": "JD0001", "url": "https://track.example/JD0001"},
            {"carrier": "Evil", "number": "X1", "url": "javascript:alert(1)"},
        ],
        lines=[
            OrderLineData(
                title="Linen lamp shade", quantity=2, unit_price=Decimal(40), total=Decimal(80)
            )
        ],
    )
    return placed


def page_of(client: Client, ticket: Ticket, **headers: str) -> str:
    response = client.get(f"/tickets/{ticket.number}/", headers=headers)
    assert response.status_code == 200
    return response.content.decode()


# --- The page --------------------------------------------------------------------------------


def test_ticket_page_shows_the_conversation_beside_the_inbox(
    bob_client: Client, ticket: Ticket, agent: User, on_commit: Any
) -> None:
    with on_commit():
        assign_ticket(ticket, agent, actor=agent)

    html = page_of(bob_client, ticket)

    assert f"#{ticket.number}" in html
    assert "Question 1" in html
    assert "Where is my order?" in html
    # The inbox stays beside it, with this ticket in the list.
    assert f'id="ticket-row-{ticket.pk}"' in html
    assert 'id="view-nav"' in html
    assert f'data-ticket-id="{ticket.pk}"' in html


def test_htmx_gets_only_the_ticket_pane(bob_client: Client, ticket: Ticket) -> None:
    html = page_of(bob_client, ticket, **HTMX)

    assert html.lstrip().startswith('<div id="ticket-pane"')
    assert "<html" not in html
    assert 'id="view-nav"' not in html


def test_unknown_ticket_is_a_404(bob_client: Client, db: None) -> None:
    assert bob_client.get("/tickets/424242/").status_code == 404
    assert bob_client.get("/tickets/424242/live/").status_code == 404
    assert bob_client.post("/tickets/424242/status/", {"status": "open"}).status_code == 404
    assert (
        bob_client.post("/tickets/424242/compose/", {"mode": "note", "text": "x"}).status_code
        == 404
    )


def test_timeline_tells_messages_notes_and_activity_apart(
    bob_client: Client, ticket: Ticket, agent: User, on_commit: Any
) -> None:
    with on_commit():
        add_note(ticket, author=agent, text="Check the warehouse photos first.")
        reply = add_reply(ticket, author=agent, text="We are on it.")
        change_status(ticket, "pending", actor=agent)

    html = page_of(bob_client, ticket)

    assert re.search(r'class="msg msg--customer">.*?Ana Souza.*?Where is my order\?', html, re.S)
    note = re.search(r'class="msg msg--note">(.*?)</article>', html, re.S)
    assert note is not None
    assert "Internal note" in note.group(1)
    assert "Check the warehouse photos first." in note.group(1)
    assert f'id="message-{reply.pk}" class="msg msg--reply' in html
    # Activity as small lines: who did what.
    assert "<strong>Ana Souza</strong> opened the ticket on Email" in html
    assert "<strong>Bob Agent</strong> took the ticket" in html
    assert "<strong>Bob Agent</strong> changed status Open → Pending" in html
    # Replies and notes are their own activity; the timeline does not repeat them.
    assert "added a note" not in html
    assert "replied" not in html.lower().replace("reply", "")


@pytest.mark.parametrize(
    ("step", "label"),
    [
        ("queued", "Sending…"),
        ("sent", "Sent"),
        ("delivered", "Delivered"),
        ("read", "Read"),
    ],
)
def test_replies_show_their_delivery(
    bob_client: Client,
    ticket: Ticket,
    agent: User,
    email_account: ChannelAccount,
    step: str,
    label: str,
) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(channel_account=email_account)
    # The delivery pipeline's steps, called here one by one (no worker runs: the callbacks
    # after commit are not executed).
    reply = add_reply(ticket, author=agent, text="Shipped today.")
    if step != "queued":
        mark_message_sent(reply.pk, provider_message_id="<reply-1@shop.test>")
    if step in ("delivered", "read"):
        apply_status_update(email_account, provider_message_id="<reply-1@shop.test>", status=step)

    html = page_of(bob_client, ticket)

    footer = re.search(r'class="msg-foot delivery delivery--(\w+)".*?</footer>', html, re.S)
    assert footer is not None
    assert footer.group(1) == step
    assert label in footer.group(0)


def test_a_failed_reply_says_why(bob_client: Client, ticket: Ticket, agent: User) -> None:
    reply = add_reply(ticket, author=agent, text="Here is your label.")
    mark_message_failed(reply.pk, error="550 Mailbox unavailable")

    html = page_of(bob_client, ticket)

    assert f'id="message-{reply.pk}" class="msg msg--reply msg--failed"' in html
    assert "Failed: 550 Mailbox unavailable" in html


def test_attachments_show_images_inline_and_other_files_as_links(
    bob_client: Client, make_ticket: MakeTicket
) -> None:
    ticket = make_ticket(
        attachments=(
            InboundAttachment("photo.png", "image/png", PNG),
            InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1.4 test"),
        )
    )
    image, document = ticket.messages.get().attachments.order_by("name").reverse()

    html = page_of(bob_client, ticket)

    assert f'<img src="/attachments/{image.pk}/photo.png" alt="photo.png"' in html
    assert f'class="attachment-file" href="/attachments/{document.pk}/invoice.pdf"' in html
    assert "13\xa0bytes" in html


def test_quoted_email_text_is_collapsed(bob_client: Client, make_ticket: MakeTicket) -> None:
    ticket = make_ticket(
        text="Still nothing, sorry.\n\nOn Tue, 3 Mar 2026, Support wrote:\n> We shipped it.\n",
        html="<p>Still nothing, sorry.</p><blockquote>We shipped it.</blockquote>",
    )

    html = page_of(bob_client, ticket)

    body = re.search(r'class="msg-body">(.*?)</div>', html, re.S)
    assert body is not None
    assert body.group(1).strip() == "Still nothing, sorry."
    assert re.search(
        r'<details class="msg-quoted"><summary>Show quoted text</summary>'
        r'<div class="msg-quoted-text">On Tue, 3 Mar 2026, Support wrote:<br>&gt; We shipped it.',
        html,
    )
    assert '<details class="msg-html"><summary>Show the full email</summary>' in html


def test_threading_reason_and_merges_are_shown(
    bob_client: Client, ticket: Ticket, make_ticket: MakeTicket, agent: User, on_commit: Any
) -> None:
    with on_commit():
        receive_message(
            InboundMessage(
                channel="email",
                sender_address="ana@example.com",
                subject=f"Re: [#{ticket.number}] Question 1",
                text="Any news?",
                ticket_number=ticket.number,
                ticket_number_source="subject",
                starts_conversation=True,
            )
        )
        other = make_ticket(sender_address="ana@example.com", subject="Second thread")
        merge_tickets(other, ticket, actor=agent)

    html = page_of(bob_client, ticket)
    merged = page_of(bob_client, other)

    assert "Threaded by ticket number in subject" in html
    assert (
        f'<strong>Bob Agent</strong> merged <a href="/tickets/{other.number}/">#{other.number}</a>'
        " into this ticket (1 messages)"
    ) in html
    assert f'Merged into <a href="/tickets/{ticket.number}/">' in merged
    assert 'id="composer-text"' not in merged


def test_customer_panel_shows_handles_orders_and_other_tickets(
    bob_client: Client,
    ticket: Ticket,
    make_ticket: MakeTicket,
    order: Order,
    agent: User,
    on_commit: Any,
) -> None:
    add_identity(ticket.customer, kind="whatsapp", address="+14155550123")
    with on_commit():
        link_order(ticket, order, actor=agent)
        other = make_ticket(sender_address="ana@example.com", subject="Gift wrapping")

    html = page_of(bob_client, ticket)
    panel = html[html.index('id="customer-panel"') :]

    assert "ana@example.com" in panel
    assert "+14155550123" in panel
    assert '<span class="order-number">#1042</span><span class="linked"' in panel
    assert "84.95 EUR" in panel
    assert "2 × Linen lamp shade" in panel
    assert ">Paid<" in panel
    assert ">Fulfilled<" in panel
    assert (
        '<a href="https://track.example/JD0001" target="_blank" rel="noopener noreferrer">' in panel
    )
    # A tracking address that is not a web address is shown, never linked.
    assert "javascript:" not in panel
    assert "Evil X1" in panel
    assert f'href="/tickets/{other.number}/"' in panel
    assert "Gift wrapping" in panel


def test_ticket_page_costs_the_same_queries_for_a_longer_conversation(
    bob_client: Client,
    ticket: Ticket,
    agent: User,
    order: Order,
    django_assert_num_queries: Any,
    on_commit: Any,
) -> None:
    def talk(rounds: int) -> None:
        with on_commit():
            for _ in range(rounds):
                add_note(ticket, author=agent, text="Looking.")
                add_reply(ticket, author=agent, text="On it.")

    talk(1)
    with on_commit():
        link_order(ticket, order, actor=agent)
    # Session and user; the ticket, its tags; agents and teams (once for the whole page);
    # the customer with handles, tickets, orders and lines; linked orders; messages,
    # attachments, activities; then the inbox beside it: the tickets' version and the
    # counts (the ticket changed since they were counted: the shared views' unsolved and
    # solved counts, the agent's own), rows, the rows' tags and the filter bar's tags, the
    # agent's saved views.
    with django_assert_num_queries(23):
        bob_client.get(f"/tickets/{ticket.number}/")
    talk(5)
    with django_assert_num_queries(23):
        bob_client.get(f"/tickets/{ticket.number}/")
    # Nothing changed: the counts come from the cache.
    with django_assert_num_queries(20):
        bob_client.get(f"/tickets/{ticket.number}/")
    with django_assert_num_queries(15):
        bob_client.get(f"/tickets/{ticket.number}/", headers=HTMX)


# --- The composer ------------------------------------------------------------------------------


def test_a_reply_goes_through_the_service_and_appears(
    bob_client: Client, ticket: Ticket, on_commit: Any
) -> None:
    with on_commit():
        response = bob_client.post(
            f"/tickets/{ticket.number}/compose/",
            {"mode": "reply", "text": "Your parcel left today.", "then_status": "pending"},
            headers=HTMX,
        )

    assert response.status_code == 200
    reply = ticket.messages.get(kind="reply")
    assert reply.text == "Your parcel left today."
    assert reply.author_agent is not None
    assert reply.author_agent.username == "bob"
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    html = response.content.decode()
    # A fresh, empty composer; the timeline and header swapped out of band.
    assert html.lstrip().startswith('<form id="composer" class="composer composer--reply"')
    assert '<div id="timeline" hx-swap-oob="innerHTML">' in html
    assert "Your parcel left today." in html
    assert 'hx-swap-oob="true"' in html
    assert re.search(r'<textarea id="composer-text"[^>]*></textarea>', html)


def test_a_plain_form_post_redirects_back_to_the_ticket(
    bob_client: Client, ticket: Ticket, on_commit: Any
) -> None:
    with on_commit():
        response = bob_client.post(
            f"/tickets/{ticket.number}/compose/", {"mode": "note", "text": "Called the courier."}
        )

    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.number}/"
    note = ticket.messages.get(kind="note")
    assert (note.text, note.direction) == ("Called the courier.", "internal")


def test_a_reply_carries_its_attachments(
    bob_client: Client, ticket: Ticket, on_commit: Any
) -> None:
    upload = SimpleUploadedFile("label.pdf", b"%PDF-1.4 label", content_type="application/pdf")

    with on_commit():
        response = bob_client.post(
            f"/tickets/{ticket.number}/compose/",
            {"mode": "reply", "text": "Your return label.", "attachments": [upload]},
            headers=HTMX,
        )

    assert response.status_code == 200
    attachment = ticket.messages.get(kind="reply").attachments.get()
    assert (attachment.name, attachment.size) == ("label.pdf", 14)
    assert f'href="/attachments/{attachment.pk}/label.pdf"' in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "reply", "text": "   "}, "Write something first."),
        ({"mode": "shout", "text": "Hi"}, "Select a valid choice."),
        ({"mode": "reply", "text": "Hi", "then_status": "closed"}, "Select a valid choice."),
        ({"mode": "note"}, "This field is required."),
    ],
)
def test_composer_refuses_bad_input_and_keeps_the_text(
    bob_client: Client, ticket: Ticket, data: dict[str, str], message: str
) -> None:
    response = bob_client.post(f"/tickets/{ticket.number}/compose/", data, headers=HTMX)

    assert response.status_code == 400
    assert f'<p class="inline-error" role="alert">{message}' in response.content.decode()
    assert ticket.messages.count() == 1


def test_a_note_cannot_carry_attachments(bob_client: Client, ticket: Ticket) -> None:
    upload = SimpleUploadedFile("x.txt", b"x", content_type="text/plain")

    response = bob_client.post(
        f"/tickets/{ticket.number}/compose/",
        {"mode": "note", "text": "See file", "attachments": [upload]},
        headers=HTMX,
    )

    assert response.status_code == 400
    assert b"Notes cannot carry attachments" in response.content
    assert b"See file</textarea>" in response.content
    assert ticket.messages.count() == 1


def test_a_reply_to_a_closed_ticket_is_a_409_with_the_reason(
    bob_client: Client, ticket: Ticket, agent: User, on_commit: Any
) -> None:
    with on_commit():
        change_status(ticket, "closed", actor=agent)

    htmx = bob_client.post(
        f"/tickets/{ticket.number}/compose/", {"mode": "reply", "text": "Hello?"}, headers=HTMX
    )
    plain = bob_client.post(f"/tickets/{ticket.number}/compose/", {"mode": "reply", "text": "Hi"})

    assert htmx.status_code == plain.status_code == 409
    reason = f"Ticket #{ticket.number} is closed; a new message opens a follow-up."
    assert reason in htmx.content.decode()
    assert reason in plain.content.decode()
    assert b'class="page-error" role="alert"' in plain.content
    assert ticket.messages.count() == 1


# --- Inline edits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "attribute", "expected"),
    [
        ("status", "pending", "status", "pending"),
        ("priority", "urgent", "priority", "urgent"),
    ],
)
def test_inline_edits_change_the_ticket(
    bob_client: Client,
    ticket: Ticket,
    on_commit: Any,
    field: str,
    value: str,
    attribute: str,
    expected: str,
) -> None:
    with on_commit():
        response = bob_client.post(
            f"/tickets/{ticket.number}/{field}/", {field: value}, headers=HTMX
        )

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert getattr(ticket, attribute) == expected
    html = response.content.decode()
    assert html.lstrip().startswith('<header id="ticket-header"')
    assert f'<option value="{value}" selected>' in html
    assert ticket.activities.filter(actor__username="bob").exists()


def test_assign_and_unassign(
    bob_client: Client, ticket: Ticket, teammate: User, on_commit: Any
) -> None:
    with on_commit():
        bob_client.post(f"/tickets/{ticket.number}/assignee/", {"assignee": teammate.pk})
    ticket.refresh_from_db()
    assert ticket.assignee == teammate

    with on_commit():
        bob_client.post(f"/tickets/{ticket.number}/assignee/", {"assignee": ""})
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert list(ticket.activities.values_list("verb", flat=True).order_by("id"))[-2:] == [
        "assigned",
        "unassigned",
    ]


def test_team_and_tags(
    bob_client: Client, ticket: Ticket, returns_team: Team, on_commit: Any
) -> None:
    with on_commit():
        bob_client.post(f"/tickets/{ticket.number}/team/", {"team": returns_team.pk})
        bob_client.post(f"/tickets/{ticket.number}/tags/", {"add": "Refund, VIP ,refund"})
    ticket.refresh_from_db()
    assert ticket.team == returns_team
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund", "vip"]

    with on_commit():
        response = bob_client.post(
            f"/tickets/{ticket.number}/tags/", {"remove": "vip"}, headers=HTMX
        )
    assert list(ticket.tags.values_list("name", flat=True)) == ["refund"]
    assert b'aria-label="Remove tag refund"' in response.content


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("status", {"status": "archived"}, "Select a valid choice. archived is not one of"),
        ("status", {}, "This field is required."),
        ("priority", {"priority": "asap"}, "Select a valid choice."),
        ("assignee", {"assignee": "999999"}, "Choose an active agent from the list."),
        ("assignee", {"assignee": "erin"}, "Choose an active agent from the list."),
        ("team", {"team": "999999"}, "Choose a team from the list."),
        ("tags", {"add": ""}, "Type a tag to add."),
        ("tags", {"add": "x" * 51}, "A tag is at most 50 characters."),
    ],
)
def test_bad_edits_are_a_400_with_a_message_and_change_nothing(
    bob_client: Client,
    ticket: Ticket,
    inactive_agent: User,
    field: str,
    data: dict[str, str],
    message: str,
) -> None:
    before = list(ticket.activities.values_list("pk", flat=True))

    htmx = bob_client.post(f"/tickets/{ticket.number}/{field}/", data, headers=HTMX)
    plain = bob_client.post(f"/tickets/{ticket.number}/{field}/", data)

    assert htmx.status_code == plain.status_code == 400
    assert f'<p class="inline-error" role="alert">{message}' in htmx.content.decode()
    assert message in plain.content.decode()
    assert list(ticket.activities.values_list("pk", flat=True)) == before
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id, ticket.team_id) == (
        "new",
        "normal",
        None,
        None,
    )


def test_a_change_the_ticket_state_forbids_is_a_409(
    bob_client: Client, ticket: Ticket, agent: User, on_commit: Any
) -> None:
    with on_commit():
        change_status(ticket, "closed", actor=agent)

    response = bob_client.post(
        f"/tickets/{ticket.number}/priority/", {"priority": "high"}, headers=HTMX
    )

    assert response.status_code == 409
    assert f"Ticket #{ticket.number} is closed" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_posts_need_the_csrf_token(agent: User, ticket: Ticket) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    refused = client.post(f"/tickets/{ticket.number}/status/", {"status": "solved"})
    page = client.get(f"/tickets/{ticket.number}/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert token is not None
    accepted = client.post(
        f"/tickets/{ticket.number}/status/",
        {"status": "solved"},
        headers={"X-CSRFToken": token.group(1).decode(), **HTMX},
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "solved"


def test_edits_refuse_get(bob_client: Client, ticket: Ticket) -> None:
    assert bob_client.get(f"/tickets/{ticket.number}/status/").status_code == 405
    assert bob_client.get(f"/tickets/{ticket.number}/compose/").status_code == 405


def test_live_fragment_swaps_header_and_timeline_but_not_the_composer(
    bob_client: Client, ticket: Ticket
) -> None:
    response = bob_client.get(f"/tickets/{ticket.number}/live/")

    html = response.content.decode()
    assert '<div id="timeline" hx-swap-oob="innerHTML">' in html
    assert '<header id="ticket-header" class="ticket-header" hx-swap-oob="true">' in html
    assert "composer" not in html
