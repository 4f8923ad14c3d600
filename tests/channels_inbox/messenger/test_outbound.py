"""Replies to Messenger through the real delivery pipeline and the fake Send API: what is
sent, retries that deliver exactly once, refusals with Meta's reason, the messaging window
with and without the HUMAN_AGENT tag, and files."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from channels_inbox.tasks import sweep_queued_messages_task
from helpdesk.models import User
from tests.channels_inbox.meta_messaging.fake_graph import VERSION, FakeGraph, graph_error
from tests.channels_inbox.meta_messaging.notifications import MESSENGER as FB
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import OutboundAttachment, add_reply

pytestmark = pytest.mark.django_db

SEND_PATH = f"/{VERSION}/me/messages"
PDF = b"%PDF-1.7 invoice 1001"
PNG = b"\x89PNG\r\n\x1a\n a photo of the new mug"


def wrote(capture: Any, ago: timedelta) -> Ticket:
    """Ana wrote ``ago``; her ticket."""
    moment = int((timezone.now() - ago).timestamp() * 1000)
    FB.deliver(capture, FB.message("Is my parcel on its way?", timestamp=moment))
    return Ticket.objects.get()


@pytest.fixture
def ticket(account: ChannelAccount, django_capture_on_commit_callbacks: Any) -> Ticket:
    """Ana wrote ten minutes ago: the messaging window is open."""
    return wrote(django_capture_on_commit_callbacks, timedelta(minutes=10))


def reply(ticket: Ticket, agent: User, capture: Any, **options: Any) -> Message:
    """Queue a reply and run what its commit triggers (the delivery, in eager Celery)."""
    options.setdefault("text", "It left our warehouse today.")
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


def retry_now(message: Message, capture: Any) -> Message:
    Message.objects.filter(pk=message.pk).update(next_delivery_at=timezone.now())
    with capture(execute=True):
        assert sweep_queued_messages_task() == 1
    message.refresh_from_db()
    return message


def failures(ticket: Ticket) -> list[str]:
    return [
        data["error"]
        for data in TicketActivity.objects.filter(
            ticket=ticket, verb=TicketActivity.Verb.DELIVERY_FAILED
        ).values_list("data", flat=True)
    ]


# --- Text ----------------------------------------------------------------------------------


def test_a_reply_is_sent_to_the_psid_through_the_send_api_and_stores_the_mid(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    sent = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert (sent.delivery_status, sent.provider_message_id) == ("sent", "m_FAKE0001")
    [request] = graph.calls("send")
    assert (request.method, request.path) == ("POST", SEND_PATH)
    assert request.headers["Authorization"] == f"Bearer {FB.page_access_token}"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.json() == {
        "recipient": {"id": FB.customer},
        "messaging_type": "RESPONSE",
        "message": {"text": "It left our warehouse today."},
    }


def test_a_reply_written_as_html_only_is_sent_as_its_text(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    reply(
        ticket,
        agent,
        django_capture_on_commit_callbacks,
        text="",
        html="<p>Refund &amp; label <b>sent</b>.</p>",
    )

    assert [sent.message["text"] for sent in graph.accepted] == ["Refund & label sent."]


def test_a_text_longer_than_messenger_takes_is_sent_in_pieces(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    paragraph = "word " * 500  # 2,500 characters
    sent = reply(ticket, agent, django_capture_on_commit_callbacks, text=paragraph)

    texts = [item.message["text"] for item in graph.accepted]
    assert len(texts) == 2
    assert all(len(text) <= 2000 for text in texts)
    assert " ".join(texts).split() == paragraph.split()
    assert sent.provider_message_id == "m_FAKE0002"


# --- Retries and refusals ------------------------------------------------------------------


def test_rate_limit_then_server_error_then_timeout_then_success_delivers_exactly_once(
    ticket: Ticket,
    agent: User,
    graph: FakeGraph,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.META_GRAPH_TIMEOUT_SECONDS = 0.3
    graph.script(
        "send",
        429,
        graph_error(613, "Calls to this api have exceeded the rate limit."),
        headers={"Retry-After": "120"},
    )
    graph.script("send", 500, graph_error(1200, "Temporary send message failure"))
    graph.script("send", stall_seconds=1.0)
    before = timezone.now()

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "queued"
    assert message.delivery_error == (
        "Messenger rate limit: Calls to this api have exceeded the rate limit. (code 613)"
    )
    assert message.next_delivery_at is not None
    assert message.next_delivery_at >= before + timedelta(seconds=120)

    message = retry_now(message, django_capture_on_commit_callbacks)
    assert message.delivery_status == "queued"
    assert message.delivery_error == (
        "Messenger did not take the message this time: Temporary send message failure (code 1200)"
    )

    message = retry_now(message, django_capture_on_commit_callbacks)
    assert message.delivery_status == "queued"
    assert message.delivery_error == "Graph API did not answer in time (127.0.0.1)."

    message = retry_now(message, django_capture_on_commit_callbacks)
    assert (message.delivery_status, message.delivery_attempts) == ("sent", 4)
    assert (message.provider_message_id, message.delivery_error) == ("m_FAKE0001", "")
    assert len(graph.calls("send")) == 4
    assert [sent.message["text"] for sent in graph.accepted] == ["It left our warehouse today."]
    assert failures(ticket) == []


def test_a_person_who_is_not_available_fails_the_reply_with_the_reason(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    graph.unavailable.add(FB.customer)

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    reason = (
        "The person cannot receive messages from the page right now (they may have blocked "
        "it, left the conversation or deactivated their account) (This person isn't available "
        "right now. (code 551, subcode 1545041))."
    )
    assert (message.delivery_status, message.delivery_error) == ("failed", reason)
    assert failures(ticket) == [reason]
    assert len(graph.calls("send")) == 1


@pytest.mark.parametrize(
    ("status_code", "body", "reason"),
    [
        pytest.param(
            400,
            graph_error(
                10, "(#10) This message is sent outside of allowed window.", subcode=2018278
            ),
            "Messenger refused to deliver it: the message is outside the messaging window (24 "
            "hours after the customer's last message, or 7 days with the HUMAN_AGENT tag) "
            "((#10) This message is sent outside of allowed window. (code 10, subcode "
            "2018278)).",
            id="outside the window at Meta",
        ),
        pytest.param(
            403,
            graph_error(10, "(#10) Application does not have permission for this action"),
            "The page is not allowed to send this message (a reply after 24 hours needs Meta's "
            "Human Agent permission for the app) ((#10) Application does not have permission "
            "for this action (code 10)).",
            id="no permission",
        ),
        pytest.param(
            403,
            graph_error(200, "(#200) The user hasn't authorized the app to perform this action"),
            "The app lacks the permission to send this message, or the person does not accept "
            "messages from the page ((#200) The user hasn't authorized the app to perform this "
            "action (code 200)).",
            id="permission 200",
        ),
        pytest.param(
            400,
            graph_error(100, "(#100) No matching user found", subcode=2018001),
            "No matching user: the recipient is not someone who wrote to this page ((#100) No "
            "matching user found (code 100, subcode 2018001)).",
            id="no matching user",
        ),
        pytest.param(
            401,
            graph_error(190, "Error validating access token: Session has expired"),
            "The account's page_access_token has expired or was revoked; update its "
            "credentials (Error validating access token: Session has expired (code 190)).",
            id="token expired",
        ),
        pytest.param(
            400,
            graph_error(100, "(#100) Param recipient[id] must be a valid ID string"),
            "Messenger refused the message: (#100) Param recipient[id] must be a valid ID "
            "string (code 100)",
            id="other refusal",
        ),
    ],
)
def test_a_permanent_refusal_fails_the_reply_after_one_request(
    ticket: Ticket,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
    status_code: int,
    body: dict[str, Any],
    reason: str,
) -> None:
    graph.script("send", status_code, body)

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert (message.delivery_status, message.delivery_error) == ("failed", reason)
    assert len(graph.calls("send")) == 1


# --- The messaging window ------------------------------------------------------------------


def test_a_reply_after_the_window_closed_is_refused_before_any_request(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = wrote(django_capture_on_commit_callbacks, timedelta(minutes=10))

    message = reply_delivered_late(
        ticket, agent, django_capture_on_commit_callbacks, timedelta(hours=24, minutes=1)
    )

    assert message.delivery_status == "failed"
    assert message.delivery_error.startswith("The 24-hour messaging window closed at ")
    assert message.delivery_error.endswith(
        "nothing can be sent until the customer writes again. An account allowed the "
        "HUMAN_AGENT tag (option human_agent_tag, which needs Meta's Human Agent permission) "
        "could still reply for up to 7 days."
    )
    assert graph.calls("send") == []
    assert failures(ticket) == [message.delivery_error]


def test_an_account_allowed_the_human_agent_tag_replies_with_it_for_seven_days(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ChannelAccount.objects.filter(pk=account.pk).update(options={"human_agent_tag": True})
    ticket = wrote(django_capture_on_commit_callbacks, timedelta(days=3))

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "sent"
    [request] = graph.calls("send")
    assert request.json() == {
        "recipient": {"id": FB.customer},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "It left our warehouse today."},
    }


def test_inside_the_window_the_tag_is_not_used(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    ChannelAccount.objects.filter(kind="messenger").update(options={"human_agent_tag": True})

    reply(ticket, agent, django_capture_on_commit_callbacks)

    assert [(sent.messaging_type, sent.tag) for sent in graph.accepted] == [("RESPONSE", "")]


def test_after_seven_days_even_the_tag_cannot_reply(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ChannelAccount.objects.filter(pk=account.pk).update(options={"human_agent_tag": True})
    ticket = wrote(django_capture_on_commit_callbacks, timedelta(days=6))

    message = reply_delivered_late(
        ticket, agent, django_capture_on_commit_callbacks, timedelta(days=7, minutes=1)
    )

    assert message.delivery_status == "failed"
    assert message.delivery_error.startswith(
        "The customer's last message is more than 7 days old: even with the HUMAN_AGENT tag"
    )
    assert graph.calls("send") == []


# --- Files ---------------------------------------------------------------------------------


def test_files_follow_the_text_each_uploaded_with_its_message(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    message = reply(
        ticket,
        agent,
        django_capture_on_commit_callbacks,
        text="Here is your invoice and the new mug.",
        attachments=[
            OutboundAttachment("invoice-1001.pdf", "application/pdf", PDF),
            OutboundAttachment("mug.png", "image/png", PNG),
        ],
    )

    assert message.delivery_status == "sent"
    text, document, image = graph.accepted
    assert text.message == {"text": "Here is your invoice and the new mug."}
    assert document.message == {"attachment": {"type": "file", "payload": {"is_reusable": False}}}
    assert document.file == {
        "filename": "invoice-1001.pdf",
        "content_type": "application/pdf",
        "content": PDF,
    }
    assert (image.message["attachment"]["type"], image.file["content"]) == ("image", PNG)
    assert {(sent.recipient, sent.messaging_type) for sent in graph.accepted} == {
        (FB.customer, "RESPONSE")
    }
    # The last part stands for the reply: its receipts move the message.
    assert message.provider_message_id == image.message_id


def test_a_retry_after_a_failure_half_way_sends_only_the_rest(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    """Sends are not idempotent: the text that already went is not sent twice when the
    photo after it hit a rate limit."""
    graph.script("send")  # the text goes through
    graph.script("send", 400, graph_error(4, "(#4) Application request limit reached"))

    message = reply(
        ticket,
        agent,
        django_capture_on_commit_callbacks,
        text="Both attached.",
        attachments=[OutboundAttachment("mug.png", "image/png", PNG)],
    )
    assert message.delivery_status == "queued"

    message = retry_now(message, django_capture_on_commit_callbacks)

    assert message.delivery_status == "sent"
    assert [("text" in sent.message) for sent in graph.accepted] == [True, False]
    assert len(graph.calls("send")) == 3
    assert message.provider_message_id == graph.accepted[-1].message_id


def test_a_file_over_messengers_limit_fails_the_reply_before_any_request(
    ticket: Ticket,
    agent: User,
    graph: FakeGraph,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 30 * 1024 * 1024
    huge = OutboundAttachment("catalog.zip", "application/zip", b"x" * (25 * 1024 * 1024 + 1))

    message = reply(ticket, agent, django_capture_on_commit_callbacks, attachments=[huge])

    assert message.delivery_status == "failed"
    assert message.delivery_error == (
        "catalog.zip is 26214401 bytes, over Messenger's limit of 25.0 MB for a file."
    )
    assert graph.calls("send") == []
