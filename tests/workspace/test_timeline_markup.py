"""The timeline's markup on the ticket page: every kind of message and activity as the
timeline's styles, scripts and forms expect it, in the agent's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from channels_inbox.models import ChannelAccount
from helpdesk.models import User
from tickets.models import Attachment, Message, Ticket, TicketActivity
from tickets.services import (
    InboundAttachment,
    InboundMessage,
    add_automatic_reply,
    add_note,
    add_reply,
    apply_status_update,
    mark_message_failed,
    mark_message_sent,
    merge_tickets,
    receive_message,
    schedule_delivery_retry,
)
from tickets.workspace.timeline import TimelineEntry, ticket_timeline
from tickets.workspace.timeline_html import render_timeline

pytestmark = pytest.mark.django_db

# A Tuesday; 10:05 in Berlin, where bob works.
START = datetime(2026, 3, 3, 9, 5, tzinfo=UTC)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
RAW = (
    b"From: Ana Souza <ana@example.com>\r\nTo: support@shop.test\r\n"
    b"Message-ID: <abc@example.com>\r\nSubject: Parcel\r\n\r\nWhere is my parcel?\r\n"
)
CSRF_INPUT = r'<input type="hidden" name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}">'


@dataclass
class Conversation:
    ticket: Ticket
    email: Message
    follow_up: Message
    queued: Message
    retrying: Message
    sent: Message
    delivered: Message
    failed: Message
    note: Message
    automatic: Message
    merged_from: Ticket


def minutes(count: int) -> time_machine.travel:
    return time_machine.travel(START + timedelta(minutes=count), tick=False)


@pytest.fixture
def conversation(agent: User, email_account: ChannelAccount) -> Conversation:
    """An email ticket with one message of every kind, a minute apart."""
    with minutes(0):
        email = receive_message(
            InboundMessage(
                channel="email",
                sender_address="ana@example.com",
                sender_name="Ana Souza",
                subject="Parcel",
                text="Where is my parcel?\nIt's <late> & lost.\n\n"
                "On Mon, 2 Mar 2026, Shop wrote:\n> Shipped.",
                html="<p>Where is my parcel?</p>",
                provider_message_id="abc@example.com",
                starts_conversation=True,
                attachments=(
                    InboundAttachment("original.eml", "message/rfc822", RAW),
                    InboundAttachment("photo.png", "image/png", PNG),
                    InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1.4 test"),
                ),
            ),
            channel_account=email_account,
        )
    ticket = Ticket.objects.get(pk=email.ticket_id)
    with minutes(1):
        follow_up = receive_message(
            InboundMessage(
                channel="email",
                sender_address="ana@example.com",
                subject=f"Re: [#{ticket.number}] Parcel",
                text="Any news?",
                ticket_number=ticket.number,
                ticket_number_source="subject",
                starts_conversation=True,
            ),
            channel_account=email_account,
        )
    replies = []
    for minute in range(2, 7):
        with minutes(minute):
            replies.append(add_reply(ticket, author=agent, text=f"Reply {minute}"))
    queued, retrying, sent, delivered, failed = replies
    with minutes(8):
        schedule_delivery_retry(
            retrying.pk, error="421 Try again later", retry_at=START + timedelta(hours=1)
        )
        for reply in (sent, delivered):
            mark_message_sent(reply.pk, provider_message_id=f"<reply-{reply.pk}@shop.test>")
        apply_status_update(
            email_account,
            provider_message_id=f"<reply-{delivered.pk}@shop.test>",
            status="delivered",
        )
        mark_message_failed(failed.pk, error="550 Mailbox <unavailable>")
    with minutes(9):
        note = add_note(ticket, author=agent, text="Check the warehouse photos first.")
    with minutes(10):
        automatic = add_automatic_reply(ticket, text="We got your message.", summary="ack")
    with minutes(11):
        other_email = receive_message(
            InboundMessage(
                channel="email",
                sender_address="ana@example.com",
                subject="Second thread",
                text="Also this.",
                starts_conversation=True,
            ),
            channel_account=email_account,
        )
        other = Ticket.objects.get(pk=other_email.ticket_id)
        merge_tickets(other, ticket, actor=agent)
    User.objects.filter(pk=agent.pk).update(time_zone="Europe/Berlin")
    return Conversation(
        ticket=Ticket.objects.get(pk=ticket.pk),
        email=email,
        follow_up=follow_up,
        queued=queued,
        retrying=retrying,
        sent=sent,
        delivered=delivered,
        failed=failed,
        note=note,
        automatic=automatic,
        merged_from=other,
    )


def squeezed(html: str) -> str:
    """``html`` with its runs of spaces and newlines made one space: the layout of the
    source is not the markup's (no-break spaces stay)."""
    return re.sub(r"[ \t\r\n]+", " ", html)


def page(client: Client, ticket: Ticket, path: str = "") -> str:
    response = client.get(f"/tickets/{ticket.number}/{path}")
    assert response.status_code == 200
    return squeezed(response.content.decode())


def article(html: str, message: Message) -> str:
    found = re.search(rf'<article id="message-{message.pk}" .*?</article>', html)
    assert found is not None, f"no article for message {message.pk}"
    return found.group(0)


def test_a_customer_email_shows_its_parts(bob_client: Client, conversation: Conversation) -> None:
    number, email = conversation.ticket.number, conversation.email
    image, document = (
        Attachment.objects.get(message=email, name=name) for name in ("photo.png", "invoice.pdf")
    )

    html = article(page(bob_client, conversation.ticket), email)

    assert html.startswith(
        f'<article id="message-{email.pk}" class="msg msg--customer"> <header class="msg-head"> '
        '<span class="msg-author">Ana Souza</span> '
        '<time datetime="2026-03-03T10:05:00+01:00" title="Tue 3 Mar 2026, 10:05">'
        "3 Mar, 10:05</time> "
        f'<span class="msg-actions"> <a class="msg-action" '
        f'href="/tickets/{number}/messages/{email.pk}/original.eml" download>'
        "Download original (.eml)</a> "
        f'<form method="post" action="/tickets/{number}/messages/{email.pk}/split/" '
        f'hx-post="/tickets/{number}/messages/{email.pk}/split/" hx-swap="none" '
        'hx-confirm="Move this message to a new ticket of the same customer?"> '
    )
    assert re.search(
        CSRF_INPUT + r'<button type="submit" class="link-button msg-action">'
        r"Split into new ticket</button> </form> </span> </header>",
        html,
    )
    assert (
        '<div class="msg-body">Where is my parcel?<br>It&#x27;s &lt;late&gt; &amp; lost.</div> '
        '<details class="msg-quoted"><summary>Show quoted text</summary>'
        '<div class="msg-quoted-text">On Mon, 2 Mar 2026, Shop wrote:<br>&gt; Shipped.</div>'
        "</details> "
        '<details class="msg-html"><summary>Show the full email</summary>'
        '<div class="email-html"><p>Where is my parcel?</p></div></details> '
        '<ul class="attachments"> '
        f'<li><a class="attachment-image" href="/attachments/{image.pk}/photo.png" '
        f'target="_blank" rel="noopener"><img src="/attachments/{image.pk}/photo.png" '
        'alt="photo.png" loading="lazy"></a></li> '
        f'<li><a class="attachment-file" href="/attachments/{document.pk}/invoice.pdf">'
        '<svg width="14" height="14"'
    ) in html
    assert (
        '</svg><span>invoice.pdf</span><span class="muted">13\xa0bytes</span></a></li> </ul> '
        "</article>"
    ) in html
    # The original is offered for download, not listed with the attachments.
    assert ">original.eml<" not in html


def test_a_threaded_customer_message_says_how(
    bob_client: Client, conversation: Conversation
) -> None:
    html = article(page(bob_client, conversation.ticket), conversation.follow_up)

    assert html.endswith(
        '<div class="msg-body">Any news?</div> '
        '<footer class="msg-foot threading">Threaded by ticket number in subject</footer> '
        "</article>"
    )


def test_replies_show_how_far_their_delivery_got(
    bob_client: Client, conversation: Conversation
) -> None:
    html = page(bob_client, conversation.ticket)

    queued = article(html, conversation.queued)
    assert queued.startswith(
        f'<article id="message-{conversation.queued.pk}" class="msg msg--reply"> '
        '<header class="msg-head"> <span class="msg-author">Bob Agent</span> '
        '<time datetime="2026-03-03T10:07:00+01:00" title="Tue 3 Mar 2026, 10:07">'
        "3 Mar, 10:07</time> </header> "
        '<div class="msg-body">Reply 2</div> '
        '<footer class="msg-foot delivery delivery--queued" title="Queued Tue 3 Mar 2026, '
        '10:07"> <svg width="14"'
    )
    assert queued.endswith("</svg> Sending… </footer> </article>")
    assert (
        '<footer class="msg-foot delivery delivery--queued" title="Queued Tue 3 Mar 2026, 10:13">'
    ) in article(html, conversation.retrying)
    assert "</svg> Retrying: 421 Try again later </footer>" in article(html, conversation.retrying)
    sent = article(html, conversation.sent)
    assert (
        '<footer class="msg-foot delivery delivery--sent" title="Sent Tue 3 Mar 2026, 10:13">'
        in sent
    )
    assert sent.endswith('<path d="m3 8.5 3 3 7-7"/></svg> Sent </footer> </article>')
    delivered = article(html, conversation.delivered)
    assert '<footer class="msg-foot delivery delivery--delivered" title="Delivered ' in delivered
    assert delivered.endswith(
        '<path d="m2 8.5 3 3 7-7M9 11.5l7-7"/></svg> Delivered </footer> </article>'
    )


def test_a_failed_reply_says_why_and_offers_a_retry(
    bob_client: Client, conversation: Conversation
) -> None:
    number, failed = conversation.ticket.number, conversation.failed

    html = page(bob_client, conversation.ticket)

    failure = article(html, failed)
    assert failure.startswith(
        f'<article id="message-{failed.pk}" class="msg msg--reply msg--failed">'
    )
    assert re.search(
        r'<footer class="msg-foot delivery delivery--failed" title="Failed Tue 3 Mar 2026, '
        r'10:13"> <svg [^>]*>.*?</svg> <span>Failed: 550 Mailbox &lt;unavailable&gt;</span> '
        rf'<form class="retry-form" method="post" action="/tickets/{number}/messages/'
        rf'{failed.pk}/retry/" hx-post="/tickets/{number}/messages/{failed.pk}/retry/" '
        r'hx-swap="none" hx-disabled-elt="find button"> '
        + CSRF_INPUT
        + r'<button type="submit" class="retry-button">Retry</button> </form> </footer> '
        r"</article>$",
        failure,
    )


def test_notes_and_automatic_messages_are_marked(
    bob_client: Client, conversation: Conversation
) -> None:
    html = page(bob_client, conversation.ticket)

    assert article(html, conversation.note).startswith(
        f'<article id="message-{conversation.note.pk}" class="msg msg--note"> '
        '<header class="msg-head"> <span class="msg-author">Bob Agent</span> '
        '<span class="msg-badge">Internal note</span> <time '
    )
    assert article(html, conversation.automatic).startswith(
        f'<article id="message-{conversation.automatic.pk}" '
        'class="msg msg--reply msg--automated"> <header class="msg-head"> '
        '<span class="msg-author">Switchboard</span> '
        '<span class="msg-badge">Automated</span> <time '
    )


def test_an_activity_links_the_ticket_it_names(
    bob_client: Client, conversation: Conversation
) -> None:
    merged = TicketActivity.objects.get(
        ticket=conversation.ticket, verb=TicketActivity.Verb.MERGED_FROM
    )
    other = conversation.merged_from.number

    html = page(bob_client, conversation.ticket)

    assert (
        f'<p id="activity-{merged.pk}" class="activity"><span class="activity-text">'
        f'<strong>Bob Agent</strong> merged <a href="/tickets/{other}/">#{other}</a> into this '
        'ticket (1 messages)</span> <time datetime="2026-03-03T10:16:00+01:00" '
        'title="Tue 3 Mar 2026, 10:16">3 Mar, 10:16</time></p>'
    ) in html


def test_the_live_update_carries_the_same_timeline(
    bob_client: Client, conversation: Conversation
) -> None:
    full = page(bob_client, conversation.ticket)
    live = page(bob_client, conversation.ticket, "live/")

    for message in (conversation.email, conversation.failed, conversation.note):
        # The forms' tokens differ from one response to the next.
        same = re.sub(r'value="[A-Za-z0-9]{64}"', 'value="token"', article(full, message))
        assert same == re.sub(r'value="[A-Za-z0-9]{64}"', 'value="token"', article(live, message))


def test_a_timeline_with_nothing_on_it_invites_the_first_message(ticket: Ticket) -> None:
    assert render_timeline([], ticket=ticket, csrf_token=None) == (
        '<p class="timeline-empty">No messages yet. Write the first one below.</p>'
    )


def test_a_reply_without_delivery_details_keeps_its_footer(ticket: Ticket) -> None:
    failed = Message(pk=901, ticket=ticket, kind="reply", delivery_status="failed")
    unsent = Message(pk=902, ticket=ticket, kind="reply")
    entries = [
        TimelineEntry("message", START, message=message, body="Hi") for message in (failed, unsent)
    ]

    html = squeezed(render_timeline(entries, ticket=ticket, csrf_token="t0ken"))

    assert '<footer class="msg-foot delivery delivery--failed"> <svg ' in html
    assert (
        "<span>Failed: the channel gave no reason</span> "
        f'<form class="retry-form" method="post" action="/tickets/{ticket.number}/messages/901/'
        'retry/"'
    ) in html
    assert (
        '<input type="hidden" name="csrfmiddlewaretoken" value="t0ken">'
        '<button type="submit" class="retry-button">Retry</button>'
    ) in html
    assert '<span class="msg-author">Switchboard</span>' in article(html, unsent)
    assert article(html, unsent).endswith(
        '<div class="msg-body">Hi</div> <footer class="msg-foot delivery delivery--none"> '
        "</footer> </article>"
    )


def test_without_a_token_the_forms_have_no_token_field(conversation: Conversation) -> None:
    html = render_timeline(
        ticket_timeline(conversation.ticket), ticket=conversation.ticket, csrf_token=None
    )

    assert 'class="retry-form"' in html
    assert "csrfmiddlewaretoken" not in html
