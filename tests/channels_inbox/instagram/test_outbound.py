"""Replies to Instagram through the delivery pipeline and the fake Send API: the same Send
API as Messenger with Instagram's limits (1,000 bytes of text, images, videos and audio
only), its window and the HUMAN_AGENT tag."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from helpdesk.models import User
from tests.channels_inbox.meta_messaging.fake_graph import FakeGraph
from tests.channels_inbox.meta_messaging.notifications import INSTAGRAM as IG
from tickets.models import Message, Ticket
from tickets.services import OutboundAttachment, add_reply

pytestmark = pytest.mark.django_db


def wrote(capture: Any, ago: timedelta) -> Ticket:
    moment = int((timezone.now() - ago).timestamp() * 1000)
    IG.deliver(capture, IG.message("Do you ship to Portugal?", timestamp=moment))
    return Ticket.objects.get()


def reply(ticket: Ticket, agent: User, capture: Any, **options: Any) -> Message:
    options.setdefault("text", "Yes, in 3 to 5 days.")
    with capture(execute=True):
        message = add_reply(ticket, author=agent, **options)
    message.refresh_from_db()
    return message


def reply_delivered_late(
    ticket: Ticket, agent: User, capture: Any, written_ago: timedelta
) -> Message:
    """A reply submitted while the window was open, delivered only once the customer's last
    message is ``written_ago`` old (a queue backlog): the adapter's own refusal."""
    with capture() as queued:
        message = add_reply(ticket, author=agent, text="It left our warehouse today.")
    Ticket.objects.filter(pk=ticket.pk).update(
        last_customer_message_at=timezone.now() - written_ago
    )
    with capture(execute=True):
        for callback in queued:
            callback()
    message.refresh_from_db()
    return message


def test_a_reply_goes_to_the_igsid_through_the_send_api(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = wrote(django_capture_on_commit_callbacks, timedelta(minutes=5))

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert (message.delivery_status, message.provider_message_id) == ("sent", "m_FAKE0001")
    [request] = graph.calls("send")
    assert request.json() == {
        "recipient": {"id": IG.customer},
        "messaging_type": "RESPONSE",
        "message": {"text": "Yes, in 3 to 5 days."},
    }


def test_text_is_cut_to_instagrams_1000_bytes(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Instagram counts bytes: text that two messages would hold if it counted characters
    takes three."""
    ticket = wrote(django_capture_on_commit_callbacks, timedelta(minutes=5))
    text = "ção " * 400  # 1,600 characters, 2,400 bytes

    message = reply(ticket, agent, django_capture_on_commit_callbacks, text=text)

    assert message.delivery_status == "sent"
    pieces = [sent.message["text"] for sent in graph.accepted]
    assert len(pieces) == 3
    assert all(len(piece.encode()) <= 1000 for piece in pieces)
    assert " ".join(pieces).split() == text.split()


def test_the_human_agent_tag_works_on_instagram_too(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ChannelAccount.objects.filter(pk=account.pk).update(options={"human_agent_tag": True})
    ticket = wrote(django_capture_on_commit_callbacks, timedelta(minutes=10))

    message = reply_delivered_late(
        ticket, agent, django_capture_on_commit_callbacks, timedelta(days=2)
    )

    assert message.delivery_status == "sent"
    assert [(sent.messaging_type, sent.tag) for sent in graph.accepted] == [
        ("MESSAGE_TAG", "HUMAN_AGENT")
    ]


def test_without_the_tag_a_late_reply_is_refused_before_any_request(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = wrote(django_capture_on_commit_callbacks, timedelta(minutes=10))

    message = reply_delivered_late(
        ticket, agent, django_capture_on_commit_callbacks, timedelta(days=2)
    )

    assert message.delivery_status == "failed"
    assert message.delivery_error.startswith("The 24-hour messaging window closed at ")
    assert graph.calls("send") == []


def test_a_photo_is_uploaded_with_its_message(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = wrote(django_capture_on_commit_callbacks, timedelta(minutes=5))

    reply(
        ticket,
        agent,
        django_capture_on_commit_callbacks,
        text="",
        html="<p>The blue one:</p>",
        attachments=[OutboundAttachment("mug.jpg", "image/jpeg", b"\xff\xd8\xff mug")],
    )

    text, photo = graph.accepted
    assert text.message == {"text": "The blue one:"}
    assert photo.message == {"attachment": {"type": "image", "payload": {"is_reusable": False}}}
    assert photo.file["content"] == b"\xff\xd8\xff mug"


@pytest.mark.parametrize(
    ("attachment", "reason"),
    [
        pytest.param(
            OutboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1.7"),
            "Instagram cannot carry invoice.pdf (application/pdf): Instagram takes images",
            id="a document",
        ),
        pytest.param(
            OutboundAttachment("big.png", "image/png", b"x" * (8 * 1024 * 1024 + 1)),
            "big.png is 8388609 bytes, over Instagram's limit of 8.0 MB for an image.",
            id="image over 8 MB",
        ),
    ],
)
def test_a_file_instagram_cannot_take_fails_the_reply_before_any_request(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
    attachment: OutboundAttachment,
    reason: str,
) -> None:
    ticket = wrote(django_capture_on_commit_callbacks, timedelta(minutes=5))

    message = reply(ticket, agent, django_capture_on_commit_callbacks, attachments=[attachment])

    assert message.delivery_status == "failed"
    assert message.delivery_error.startswith(reason)
    assert graph.calls("send") == []
