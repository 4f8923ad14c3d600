"""Postmark inbound posts: JSON behind a secret URL, parsed fields or RawEmail."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from channels_inbox.models import ChannelAccount, InboundEvent
from tests.channels_inbox.email_webhooks.conftest import ADDRESS, events, post, postmark_url
from tickets.models import Message, Ticket

JSON = "application/json"
PDF = b"%PDF-1.7\n\x00\xff binary \r\n"
GIF = b"GIF89a\x01\x00\x01\x00\x00\xff\x00,"


def payload(**overrides: Any) -> dict[str, Any]:
    """A Postmark inbound post (field names as Postmark documents them)."""
    data: dict[str, Any] = {
        "FromName": "Ana Souza",
        "MessageStream": "inbound",
        "From": "ana@example.com",
        "FromFull": {"Email": "ana@example.com", "Name": "Ana Souza", "MailboxHash": ""},
        "To": f'"Shop Support" <{ADDRESS}>',
        "ToFull": [{"Email": ADDRESS, "Name": "Shop Support", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": ADDRESS,
        "Subject": "Wrong size — need a swap",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Thu, 1 Jan 2026 12:00:00 +0000",
        "TextBody": "Hi,\n\nthe shoes are too small. Photo attached.\n\nAna",
        "HtmlBody": '<p>Hi,</p><p>the shoes are too small.</p><img src="cid:photo@example.com">',
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "Message-ID", "Value": "<pm-2002@mail.example.com>"},
            {"Name": "MIME-Version", "Value": "1.0"},
            {"Name": "Content-Type", "Value": 'multipart/mixed; boundary="old-boundary"'},
        ],
        "Attachments": [
            {
                "Name": "receipt.pdf",
                "Content": base64.b64encode(PDF).decode(),
                "ContentType": "application/pdf",
                "ContentLength": len(PDF),
                "ContentID": "",
            },
            {
                "Name": "photo.gif",
                "Content": base64.b64encode(GIF).decode(),
                "ContentType": "image/gif",
                "ContentLength": len(GIF),
                "ContentID": "photo@example.com",
            },
        ],
    }
    data.update(overrides)
    return data


def send(capture: Any, data: Any, url: str | None = None) -> Any:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return post(capture, url or postmark_url(), body, JSON)


def test_json_post_becomes_a_ticket_message_with_attachments(
    postmark_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    response = send(django_capture_on_commit_callbacks, payload())

    assert response.status_code == 200
    [event] = events()
    assert event.external_id == f"pm-2002@mail.example.com:{ADDRESS}"
    # Postmark says nothing of the envelope sender, and no Return-Path came with this post.
    assert event.headers == {"source": "postmark", "rcpt_tos": ADDRESS}
    assert event.status == InboundEvent.Status.PROCESSED
    ticket = Ticket.objects.get()
    assert ticket.subject == "Wrong size — need a swap"
    assert ticket.customer.email == "ana@example.com"
    message = ticket.messages.get()
    assert message.provider_message_id == "pm-2002@mail.example.com"
    assert message.text == "Hi,\n\nthe shoes are too small. Photo attached.\n\nAna"
    stored = {item.name: item for item in message.attachments.all()}
    assert sorted(stored) == ["original.eml", "photo.gif", "receipt.pdf"]
    assert stored["receipt.pdf"].file.read() == PDF
    assert stored["photo.gif"].file.read() == GIF
    assert stored["photo.gif"].content_id == "photo@example.com"
    raw = bytes(event.payload)
    assert b"X-Spam-Status: No\r\n" in raw
    assert b"old-boundary" not in raw


def test_raw_email_is_stored_as_sent(
    postmark_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    raw = (
        "From: Bea <bea@example.org>\r\nTo: support@shop.test\r\nSubject: Troca\r\n"
        "Message-ID: <pm-raw@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "\r\nQuero trocar, obrigada.\r\n"
    )

    response = send(django_capture_on_commit_callbacks, payload(RawEmail=raw))

    assert response.status_code == 200
    [event] = events()
    assert bytes(event.payload) == raw.encode()
    assert Message.objects.get().text == "Quero trocar, obrigada."


def test_empty_return_path_marks_the_mail_automated(
    postmark_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """A null envelope sender is how bounces arrive: with no ticket to record it on, it
    opens none."""
    headers = [*payload()["Headers"], {"Name": "Return-Path", "Value": "<>"}]

    response = send(django_capture_on_commit_callbacks, payload(Headers=headers))

    assert response.status_code == 200
    [event] = events()
    assert event.headers["mail_from"] == ""
    assert Ticket.objects.count() == 0


def test_redelivery_stores_nothing_new(
    postmark_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    answers = [send(django_capture_on_commit_callbacks, payload()).status_code for _ in "ab"]

    assert answers == [200, 200]
    assert len(events()) == 1
    assert Message.objects.count() == 1


def test_redelivery_of_a_mail_without_message_id_stores_nothing_new(
    postmark_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Without a Message-ID the key is a digest of the rebuilt mail, which must come out
    the same each time."""
    data = payload(Headers=[{"Name": "X-Spam-Status", "Value": "No"}])

    answers = [send(django_capture_on_commit_callbacks, data).status_code for _ in "ab"]

    assert answers == [200, 200]
    [event] = events()
    assert event.external_id.startswith("sha256:")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(b"{not json", "not JSON", id="json"),
        pytest.param(b"[1, 2]", "not a JSON object", id="array"),
        pytest.param(
            json.dumps(payload(From="", FromFull=None)).encode(), "From missing", id="no from"
        ),
        pytest.param(
            json.dumps(payload(OriginalRecipient="", ToFull=[], To="")).encode(),
            "no recipient",
            id="no recipient",
        ),
        pytest.param(
            json.dumps(payload(Attachments=[{"Name": "a", "Content": "%%%"}])).encode(),
            "attachment 1 is not base64",
            id="base64",
        ),
        pytest.param(
            json.dumps(payload(Attachments={"Name": "a"})).encode(),
            "Attachments is not a list",
            id="attachments",
        ),
        pytest.param(
            json.dumps(payload(Headers=[["Message-ID", "<x@y>"]])).encode(),
            "Headers holds something other",
            id="headers",
        ),
        pytest.param(json.dumps(payload(Subject=7)).encode(), "Subject is not a string", id="type"),
    ],
)
def test_unreadable_post_answers_400_and_stores_nothing(
    postmark_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    body: bytes,
    error: str,
) -> None:
    response = send(django_capture_on_commit_callbacks, body)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert events() == []
