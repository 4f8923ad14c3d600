"""Mailgun route posts: signed, url-encoded or multipart, parsed fields or raw MIME; each
stored as one raw mail and turned into a ticket message by the real pipeline."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from channels_inbox.email.webhook_payloads import FormValue
from channels_inbox.email.webhooks import SignatureError, verify_mailgun
from channels_inbox.models import ChannelAccount, InboundEvent
from tests.channels_inbox.email_webhooks.conftest import (
    ADDRESS,
    events,
    mailgun_signed,
    mailgun_url,
    multipart,
    post,
)
from tickets.models import Message, Ticket

URLENCODED = "application/x-www-form-urlencoded"


def parsed_fields(**overrides: str) -> dict[str, str]:
    """The fully parsed fields of a forward() route, headers as Mailgun lists them."""
    headers = [
        ["Received", "from mail.example.com by mxa.mailgun.org with ESMTP"],
        ["Mime-Version", "1.0"],
        ["Content-Type", 'multipart/alternative; boundary="000000000000abcdef"'],
        ["Message-Id", "<CAF+mg-1001@mail.example.com>"],
        ["From", "Ana Souza <ana@example.com>"],
        ["To", ADDRESS],
        ["Subject", "Pedido #1001 chegou danificado — ajuda"],
        ["Date", "Thu, 01 Jan 2026 12:00:00 +0000"],
    ]
    fields = {
        "recipient": ADDRESS,
        "sender": "ana@example.com",
        "from": "Ana Souza <ana@example.com>",
        "subject": "Pedido #1001 chegou danificado — ajuda",
        "body-plain": "Olá,\r\na caixa chegou amassada.\r\n\r\nAna\r\n",
        "body-html": "<p>Olá,</p><p>a caixa chegou amassada.</p><p>Ana</p>",
        "stripped-text": "Olá,\r\na caixa chegou amassada.",
        "message-headers": json.dumps(headers),
    }
    fields.update(overrides)
    return fields


def urlencoded(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def test_url_encoded_post_becomes_a_ticket_message(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    fields = {**parsed_fields(), **mailgun_signed()}

    response = post(
        django_capture_on_commit_callbacks, mailgun_url(), urlencoded(fields), URLENCODED
    )

    assert response.status_code == 200
    [event] = events()
    assert event.external_id == f"CAF+mg-1001@mail.example.com:{ADDRESS}"
    assert event.headers == {
        "source": "mailgun",
        "rcpt_tos": ADDRESS,
        "mail_from": "ana@example.com",
    }
    assert event.status == InboundEvent.Status.PROCESSED
    ticket = Ticket.objects.get()
    assert ticket.subject == "Pedido #1001 chegou danificado — ajuda"
    assert ticket.customer.email == "ana@example.com"
    message = ticket.messages.get()
    assert message.provider_message_id == "CAF+mg-1001@mail.example.com"
    assert message.text == "Olá,\na caixa chegou amassada.\n\nAna"
    assert "a caixa chegou amassada." in message.html
    assert message.threading_reason == Message.ThreadingReason.NEW_CONVERSATION
    raw = bytes(event.payload)
    assert b"Received: from mail.example.com by mxa.mailgun.org" in raw
    assert b"000000000000abcdef" not in raw  # the old body's Content-Type is not carried over


def test_multipart_post_keeps_attachments_and_inline_images(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    pdf = b"%PDF-1.4\r\n\x00\x01binary\rbytes\n\xff\xfe end\r\n"
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR tiny"
    fields = parsed_fields(
        **{
            "body-html": '<p>Foto:</p><img src="cid:foto1@mail.example.com">',
            "attachment-count": "2",
            "content-id-map": json.dumps({"<foto1@mail.example.com>": "attachment-2"}),
        }
    )
    form: list[Any] = [(name, value.encode()) for name, value in fields.items()]
    form += [(name, value.encode()) for name, value in mailgun_signed().items()]
    form.append(("attachment-1", pdf, "nota fiscal ç.pdf", "application/pdf"))
    form.append(("attachment-2", png, "foto.png", "image/png"))
    body, content_type = multipart(form)

    response = post(django_capture_on_commit_callbacks, mailgun_url(), body, content_type)

    assert response.status_code == 200
    message = Message.objects.get()
    stored = {item.name: item for item in message.attachments.all()}
    # Stored under a file-system-safe name (spaces become underscores).
    assert sorted(stored) == ["foto.png", "nota_fiscal_ç.pdf", "original.eml"]
    assert stored["nota_fiscal_ç.pdf"].content_type == "application/pdf"
    assert stored["nota_fiscal_ç.pdf"].file.read() == pdf
    assert stored["foto.png"].content_type == "image/png"
    assert stored["foto.png"].file.read() == png
    assert stored["foto.png"].content_id == "foto1@mail.example.com"
    assert "cid:foto1@mail.example.com" in message.html


def test_raw_mime_post_is_stored_as_sent(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    raw = (
        b"From: Bea Lima <bea@example.org>\r\nTo: support@shop.test\r\n"
        b"Subject: =?utf-8?q?Troca_de_tamanho?=\r\nMessage-ID: <raw-1@example.org>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Quero trocar o tamanho.\r\n"
    )
    fields = {"recipient": ADDRESS, "sender": "bea@example.org", **mailgun_signed()}
    form = [(name, value.encode()) for name, value in fields.items()] + [("body-mime", raw)]
    body, content_type = multipart(form)

    response = post(django_capture_on_commit_callbacks, mailgun_url(), body, content_type)

    assert response.status_code == 200
    [event] = events()
    assert bytes(event.payload) == raw
    assert event.external_id == f"raw-1@example.org:{ADDRESS}"
    message = Message.objects.get()
    assert message.ticket.subject == "Troca de tamanho"
    assert message.text == "Quero trocar o tamanho."


def test_known_signature_vector_verifies(mailgun_account: ChannelAccount) -> None:
    fields = {
        "timestamp": FormValue(b"1767225600"),
        "token": FormValue(b"9f2c1e0b7d4a4f3e8a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"),
        "signature": FormValue(b"00f5fe390ed5afeee9dca47df354db22f6301f9e3a92cf8d9537e37479090676"),
    }

    key = verify_mailgun(
        fields, "test-signing-key", account=mailgun_account, now=lambda: 1767225600 + 30
    )

    assert key.startswith(f"mailgun-token:{mailgun_account.pk}:")
    with pytest.raises(SignatureError, match="token already used"):
        verify_mailgun(
            fields, "test-signing-key", account=mailgun_account, now=lambda: 1767225600 + 31
        )


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param({**mailgun_signed("another-key")}, id="other key"),
        pytest.param({"timestamp": "1", "token": "t", "signature": "0" * 64}, id="forged"),
        pytest.param({"timestamp": str(int(time.time())), "token": "abc"}, id="no signature"),
        pytest.param({}, id="unsigned"),
        pytest.param({**mailgun_signed(), "signature": "ü" * 64}, id="non-ascii signature"),
    ],
)
def test_bad_signature_is_refused_with_406_and_nothing_stored(
    mailgun_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    signature: dict[str, str],
) -> None:
    fields = {**parsed_fields(), **signature}

    response = post(
        django_capture_on_commit_callbacks, mailgun_url(), urlencoded(fields), URLENCODED
    )

    assert response.status_code == 406
    assert events() == []
    assert Ticket.objects.count() == 0


# Offsets keep a margin past each edge: the signed timestamp is whole seconds while the
# check runs on a fractional clock, so 61 s ahead can be 60.1 s ahead by the time it is read.
@pytest.mark.parametrize("offset", [-310, -3600, 70, 3600])
def test_timestamp_outside_the_window_is_refused(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any, offset: int
) -> None:
    fields = {**parsed_fields(), **mailgun_signed(timestamp=int(time.time()) + offset)}

    response = post(
        django_capture_on_commit_callbacks, mailgun_url(), urlencoded(fields), URLENCODED
    )

    assert response.status_code == 406
    assert events() == []


def test_timestamp_inside_the_window_is_accepted(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    fields = {**parsed_fields(), **mailgun_signed(timestamp=int(time.time()) - 290)}

    response = post(
        django_capture_on_commit_callbacks, mailgun_url(), urlencoded(fields), URLENCODED
    )

    assert response.status_code == 200
    assert len(events()) == 1


def test_reused_token_is_refused(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    signature = mailgun_signed()
    first = post(
        django_capture_on_commit_callbacks,
        mailgun_url(),
        urlencoded({**parsed_fields(), **signature}),
        URLENCODED,
    )
    other_mail = parsed_fields(**{"message-headers": json.dumps([["From", "x@example.com"]])})

    replay = post(
        django_capture_on_commit_callbacks,
        mailgun_url(),
        urlencoded({**other_mail, **signature}),
        URLENCODED,
    )

    assert (first.status_code, replay.status_code) == (200, 406)
    assert len(events()) == 1


def test_redelivery_with_a_new_token_stores_nothing_new(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    answers = [
        post(
            django_capture_on_commit_callbacks,
            mailgun_url(),
            urlencoded({**parsed_fields(), **mailgun_signed()}),
            URLENCODED,
        ).status_code
        for _ in range(2)
    ]

    assert answers == [200, 200]
    assert len(events()) == 1
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param({"message-headers": "[not json"}, "message-headers is not JSON", id="json"),
        pytest.param(
            {"message-headers": json.dumps([["From"]])}, "pairs", id="header without value"
        ),
        pytest.param(
            {"message-headers": json.dumps({"From": "a@b"})}, "not a JSON list", id="object"
        ),
        pytest.param({"recipient": ""}, "recipient missing", id="no recipient"),
        pytest.param(
            {"content-id-map": "[1, 2]"}, "content-id-map is not a JSON dict", id="cid map"
        ),
    ],
)
def test_unreadable_fields_answer_400_and_store_nothing(
    mailgun_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    change: dict[str, str],
    error: str,
) -> None:
    fields = {**parsed_fields(**change), **mailgun_signed()}

    response = post(
        django_capture_on_commit_callbacks, mailgun_url(), urlencoded(fields), URLENCODED
    )

    assert response.status_code == 400
    assert error in response.content.decode()
    assert events() == []


def test_token_of_a_refused_body_can_be_used_again(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Mailgun may post the same signed mail again once the body is fixed on our side."""
    signature = mailgun_signed()
    bad = post(
        django_capture_on_commit_callbacks,
        mailgun_url(),
        urlencoded({**parsed_fields(recipient=""), **signature}),
        URLENCODED,
    )

    good = post(
        django_capture_on_commit_callbacks,
        mailgun_url(),
        urlencoded({**parsed_fields(), **signature}),
        URLENCODED,
    )

    assert (bad.status_code, good.status_code) == (400, 200)


def test_json_body_is_not_a_mailgun_route_post(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    response = post(
        django_capture_on_commit_callbacks,
        mailgun_url(),
        json.dumps({"event-data": {"event": "delivered"}}).encode(),
        "application/json",
    )

    assert response.status_code == 400
    assert events() == []


def test_post_without_message_headers_is_rebuilt_from_its_fields(
    mailgun_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    fields = {
        "recipient": ADDRESS,
        "sender": "ana@example.com",
        "from": "Ana Souza <ana@example.com>",
        "subject": "Nota fiscal",
        "Message-Id": "<mg-fields@mail.example.com>",
        "body-plain": "Preciso da nota fiscal.",
        **mailgun_signed(),
    }

    response = post(
        django_capture_on_commit_callbacks, mailgun_url(), urlencoded(fields), URLENCODED
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.provider_message_id == "mg-fields@mail.example.com"
    assert message.ticket.subject == "Nota fiscal"
    assert message.text == "Preciso da nota fiscal."
    assert message.ticket.customer.email == "ana@example.com"
