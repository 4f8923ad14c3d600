"""Replies to WhatsApp through the real delivery pipeline and the fake Graph API: what is
sent, retries that deliver exactly once, refusals with WhatsApp's reason, the 24-hour
window, files, and delivery reports that only move forward."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from channels_inbox.tasks import sweep_queued_messages_task
from helpdesk.models import User
from tests.channels_inbox.whatsapp.conftest import (
    ACCESS_TOKEN,
    ANA_WA_ID,
    PHONE_NUMBER_ID,
    change_value,
    deliver,
    status,
    text,
)
from tests.channels_inbox.whatsapp.fake_graph import VERSION, FakeGraph, graph_error
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import OutboundAttachment, add_reply

pytestmark = pytest.mark.django_db

MESSAGES_PATH = f"/{VERSION}/{PHONE_NUMBER_ID}/messages"
PDF = b"%PDF-1.7 invoice 1001"
PNG = b"\x89PNG\r\n\x1a\n a photo of the new mug"


@pytest.fixture
def ticket(account: ChannelAccount, django_capture_on_commit_callbacks: Any) -> Ticket:
    """Ana wrote ten minutes ago: the customer service window is open."""
    written = int((timezone.now() - timedelta(minutes=10)).timestamp())
    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[text("Is my parcel on its way?", timestamp=written)]),
    )
    return Ticket.objects.get()


def reply(ticket: Ticket, agent: User, capture: Any, **options: Any) -> Message:
    """Queue a reply and run what its commit triggers (the delivery, in eager Celery)."""
    options.setdefault("text", "It left our warehouse today.")
    with capture(execute=True):
        message = add_reply(ticket, author=agent, **options)
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


def test_a_reply_is_sent_as_text_to_the_wa_id_and_stores_the_wamid(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    sent = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert (sent.delivery_status, sent.provider_message_id) == ("sent", "wamid.FAKE0001")
    [request] = graph.requests
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": ANA_WA_ID,
        "type": "text",
        "text": {"preview_url": False, "body": "It left our warehouse today."},
        "biz_opaque_callback_data": f"switchboard-message-{sent.pk}",
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

    assert [item["text"]["body"] for item in graph.accepted] == ["Refund & label sent."]


def test_a_text_longer_than_whatsapp_takes_is_sent_in_pieces(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    paragraph = "word " * 900  # 4,500 characters
    sent = reply(ticket, agent, django_capture_on_commit_callbacks, text=paragraph)

    bodies = [item["text"]["body"] for item in graph.accepted]
    assert len(bodies) == 2
    assert all(len(body) <= 4096 for body in bodies)
    assert " ".join(bodies).split() == paragraph.split()
    assert sent.provider_message_id == "wamid.FAKE0002"


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
        "messages",
        429,
        graph_error(130429, "Rate limit hit", details="Cloud API message throughput reached"),
        headers={"Retry-After": "120"},
    )
    graph.script("messages", 500, graph_error(131000, "Something went wrong"))
    graph.script("messages", stall_seconds=1.0)
    before = timezone.now()

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "queued"
    assert message.delivery_error == (
        "WhatsApp rate limit: Rate limit hit: Cloud API message throughput reached (code 130429)"
    )
    assert message.next_delivery_at is not None
    assert message.next_delivery_at >= before + timedelta(seconds=120)

    message = retry_now(message, django_capture_on_commit_callbacks)
    assert message.delivery_status == "queued"
    assert message.delivery_error == (
        "WhatsApp did not take the message this time: Something went wrong (code 131000)"
    )

    message = retry_now(message, django_capture_on_commit_callbacks)
    assert message.delivery_status == "queued"
    assert message.delivery_error == "Graph API did not answer in time (127.0.0.1)."

    message = retry_now(message, django_capture_on_commit_callbacks)
    assert (message.delivery_status, message.delivery_attempts) == ("sent", 4)
    assert (message.provider_message_id, message.delivery_error) == ("wamid.FAKE0001", "")
    assert len(graph.calls("messages")) == 4
    assert [item["text"]["body"] for item in graph.accepted] == ["It left our warehouse today."]
    assert failures(ticket) == []


def test_a_recipient_not_on_whatsapp_fails_the_reply_with_the_reason(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    graph.not_on_whatsapp.add(ANA_WA_ID)

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    reason = (
        "The message cannot be delivered to this number (not on WhatsApp, an old app, or "
        "WhatsApp's terms not accepted) (Message Undeliverable.: Unable to deliver message: "
        "the recipient is not on WhatsApp. (code 131026))."
    )
    assert (message.delivery_status, message.delivery_error) == ("failed", reason)
    assert failures(ticket) == [reason]
    assert len(graph.calls("messages")) == 1


@pytest.mark.parametrize(
    ("status_code", "body", "reason"),
    [
        pytest.param(
            400,
            graph_error(100, "(#100) Invalid parameter", details="Invalid WhatsApp ID"),
            "WhatsApp refused a parameter of the message (often the recipient's number) "
            "((#100) Invalid parameter: Invalid WhatsApp ID (code 100)).",
            id="invalid recipient",
        ),
        pytest.param(
            400,
            graph_error(131047, "Re-engagement message"),
            "The 24-hour customer service window has closed; only an approved template message "
            "can reach the customer now (Re-engagement message (code 131047)).",
            id="window closed at WhatsApp",
        ),
        pytest.param(
            401,
            graph_error(190, "Error validating access token: Session has expired"),
            "The account's access_token has expired or was revoked; update its credentials "
            "(Error validating access token: Session has expired (code 190)).",
            id="token expired",
        ),
        pytest.param(
            403,
            graph_error(10, "Application does not have permission for this action"),
            "WhatsApp refused the message: Application does not have permission for this "
            "action (code 10)",
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
    graph.script("messages", status_code, body)

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert (message.delivery_status, message.delivery_error) == ("failed", reason)
    assert len(graph.calls("messages")) == 1


def test_a_pair_rate_limit_is_retried(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    graph.script(
        "messages",
        400,
        graph_error(131056, "(Business Account, Consumer Account) pair rate limit hit"),
    )

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "queued"
    assert message.delivery_error.startswith("WhatsApp rate limit: (Business Account")
    assert retry_now(message, django_capture_on_commit_callbacks).delivery_status == "sent"


# --- The 24-hour window --------------------------------------------------------------------


def test_a_reply_whose_window_closed_before_delivery_is_refused_before_any_request(
    account: ChannelAccount,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    written = timezone.now() - timedelta(hours=23, minutes=59)
    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[text("Hello?", timestamp=int(written.timestamp()))]),
    )
    ticket = Ticket.objects.get()
    requests_before = len(graph.requests)
    # Submitted inside the window; the delivery runs after it closed (a queue backlog).
    with django_capture_on_commit_callbacks() as queued:
        message = add_reply(ticket, author=agent, text="It left our warehouse today.")
    Ticket.objects.filter(pk=ticket.pk).update(
        last_customer_message_at=timezone.now() - timedelta(hours=24, minutes=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:
            callback()

    message.refresh_from_db()

    assert message.delivery_status == "failed"
    assert message.delivery_error.startswith("The 24-hour customer service window closed at ")
    assert message.delivery_error.endswith(
        "only an approved template message can be sent until the customer writes again."
    )
    assert len(graph.requests) == requests_before == 0
    assert failures(ticket) == [message.delivery_error]


def test_the_window_counts_the_customers_latest_message_on_any_of_their_tickets(
    ticket: Ticket,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The window belongs to the person and the number: an older ticket of Ana's can be
    answered while her newest message is recent."""
    older = Ticket.objects.create(
        number=9999,
        customer=ticket.customer,
        channel="whatsapp",
        channel_account=ticket.channel_account,
        status=Ticket.Status.OPEN,
        last_customer_message_at=timezone.now() - timedelta(days=3),
    )

    message = reply(older, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "sent"


# --- Files ---------------------------------------------------------------------------------


def test_files_are_uploaded_and_sent_with_the_text_as_the_first_caption(
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
    uploads = sorted(graph.uploads.values(), key=lambda upload: upload.media_id)
    assert [(u.filename, u.content_type, u.content) for u in uploads] == [
        ("invoice-1001.pdf", "application/pdf", PDF),
        ("mug.png", "image/png", PNG),
    ]
    assert all(
        u.fields == {"messaging_product": "whatsapp", "type": u.content_type} for u in uploads
    )
    document, image = graph.accepted
    assert document["type"] == "document"
    assert document["document"] == {
        "id": uploads[0].media_id,
        "caption": "Here is your invoice and the new mug.",
        "filename": "invoice-1001.pdf",
    }
    assert image["type"] == "image"
    assert image["image"] == {"id": uploads[1].media_id}
    # The last part stands for the reply: its reports move the message.
    assert message.provider_message_id == image["wamid"]


def test_text_goes_first_when_no_file_shows_a_caption(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    reply(
        ticket,
        agent,
        django_capture_on_commit_callbacks,
        text="Listen to this.",
        attachments=[OutboundAttachment("note.mp3", "audio/mpeg", b"ID3 audio")],
    )

    assert [item["type"] for item in graph.accepted] == ["text", "audio"]
    assert graph.accepted[0]["text"]["body"] == "Listen to this."


def test_a_retry_after_a_failure_half_way_sends_only_the_rest(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    """Sends are not idempotent: the photo that already went is not sent twice when the
    document after it hit the pair rate limit."""
    attachments = [
        OutboundAttachment("mug.png", "image/png", PNG),
        OutboundAttachment("invoice-1001.pdf", "application/pdf", PDF),
    ]
    graph.script("messages")  # the photo goes through
    graph.script("messages", 400, graph_error(131056, "pair rate limit hit"))

    message = reply(
        ticket,
        agent,
        django_capture_on_commit_callbacks,
        text="Both attached.",
        attachments=attachments,
    )
    assert message.delivery_status == "queued"

    message = retry_now(message, django_capture_on_commit_callbacks)

    assert message.delivery_status == "sent"
    assert [item["type"] for item in graph.accepted] == ["image", "document"]
    assert graph.accepted[0]["image"]["caption"] == "Both attached."
    assert len(graph.calls("messages")) == 3
    assert message.provider_message_id == graph.accepted[-1]["wamid"]


@pytest.mark.parametrize(
    ("attachment", "reason"),
    [
        pytest.param(
            OutboundAttachment("labels.zip", "application/zip", b"PK\x03\x04"),
            "WhatsApp cannot carry labels.zip (application/zip): WhatsApp takes images",
            id="unsupported type",
        ),
        pytest.param(
            OutboundAttachment("huge.png", "image/png", b"x" * (5 * 1024 * 1024 + 1)),
            "huge.png is 5242881 bytes, over WhatsApp's limit for a image (5 MB).",
            id="image over 5 MB",
        ),
    ],
)
def test_a_file_whatsapp_cannot_take_fails_the_reply_before_any_request(
    ticket: Ticket,
    agent: User,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
    attachment: OutboundAttachment,
    reason: str,
) -> None:
    message = reply(ticket, agent, django_capture_on_commit_callbacks, attachments=[attachment])

    assert message.delivery_status == "failed"
    assert message.delivery_error.startswith(reason)
    assert graph.calls("messages") == graph.calls("upload") == []


# --- Delivery reports ----------------------------------------------------------------------


def report(capture: Any, wamid: str, state: str, **extra: Any) -> None:
    deliver(capture, change_value(statuses=[status(wamid, state, **extra)]))


def test_reports_only_move_a_reply_forward(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    """read may arrive before delivered; a late delivered or failed never undoes read."""
    capture = django_capture_on_commit_callbacks
    message = reply(ticket, agent, capture)
    wamid = message.provider_message_id

    report(capture, wamid, "read")
    message.refresh_from_db()
    assert message.delivery_status == "read"

    report(capture, wamid, "delivered")
    report(capture, wamid, "sent")
    report(capture, wamid, "failed", errors=[{"code": 131026, "title": "Undeliverable"}])

    message.refresh_from_db()
    assert message.delivery_status == "read"
    assert failures(ticket) == []


def test_a_failed_report_fails_the_reply_with_whatsapps_reason(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    message = reply(ticket, agent, capture)
    report(capture, message.provider_message_id, "delivered")

    report(
        capture,
        message.provider_message_id,
        "failed",
        errors=[
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number."
                },
            }
        ],
    )

    message.refresh_from_db()
    reason = (
        "Re-engagement message: Message failed to send because more than 24 hours have passed "
        "since the customer last replied to this number. (code 131047)"
    )
    assert (message.delivery_status, message.delivery_error) == ("failed", reason)
    assert failures(ticket) == [reason]

    report(capture, message.provider_message_id, "read")
    message.refresh_from_db()
    assert message.delivery_status == "failed"


def test_a_voice_message_played_counts_as_read(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    report(django_capture_on_commit_callbacks, message.provider_message_id, "played")

    message.refresh_from_db()
    assert message.delivery_status == "read"


def test_a_report_about_a_message_we_did_not_send_changes_nothing(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    report(django_capture_on_commit_callbacks, "wamid.SENT_FROM_THE_PHONE_APP", "read")

    message.refresh_from_db()
    assert message.delivery_status == "sent"
