"""Customer mail in, agent reply out over SMTP, customer reply in: one ticket, through the
real pipeline (stored events, the Celery tasks in eager mode, the database)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest

from channels_inbox.email.outbound import outbound_message_id
from channels_inbox.email.tokens import read_reply_address
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import store_inbound_event
from helpdesk.models import User
from tests.channels_inbox.email_adapter.conftest import Sink
from tests.channels_inbox.email_adapter.factories import email_account_row
from tests.channels_inbox.email_adapter.test_parse import dsn, mail
from tickets.models import Message, Ticket
from tickets.services import OutboundAttachment, add_reply

ACCOUNT = "support@acme.test"


@pytest.fixture
def account(smtp_sink: Sink, support_team: Any) -> ChannelAccount:
    return email_account_row(
        credentials={
            "smtp_host": smtp_sink.host,
            "smtp_port": smtp_sink.port,
            "smtp_security": "none",
        },
        default_team=support_team,
    )


def deliver(
    capture: Any, account: ChannelAccount, raw: bytes, key: str, **headers: str
) -> InboundEvent:
    """What the SMTP ingress does: store the raw mail; the task runs after commit."""
    envelope = {"mail_from": "ana@example.com", "rcpt_tos": ACCOUNT, **headers}
    with capture(execute=True):
        event, created = store_inbound_event(
            account, external_id=key, payload=raw, headers=envelope
        )
    assert created
    event.refresh_from_db()
    return event


def reply_to(capture: Any, ticket: Ticket, agent: User, sink: Sink, text: str) -> EmailMessage:
    """An agent answers; the delivery task sends it to the sink after commit."""
    before = len(sink.received)
    with capture(execute=True):
        add_reply(ticket, author=agent, text=text)
    assert len(sink.received) == before + 1
    sent = BytesParser(policy=policy.default).parsebytes(sink.received[-1].content)
    assert isinstance(sent, EmailMessage)
    return sent


def test_mail_reply_and_answer_land_in_one_ticket(
    account: ChannelAccount,
    agent: User,
    smtp_sink: Sink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks

    first = deliver(capture, account, mail(), "first")
    assert first.status == InboundEvent.Status.PROCESSED
    ticket = Ticket.objects.get()
    assert ticket.subject == "Order #1001 arrived damaged"

    sent = reply_to(capture, ticket, agent, smtp_sink, "We are sending a new one.")
    outbound = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert outbound.delivery_status == Message.DeliveryStatus.SENT
    assert outbound.provider_message_id == outbound_message_id(account, outbound.pk)
    assert sent["Message-ID"] == f"<{outbound.provider_message_id}>"
    assert sent["In-Reply-To"] == "<CAF=first01@mail.gmail.com>"
    assert sent["Subject"] == f"Re: Order #1001 arrived damaged [#{ticket.number}]"
    assert smtp_sink.received[-1].rcpt_tos == ["ana@example.com"]

    answer = mail(
        message_id="<CAF=second02@mail.gmail.com>",
        subject=f"Re: {sent['Subject']}",
        headers={
            "In-Reply-To": sent["Message-ID"],
            "References": f"<CAF=first01@mail.gmail.com> {sent['Message-ID']}",
        },
        body=(
            "Great, thank you!\r\n\r\n"
            "On Thu, 1 Jan 2026 at 12:00, Acme Support <support@acme.test> wrote:\r\n"
            "> ##- Please type your reply above this line -##\r\n"
            "> We are sending a new one.\r\n"
        ),
    )
    deliver(capture, account, answer, "answer")

    assert Ticket.objects.count() == 1
    inbound = list(
        Message.objects.filter(direction=Message.Direction.INBOUND)
        .order_by("id")
        .values_list("ticket_id", "threading_reason", "text")
    )
    assert inbound == [
        (
            ticket.pk,
            Message.ThreadingReason.NEW_CONVERSATION,
            "Hello,\nmy order #1001 arrived damaged.\nAna",
        ),
        (ticket.pk, Message.ThreadingReason.REFERENCES, "Great, thank you!"),
    ]
    original = Message.objects.filter(direction=Message.Direction.INBOUND).first()
    assert original is not None
    assert [a.name for a in original.attachments.all()] == ["original.eml"]


def test_reply_without_threading_headers_finds_the_ticket_by_its_reply_address(
    account: ChannelAccount,
    agent: User,
    smtp_sink: Sink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A client that drops In-Reply-To and the subject tag still answers our Reply-To."""
    capture = django_capture_on_commit_callbacks
    deliver(capture, account, mail(), "first")
    ticket = Ticket.objects.get()
    sent = reply_to(capture, ticket, agent, smtp_sink, "Which colour?")
    token = sent["Reply-To"].addresses[0].addr_spec
    assert read_reply_address(token, ACCOUNT) == ticket.number

    answer = mail(message_id="<plain03@example.com>", to=token, subject="colour", body="Blue.")
    deliver(capture, account, answer, "answer", rcpt_tos=token)

    message = Message.objects.get(provider_message_id="plain03@example.com")
    assert message.ticket_id == ticket.pk
    assert message.threading_reason == Message.ThreadingReason.TICKET_TOKEN_ADDRESS


def test_bounce_of_our_reply_marks_it_failed(
    account: ChannelAccount,
    agent: User,
    smtp_sink: Sink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    deliver(capture, account, mail(), "first")
    ticket = Ticket.objects.get()
    reply_to(capture, ticket, agent, smtp_sink, "Here is your label.")
    outbound = Message.objects.get(direction=Message.Direction.OUTBOUND)

    event = deliver(
        capture,
        account,
        dsn(outbound.provider_message_id),
        "bounce",
        mail_from="",
        rcpt_tos=smtp_sink.received[-1].mail_from,
    )

    assert event.status == InboundEvent.Status.PROCESSED
    outbound.refresh_from_db()
    assert outbound.delivery_status == Message.DeliveryStatus.FAILED
    assert outbound.delivery_error == "550 5.1.1 user unknown"
    report = Message.objects.get(provider_message_id="bounce-1@mx.example.net")
    assert report.ticket_id == ticket.pk
    assert report.is_automated is True
    assert Ticket.objects.count() == 1


def test_our_own_reply_coming_back_is_ignored(
    account: ChannelAccount,
    agent: User,
    smtp_sink: Sink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A customer's forwarding rule sends our reply back to the support address."""
    capture = django_capture_on_commit_callbacks
    deliver(capture, account, mail(), "first")
    reply_to(capture, Ticket.objects.get(), agent, smtp_sink, "Hello again")

    event = deliver(capture, account, smtp_sink.received[-1].content, "echo")

    assert event.status == InboundEvent.Status.IGNORED
    assert event.error == "Mail from our own address support@acme.test."
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1


def test_out_of_office_answer_is_recorded_without_reopening(
    account: ChannelAccount,
    agent: User,
    smtp_sink: Sink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    deliver(capture, account, mail(), "first")
    ticket = Ticket.objects.get()
    with capture(execute=True):
        add_reply(ticket, author=agent, text="Refunded.", status=Ticket.Status.SOLVED)
    sent = BytesParser(policy=policy.default).parsebytes(smtp_sink.received[-1].content)

    ooo = mail(
        message_id="<ooo1@example.com>",
        subject="Automatic reply: " + str(sent["Subject"]),
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": str(sent["Message-ID"])},
        body="I am away until Monday.",
    )
    deliver(capture, account, ooo, "ooo")

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED
    recorded = Message.objects.get(provider_message_id="ooo1@example.com")
    assert (recorded.ticket_id, recorded.is_automated) == (ticket.pk, True)
    assert len(smtp_sink.received) == 1  # nothing answered the auto-reply


def test_rate_limited_mail_is_ignored_with_the_reason(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    account = email_account_row(credentials={"sender_rate_limit": 1})
    capture = django_capture_on_commit_callbacks

    deliver(capture, account, mail(message_id="<r1@example.com>"), "r1")
    second = deliver(capture, account, mail(message_id="<r2@example.com>"), "r2")

    assert second.status == InboundEvent.Status.IGNORED
    assert second.error == "rate limit: ana@example.com sent 2 messages in 10 minutes"
    assert Message.objects.count() == 1


def test_reply_attachments_go_out(
    account: ChannelAccount,
    agent: User,
    smtp_sink: Sink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    deliver(capture, account, mail(), "first")
    label = OutboundAttachment("return-label.pdf", "application/pdf", b"%PDF-1.4 label")
    with capture(execute=True):
        add_reply(Ticket.objects.get(), author=agent, text="Label attached.", attachments=[label])

    sent = BytesParser(policy=policy.default).parsebytes(smtp_sink.received[-1].content)
    assert isinstance(sent, EmailMessage)
    parts = [(p.get_filename(), p.get_payload(decode=True)) for p in sent.iter_attachments()]
    assert parts == [("return-label.pdf", b"%PDF-1.4 label")]
