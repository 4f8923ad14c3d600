"""The email built for an outbound reply: headers, subject, parts and attachments."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from channels_inbox.email.outbound import (
    REPLY_MARKER,
    build_email,
    outbound_message_id,
    reply_subject,
)
from channels_inbox.email.tokens import read_reply_address
from channels_inbox.models import ChannelAccount
from tests.channels_inbox.email_adapter.factories import email_account_row, outbound_message
from tickets.services import OutboundAttachment

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def account(db: None) -> ChannelAccount:
    return email_account_row()


def reparse(email: EmailMessage) -> EmailMessage:
    """What the recipient's mail client reads: the bytes on the wire, parsed again."""
    raw = email.as_bytes()
    raw.decode("ascii")  # every header and part is 7-bit clean on the wire
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_agent_reply_headers(account: ChannelAccount) -> None:
    """An agent's reply carries every threading header and no automatic-mail header."""
    email = reparse(build_email(account, outbound_message(), now=NOW))

    assert email["From"] == "Acme Support <support@acme.test>"
    assert email["To"] == "Ana Souza <ana@example.com>"
    assert email["Subject"] == "Re: Order #1001 arrived damaged [#1234]"
    assert email["Message-ID"] == f"<{outbound_message_id(account, 42)}>"
    assert email["In-Reply-To"] == "<CAF=xy12+ab@mail.gmail.com>"
    assert email["References"] == "<CAF=xy12+ab@mail.gmail.com>"
    assert email["Date"] == "Thu, 01 Jan 2026 12:00:00 +0000"
    assert email["X-Loop"] == "support@acme.test"
    assert email["MIME-Version"] == "1.0"
    assert email["Auto-Submitted"] is None
    assert email["X-Auto-Response-Suppress"] is None
    assert read_reply_address(str(email["Reply-To"]), "support@acme.test") == 1234


def test_message_id_is_deterministic_per_message(account: ChannelAccount) -> None:
    """A retried send keeps its Message-ID, so the customer sees one message."""
    first = build_email(account, outbound_message(), now=NOW)
    again = build_email(account, outbound_message(text="edited"), now=NOW)
    other = build_email(account, outbound_message(message_id=43), now=NOW)

    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"] != other["Message-ID"]
    assert outbound_message_id(account, 42).startswith("sb.m42.")
    assert outbound_message_id(account, 42).endswith("@acme.test")
    assert len(outbound_message_id(account, 42)) == len("sb.m42.@acme.test") + 8


def test_message_id_differs_between_mailboxes_and_lowercases_the_domain(db: None) -> None:
    support = email_account_row()
    sales = email_account_row(slug="sales", address="Sales@ACME.test")

    assert outbound_message_id(sales, 42).endswith("@acme.test")
    assert outbound_message_id(sales, 42) != outbound_message_id(support, 42)


def test_references_keep_the_root_and_the_last_ten(account: ChannelAccount) -> None:
    """Long threads do not grow the header without bound (RFC 5322 keeps the first id)."""
    ids = tuple(f"id{n}@mail.example" for n in range(1, 16))

    email = reparse(build_email(account, outbound_message(thread_provider_ids=ids), now=NOW))

    expected = ["id1@mail.example"] + [f"id{n}@mail.example" for n in range(6, 16)]
    assert email["References"] == " ".join(f"<{value}>" for value in expected)
    assert email["In-Reply-To"] == "<id15@mail.example>"


def test_references_leave_out_ids_that_are_not_message_ids(account: ChannelAccount) -> None:
    """A merged ticket may hold WhatsApp ids; they are not email Message-IDs."""
    ids = (
        "wamid.HBgLMTQxNTU1NTAxMDA",
        "<a@x.example>",
        "a@x.example",
        "b c@y",
        "0f3a@no-message-id.invalid",
        "b@y.example",
    )

    email = reparse(build_email(account, outbound_message(thread_provider_ids=ids), now=NOW))

    assert email["References"] == "<a@x.example> <b@y.example>"
    assert email["In-Reply-To"] == "<b@y.example>"


def test_first_message_on_a_ticket_is_not_a_reply(account: ChannelAccount) -> None:
    email = reparse(build_email(account, outbound_message(thread_provider_ids=()), now=NOW))

    assert email["In-Reply-To"] is None
    assert email["References"] is None
    assert email["Subject"] == "Order #1001 arrived damaged [#1234]"


def test_automatic_mail_is_marked_auto_submitted(account: ChannelAccount) -> None:
    """RFC 3834: auto-acknowledgements say so, and ask Exchange not to answer them."""
    email = reparse(build_email(account, outbound_message(is_automatic=True), now=NOW))

    assert email["Auto-Submitted"] == "auto-replied"
    assert email["X-Auto-Response-Suppress"] == "All"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Order #1001", "Re: Order #1001 [#1234]"),
        ("Re: Order #1001", "Re: Order #1001 [#1234]"),
        ("RE: re: Order #1001", "Re: Order #1001 [#1234]"),
        ("AW: Bestellung", "Re: Bestellung [#1234]"),
        ("SV: Re[2]: Beställning", "Re: Beställning [#1234]"),
        ("Re: Order #1001 [#1234]", "Re: Order #1001 [#1234]"),
        ("[#1234] Order #1001", "Re: [#1234] Order #1001"),
        ("Order [#999]", "Re: Order [#999] [#1234]"),
        ("Fwd: the invoice", "Re: Fwd: the invoice [#1234]"),
        ("Return request", "Re: Return request [#1234]"),
        ("", "Re: [#1234]"),
        ("  spaced \r\n  out\t", "Re: spaced out [#1234]"),
    ],
)
def test_reply_subject_has_one_re_and_one_tag(subject: str, expected: str) -> None:
    assert reply_subject(subject, 1234, is_reply=True) == expected


def test_non_ascii_subject_and_names_are_encoded(db: None) -> None:
    account = email_account_row(name="Loja Açaí Suporte")
    outbound = outbound_message(subject="Pedido não chegou — 包裹", to_name="José Müller")

    built = build_email(account, outbound, now=NOW)
    raw = built.as_bytes()
    email = reparse(built)

    assert b"=?utf-8?" in raw
    assert email["Subject"] == "Re: Pedido não chegou — 包裹 [#1234]"
    assert email["From"].addresses[0].display_name == "Loja Açaí Suporte"
    assert email["To"].addresses[0].display_name == "José Müller"


def test_line_breaks_in_subject_and_names_cannot_add_headers(db: None) -> None:
    account = email_account_row(name="Acme\r\nBcc: victim@evil.test")
    outbound = outbound_message(subject="Hi\r\nBcc: victim@evil.test", to_name="Ana\nX-Injected: 1")

    email = reparse(build_email(account, outbound, now=NOW))

    assert email["Bcc"] is None
    assert email["X-Injected"] is None
    assert email["Subject"] == "Re: Hi Bcc: victim@evil.test [#1234]"


def test_text_and_html_parts_start_with_the_reply_marker(account: ChannelAccount) -> None:
    """The parser cuts the customer's answer at the marker; text becomes escaped paragraphs."""
    outbound = outbound_message(text="Hello <Ana> & co,\n\nLine one\nLine two")

    email = reparse(build_email(account, outbound, now=NOW))

    assert email.get_content_type() == "multipart/alternative"
    text = email.get_body(preferencelist=("plain",))
    html = email.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    # CRLF on the wire, as SMTP requires.
    assert (
        text.get_content().replace("\r\n", "\n")
        == f"{REPLY_MARKER}\n\nHello <Ana> & co,\n\nLine one\nLine two\n"
    )
    html_content = html.get_content()
    assert html_content.index(REPLY_MARKER) < html_content.index("Hello")
    assert "<p>Hello &lt;Ana&gt; &amp; co,</p>" in html_content
    assert "<p>Line one<br>Line two</p>" in html_content


def test_html_part_uses_the_reply_html(account: ChannelAccount) -> None:
    outbound = outbound_message(text="Plain version", html="<p><strong>Rich</strong> version</p>")

    email = reparse(build_email(account, outbound, now=NOW))

    html = email.get_body(preferencelist=("html",))
    assert html is not None
    assert "<p><strong>Rich</strong> version</p>" in html.get_content()
    assert "Plain version" not in html.get_content()


def test_attachments_are_attached(account: ChannelAccount) -> None:
    attachments = (
        OutboundAttachment("label.pdf", "application/pdf", b"%PDF-1.4 fake"),
        OutboundAttachment("résumé €.csv", "text/csv", "a;b\n1;€\n".encode()),
        OutboundAttachment("blob", "", b"\x00\x01\x02"),
        OutboundAttachment("weird", "not a type", b"x"),
        OutboundAttachment(
            "forwarded.eml", "message/rfc822", b"From: a@b.example\r\nSubject: old\r\n\r\nbody\r\n"
        ),
    )

    email = reparse(build_email(account, outbound_message(attachments=attachments), now=NOW))

    assert email.get_content_type() == "multipart/mixed"
    parts = list(email.iter_attachments())
    assert [part.get_filename() for part in parts] == [
        "label.pdf",
        "résumé €.csv",
        "blob",
        "weird",
        "forwarded.eml",
    ]
    assert [part.get_content_type() for part in parts] == [
        "application/pdf",
        "text/csv",
        "application/octet-stream",
        "application/octet-stream",
        "message/rfc822",
    ]
    assert parts[0].get_payload(decode=True) == b"%PDF-1.4 fake"
    assert parts[1].get_payload(decode=True) == "a;b\n1;€\n".encode()
    assert parts[2].get_payload(decode=True) == b"\x00\x01\x02"
    assert parts[4].get_content()["Subject"] == "old"


@pytest.mark.parametrize("to_address", ["", "ana", "ana@", "@example.com", "ana smith@example.com"])
def test_unusable_customer_address_is_refused(account: ChannelAccount, to_address: str) -> None:
    with pytest.raises(ValueError, match="Not an email address"):
        build_email(account, outbound_message(to_address=to_address), now=NOW)


def test_account_without_an_address_is_refused(db: None) -> None:
    account = email_account_row(address="")

    with pytest.raises(ValueError, match="Not an email address"):
        build_email(account, outbound_message(), now=NOW)
