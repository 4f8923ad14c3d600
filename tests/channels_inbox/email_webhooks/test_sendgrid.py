"""SendGrid Inbound Parse posts: multipart behind a secret URL, parsed fields in their own
charsets, or the raw message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from channels_inbox.email.parsing import parse_email
from channels_inbox.models import ChannelAccount, InboundEvent
from tests.channels_inbox.email_webhooks.conftest import (
    ADDRESS,
    Field,
    events,
    multipart,
    post,
    sendgrid_url,
)
from tickets.models import Message, Ticket

HEADERS = (
    "Received: by mx0047p1mdw1.sendgrid.net with SMTP id 6WCVv7KAWn\r\n"
    "MIME-Version: 1.0\r\n"
    "From: =?iso-8859-1?q?Jos=E9_Pe=F1a?= <jose@example.es>\r\n"
    f"To: {ADDRESS}\r\n"
    "Subject: =?iso-8859-1?q?Devoluci=F3n_del_pedido_1003?=\r\n"
    "Message-ID: <sg-3003@example.es>\r\n"
    "Date: Thu, 01 Jan 2026 12:00:00 +0100\r\n"
    'Content-Type: multipart/mixed; boundary="000000000000old"\r\n'
)
TEXT = "Hola,\r\nquiero devolver el pedido. ¿Cómo lo envío?\r\n\r\nJosé\r\n"
HTML = '<p>Hola, quiero devolver el pedido. ¿Cómo lo envío?</p><img src="cid:ii_lbl1">'
LABEL = b"\x89PNG\r\n\x1a\nlabel"
CSV = "pedido;artículo\r\n1003;botas\r\n".encode("cp1252")


def parsed_fields(*, text_charset: str = "iso-8859-1") -> list[Field]:
    return [
        ("headers", HEADERS.encode()),
        ("dkim", b"{@example.es : pass}"),
        ("content-ids", json.dumps({"ii_lbl1": "attachment2"}).encode()),
        ("to", ADDRESS.encode()),
        ("html", HTML.encode("utf-8")),
        ("from", "José Peña <jose@example.es>".encode("iso-8859-1")),
        ("text", TEXT.encode(text_charset)),
        ("sender_ip", b"209.85.223.170"),
        ("envelope", json.dumps({"to": [ADDRESS], "from": "jose@example.es"}).encode()),
        ("attachments", b"2"),
        ("subject", "Devolución del pedido 1003".encode("iso-8859-1")),
        (
            "attachment-info",
            json.dumps(
                {
                    "attachment1": {
                        "filename": "pedido.csv",
                        "name": "pedido.csv",
                        "type": "text/csv",
                    },
                    "attachment2": {
                        "filename": "label.png",
                        "name": "label.png",
                        "type": "image/png",
                        "content-id": "ii_lbl1",
                    },
                }
            ).encode(),
        ),
        (
            "charsets",
            json.dumps(
                {
                    "to": "UTF-8",
                    "html": "UTF-8",
                    "subject": "iso-8859-1",
                    "from": "iso-8859-1",
                    "text": text_charset,
                }
            ).encode(),
        ),
        ("SPF", b"pass"),
        ("attachment1", CSV, "pedido.csv", "text/csv"),
        ("attachment2", LABEL, "label.png", "image/png"),
    ]


def send(capture: Any, fields: list[Field], url: str | None = None) -> Any:
    body, content_type = multipart(fields)
    return post(capture, url or sendgrid_url(), body, content_type)


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252", "utf-8"])
def test_parsed_post_becomes_a_ticket_message_in_its_charsets(
    sendgrid_account: ChannelAccount, django_capture_on_commit_callbacks: Any, charset: str
) -> None:
    response = send(django_capture_on_commit_callbacks, parsed_fields(text_charset=charset))

    assert response.status_code == 200
    [event] = events()
    assert event.external_id == f"sg-3003@example.es:{ADDRESS}"
    assert event.headers == {
        "source": "sendgrid",
        "rcpt_tos": ADDRESS,
        "mail_from": "jose@example.es",
    }
    assert event.status == InboundEvent.Status.PROCESSED
    ticket = Ticket.objects.get()
    assert ticket.subject == "Devolución del pedido 1003"
    assert ticket.customer.email == "jose@example.es"
    message = ticket.messages.get()
    assert message.text == "Hola,\nquiero devolver el pedido. ¿Cómo lo envío?\n\nJosé"
    stored = {item.name: item for item in message.attachments.all()}
    assert sorted(stored) == ["label.png", "original.eml", "pedido.csv"]
    assert stored["pedido.csv"].file.read() == CSV
    assert stored["label.png"].file.read() == LABEL
    assert stored["label.png"].content_id == "ii_lbl1"
    raw = bytes(event.payload)
    # The original header lines travel unchanged, minus the old body's Content-Type.
    assert b"Subject: =?iso-8859-1?q?Devoluci=F3n_del_pedido_1003?=\r\n" in raw
    assert b"000000000000old" not in raw
    assert parse_email(raw).from_name == "José Peña"


def test_raw_email_field_is_stored_as_sent(
    sendgrid_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    raw = (
        b"From: Jose <jose@example.es>\r\nTo: support@shop.test\r\n"
        b"Subject: Pregunta\r\nMessage-ID: <sg-raw@example.es>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n"
        b"\r\n\xbfD\xf3nde est\xe1 mi pedido?\r\n"
    )
    fields: list[Field] = [
        ("email", raw),
        ("envelope", json.dumps({"to": [ADDRESS], "from": "jose@example.es"}).encode()),
        ("charsets", json.dumps({"to": "UTF-8", "from": "UTF-8"}).encode()),
    ]

    response = send(django_capture_on_commit_callbacks, fields)

    assert response.status_code == 200
    [event] = events()
    assert bytes(event.payload) == raw
    assert Message.objects.get().text == "¿Dónde está mi pedido?"


def test_redelivery_stores_nothing_new(
    sendgrid_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    answers = [send(django_capture_on_commit_callbacks, parsed_fields()).status_code for _ in "ab"]

    assert answers == [200, 200]
    assert len(events()) == 1
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        pytest.param([("envelope", b"{oops")], "envelope is not JSON", id="envelope json"),
        pytest.param(
            [("envelope", b'{"to": [1]}'), ("from", b"a@b.c")],
            "envelope.to is not a list",
            id="envelope to",
        ),
        pytest.param(
            [("envelope", b'{"to": ["s@shop.test"], "from": 5}'), ("from", b"a@b.c")],
            "envelope.from",
            id="envelope from",
        ),
        pytest.param([("text", b"hello")], "no recipient", id="no recipient"),
        pytest.param(
            [("to", ADDRESS.encode()), ("text", b"hello")],
            "neither email, headers nor from",
            id="nothing to rebuild",
        ),
        pytest.param(
            [("to", ADDRESS.encode()), ("from", b"a@b.c"), ("charsets", b"[]")],
            "charsets is not a JSON dict",
            id="charsets",
        ),
    ],
)
def test_unreadable_post_answers_400_and_stores_nothing(
    sendgrid_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    fields: list[Field],
    error: str,
) -> None:
    response = send(django_capture_on_commit_callbacks, fields)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert events() == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"to=support%40shop.test", "application/json", id="json"),
        pytest.param(b"garbage", "multipart/form-data; boundary=nothere", id="no parts"),
        pytest.param(b"garbage", "multipart/form-data", id="no boundary"),
    ],
)
def test_body_that_is_no_form_answers_400(
    sendgrid_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    body: bytes,
    content_type: str,
) -> None:
    response = post(django_capture_on_commit_callbacks, sendgrid_url(), body, content_type)

    assert response.status_code == 400
    assert events() == []
