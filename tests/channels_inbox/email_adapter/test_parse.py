"""Reading stored raw mail into messages, statuses or an ignored reason."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

from channels_inbox.adapters.base import ParseResult, StatusUpdate
from channels_inbox.email.adapter import EmailAdapter
from channels_inbox.email.outbound import outbound_message_id
from channels_inbox.email.tokens import make_bounce_address, make_reply_address
from channels_inbox.models import ChannelAccount, InboundEvent
from tests.channels_inbox.email_adapter.factories import email_account_row
from tickets.services import InboundAttachment, InboundMessage

ACCOUNT = "support@acme.test"


@pytest.fixture
def account(db: None) -> ChannelAccount:
    return email_account_row()


def mail(
    *,
    body: str = "Hello,\r\nmy order #1001 arrived damaged.\r\nAna",
    headers: dict[str, str] | None = None,
    message_id: str | None = "<CAF=first01@mail.gmail.com>",
    sender: str = "Ana Souza <ana@example.com>",
    to: str = ACCOUNT,
    subject: str = "Order #1001 arrived damaged",
) -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    lines.append("Date: Thu, 01 Jan 2026 12:00:00 +0000")
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    lines += ["MIME-Version: 1.0", 'Content-Type: text/plain; charset="utf-8"']
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


_events = {"n": 0}


def event_for(account: ChannelAccount, raw: bytes, **headers: str) -> InboundEvent:
    _events["n"] += 1
    return InboundEvent.objects.create(
        channel_account=account,
        external_id=f"test-{_events['n']}",
        payload=raw,
        headers={"mail_from": "ana@example.com", "rcpt_tos": ACCOUNT, **headers},
    )


def parse(account: ChannelAccount, raw: bytes, **headers: str) -> ParseResult:
    return EmailAdapter().parse(account, event_for(account, raw, **headers))


def only_message(result: ParseResult) -> InboundMessage:
    assert result.ignored_reason == ""
    assert result.statuses == ()
    assert len(result.messages) == 1
    return result.messages[0]


def test_new_mail_becomes_a_new_conversation(account: ChannelAccount) -> None:
    raw = mail()
    event = event_for(account, raw)

    message = only_message(EmailAdapter().parse(account, event))

    assert message.channel == "email"
    assert message.sender_address == "ana@example.com"
    assert message.sender_name == "Ana Souza"
    assert message.subject == "Order #1001 arrived damaged"
    assert message.text == "Hello,\nmy order #1001 arrived damaged.\nAna"
    assert message.provider_message_id == "CAF=first01@mail.gmail.com"
    assert message.references == ()
    assert message.starts_conversation is True
    assert message.ticket_number is None
    assert message.ticket_number_source == ""
    assert message.thread_subject == "order #1001 arrived damaged"
    assert message.subject_window == timedelta(days=7)
    assert message.is_automated is False
    assert message.automated_reason == ""
    assert message.received_at == event.received_at
    assert message.attachments == (
        InboundAttachment(name="original.eml", content_type="message/rfc822", content=raw),
    )


def test_reply_lists_in_reply_to_first_then_references_newest_first(
    account: ChannelAccount,
) -> None:
    """The order threading tries them in: the direct parent, then up the thread."""
    raw = mail(
        message_id="<reply02@mail.example.com>",
        subject="Re: Order #1001 arrived damaged",
        headers={
            "In-Reply-To": "<sb.m42.abcdefgh@acme.test>",
            "References": "<CAF=first01@mail.gmail.com> <sb.m40.zzzzzzzz@ACME.test>\r\n"
            " <sb.m42.abcdefgh@acme.test>",
        },
    )

    message = only_message(parse(account, raw))

    assert message.references == (
        "sb.m42.abcdefgh@acme.test",
        "sb.m40.zzzzzzzz@acme.test",
        "CAF=first01@mail.gmail.com",
    )
    # Unknown references must not fall back to the latest ticket: email never does.
    assert message.starts_conversation is True
    assert message.thread_subject == "order #1001 arrived damaged"


def test_quoted_text_is_cut_at_our_reply_marker(account: ChannelAccount) -> None:
    body = (
        "Thanks, that works!\r\n\r\n"
        "On Thu, 1 Jan 2026 at 12:00, Acme Support <support@acme.test> wrote:\r\n"
        "> ##- Please type your reply above this line -##\r\n"
        "> We are sending a new one.\r\n"
    )

    message = only_message(parse(account, mail(body=body, headers={"In-Reply-To": "<a@b.c>"})))

    assert message.text == "Thanks, that works!"


def test_signed_reply_address_in_to_gives_the_ticket(account: ChannelAccount) -> None:
    token = make_reply_address(ACCOUNT, 1234)

    message = only_message(parse(account, mail(to=f"Acme Support <{token}>"), rcpt_tos=token))

    assert message.ticket_number == 1234
    assert message.ticket_number_source == "address"


def test_signed_reply_address_only_in_the_envelope_gives_the_ticket(
    account: ChannelAccount,
) -> None:
    """Bcc and forwarding leave the token in the envelope alone."""
    token = make_reply_address(ACCOUNT, 77)

    message = only_message(parse(account, mail(to="someone@else.example"), rcpt_tos=token))

    assert message.ticket_number == 77
    assert message.ticket_number_source == "address"


def test_signed_reply_address_in_cc_gives_the_ticket(account: ChannelAccount) -> None:
    token = make_reply_address(ACCOUNT, 78)

    message = only_message(parse(account, mail(headers={"Cc": token})))

    assert message.ticket_number == 78


def test_forged_reply_address_falls_back_to_the_subject_tag(account: ChannelAccount) -> None:
    forged = "support+t1-aaaaaaaaaa@acme.test"

    message = only_message(
        parse(account, mail(to=forged, subject="Re: Broken [#555]"), rcpt_tos=forged)
    )

    assert message.ticket_number == 555
    assert message.ticket_number_source == "subject"


def test_reply_address_of_another_mailbox_is_no_token(account: ChannelAccount) -> None:
    token = make_reply_address("sales@acme.test", 1234)

    message = only_message(parse(account, mail(to=token), rcpt_tos=token))

    assert message.ticket_number is None


def test_ticket_tag_in_subject(account: ChannelAccount) -> None:
    message = only_message(parse(account, mail(subject="AW: Bestellung kaputt [#1234]")))

    assert message.ticket_number == 1234
    assert message.ticket_number_source == "subject"


def test_mail_from_our_own_mailbox_is_ignored(account: ChannelAccount) -> None:
    result = parse(account, mail(sender="Acme Support <Support@Acme.test>"))

    assert result == ParseResult(ignored_reason="Mail from our own address support@acme.test.")


def test_mail_from_a_plus_variant_of_another_mailbox_is_ignored(account: ChannelAccount) -> None:
    email_account_row(slug="sales", address="sales@acme.test")

    result = parse(account, mail(sender="sales+t5-abcdefghij@acme.test"))

    assert result.ignored_reason == "Mail from our own address sales+t5-abcdefghij@acme.test."
    assert result.messages == ()


def test_mail_from_a_deactivated_mailbox_is_not_ours_any_more(account: ChannelAccount) -> None:
    email_account_row(slug="old", address="old@acme.test", is_active=False)

    message = only_message(parse(account, mail(sender="old@acme.test")))

    assert message.sender_address == "old@acme.test"


def test_mail_with_our_loop_marker_is_ignored(account: ChannelAccount) -> None:
    """Our own reply, forwarded back to us by a customer's auto-forward rule."""
    result = parse(account, mail(headers={"X-Loop": ACCOUNT}))

    assert result == ParseResult(
        ignored_reason=f"Mail carrying our loop marker (X-Loop: {ACCOUNT})."
    )


def test_another_systems_loop_marker_is_not_ours(account: ChannelAccount) -> None:
    message = only_message(parse(account, mail(headers={"X-Loop": "rt@customer.example"})))

    assert message.sender_address == "ana@example.com"


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"X-Auto-Response-Suppress": "All"},
    ],
)
def test_auto_reply_is_flagged(account: ChannelAccount, headers: dict[str, str]) -> None:
    message = only_message(parse(account, mail(headers=headers)))

    assert message.is_automated is True
    assert message.automated_reason != ""


def test_empty_envelope_sender_is_automated(account: ChannelAccount) -> None:
    """MAIL FROM:<> is how automatic notifications are sent (RFC 5321 null reverse path)."""
    message = only_message(parse(account, mail(), mail_from=""))

    assert message.is_automated is True
    assert message.automated_reason == "empty envelope sender"


def dsn(original_id: str, *, to: str = ACCOUNT) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: Thu, 01 Jan 2026 12:05:00 +0000\r\n"
        "Message-ID: <bounce-1@mx.example.net>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "Your message could not be delivered to ana@example.com.\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n"
        "\r\n"
        "Final-Recipient: rfc822; ana@example.com\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        "From: Acme Support <support@acme.test>\r\n"
        "To: ana@example.com\r\n"
        "Subject: Re: Order #1001 arrived damaged [#1234]\r\n"
        f"Message-ID: <{original_id}>\r\n"
        "\r\n"
        "--b1--\r\n"
    ).encode()


def test_bounce_fails_the_original_message(account: ChannelAccount) -> None:
    original = outbound_message_id(account, 42)

    result = parse(account, dsn(original), mail_from="")

    assert result.ignored_reason == ""
    assert result.statuses == (
        StatusUpdate(
            provider_message_id=original,
            status="failed",
            error="550 5.1.1 user unknown",
            occurred_at=result.statuses[0].occurred_at,
        ),
    )
    assert result.statuses[0].occurred_at is not None
    assert len(result.messages) == 1
    record = result.messages[0]
    assert record.is_automated is True
    assert record.references[0] == original
    assert record.starts_conversation is False
    assert record.provider_message_id == "bounce-1@mx.example.net"
    assert record.text.startswith("Delivery report: failed (550 5.1.1 user unknown)")


def test_bounce_to_our_verp_address_names_the_message_even_when_unreadable(
    account: ChannelAccount,
) -> None:
    """A relay that mangles the report still returns it to the signed envelope sender."""
    verp = make_bounce_address(ACCOUNT, 42)
    raw = mail(
        sender="MAILER-DAEMON@mx.example.net",
        to=verp,
        subject="failure notice",
        body="Sorry, I couldn't deliver your message. Giving up.",
    )

    result = parse(account, raw, mail_from="", rcpt_tos=verp)

    assert [(s.provider_message_id, s.status) for s in result.statuses] == [
        (outbound_message_id(account, 42), "failed")
    ]
    assert result.statuses[0].error == "Bounced; the delivery report could not be read."
    assert result.messages[0].is_automated is True


def test_forged_verp_address_is_no_bounce(account: ChannelAccount) -> None:
    forged = "support+bounce-m42-aaaaaaaaaa@acme.test"

    message = only_message(parse(account, mail(to=forged), rcpt_tos=forged))

    assert message.is_automated is False


def test_sender_rate_limit_trips_after_the_limit(account: ChannelAccount) -> None:
    """A runaway loop stops at the 21st message from one sender within ten minutes."""
    for n in range(20):
        only_message(parse(account, mail(message_id=f"<loop{n}@example.com>")))

    result = parse(account, mail(message_id="<loop20@example.com>"))

    assert result == ParseResult(
        ignored_reason="rate limit: ana@example.com sent 21 messages in 10 minutes"
    )
    other = only_message(parse(account, mail(sender="bea@example.com")))
    assert other.sender_address == "bea@example.com"


def test_sender_rate_limit_counts_per_mailbox(db: None) -> None:
    support = email_account_row(credentials={"sender_rate_limit": 1})
    sales = email_account_row(slug="sales", address="sales@acme.test")

    only_message(parse(support, mail()))
    assert parse(support, mail()).ignored_reason.startswith("rate limit: ana@example.com sent 2")
    only_message(parse(sales, mail()))


def test_sender_rate_limit_zero_turns_it_off(db: None) -> None:
    account = email_account_row(credentials={"sender_rate_limit": 0})

    for n in range(25):
        only_message(parse(account, mail(message_id=f"<m{n}@example.com>")))


def test_bounces_are_not_rate_limited(db: None) -> None:
    """Every report carries a status; they never get an answer, so they cannot loop."""
    account = email_account_row(credentials={"sender_rate_limit": 1})

    for n in range(3):
        result = parse(account, dsn(f"sb.m{n}.x@acme.test"), mail_from="")
        assert len(result.statuses) == 1


@pytest.mark.parametrize(
    ("option", "window"),
    [
        (None, timedelta(days=7)),
        (0, None),
        (3, timedelta(days=3)),
        ("14", timedelta(days=14)),
        ("soon", timedelta(days=7)),
        (-2, timedelta(days=7)),
        (True, timedelta(days=7)),
    ],
)
def test_subject_window_option(db: None, option: Any, window: timedelta | None) -> None:
    credentials = {} if option is None else {"subject_window_days": option}
    account = email_account_row(credentials=credentials)

    assert only_message(parse(account, mail())).subject_window == window


def test_inline_image_keeps_its_content_id(account: ChannelAccount) -> None:
    raw = (
        b"From: ana@example.com\r\nTo: support@acme.test\r\nSubject: Photo\r\n"
        b"Message-ID: <img1@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/related; boundary="r"\r\n\r\n'
        b'--r\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n'
        b'<p>See the box:</p><img src="cid:box@example.com">\r\n'
        b"--r\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-ID: <box@example.com>\r\nContent-Disposition: inline; filename="box.png"\r\n\r\n'
        b"iVBORw0KGgo=\r\n--r--\r\n"
    )

    message = only_message(parse(account, raw))

    assert [(a.name, a.content_type, a.content_id) for a in message.attachments] == [
        ("box.png", "image/png", "box@example.com"),
        ("original.eml", "message/rfc822", ""),
    ]
    assert message.attachments[0].content == b"\x89PNG\r\n\x1a\n"
    assert "cid:box@example.com" in message.html


def test_mail_without_message_id_gets_a_stable_id_from_its_bytes(account: ChannelAccount) -> None:
    """Reprocessing the same event then finds the message saved the first time."""
    raw = mail(message_id=None)

    first = only_message(parse(account, raw))
    again = only_message(parse(account, raw))

    digest = hashlib.sha256(raw).hexdigest()
    assert first.provider_message_id == f"{digest}@no-message-id.invalid"
    assert again.provider_message_id == first.provider_message_id


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"", "This email could not be read: the message is empty. The original is attached."),
        (b"\x00\xff\xfe garbage", "This email could not be read: no email headers were found."),
        (b"From: \r\n\r\n", ""),
        (b"Subject: =?x?q?\r\n\r\n\xff", ""),
    ],
)
def test_unreadable_mail_is_never_an_exception(
    account: ChannelAccount, raw: bytes, text: str
) -> None:
    """Whatever arrives becomes a message from the envelope sender, with the raw mail."""
    message = only_message(parse(account, raw, mail_from="<Ana@Example.com>"))

    assert message.sender_address == "ana@example.com"
    assert message.text.startswith(text)
    assert message.attachments[-1] == InboundAttachment(
        name="original.eml", content_type="message/rfc822", content=raw
    )


def test_delayed_delivery_report_changes_no_status(account: ChannelAccount) -> None:
    """ "delayed" is a warning; the mail may still arrive."""
    raw = dsn(outbound_message_id(account, 42)).replace(b"Action: failed", b"Action: delayed")

    result = parse(account, raw, mail_from="")

    assert result.statuses == ()
    assert [message.is_automated for message in result.messages] == [True]
    assert result.messages[0].text.startswith("Delivery report: delayed")


def test_bounce_that_copies_our_loop_marker_still_fails_the_message(
    account: ChannelAccount,
) -> None:
    """Some servers copy the original headers, X-Loop included, onto their report."""
    original = outbound_message_id(account, 42)
    raw = dsn(original).replace(b"MIME-Version", f"X-Loop: {ACCOUNT}\r\nMIME-Version".encode(), 1)

    result = parse(account, raw, mail_from="")

    assert [(s.provider_message_id, s.status) for s in result.statuses] == [(original, "failed")]
