"""When the visitor has left the chat, the conversation goes on by email through the chat
account's fallback email account; when it cannot, the reply fails saying why."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from django.core import mail

from channels_inbox.chat import services, tokens
from channels_inbox.email.outbound import outbound_message_id
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import store_inbound_event
from customers.models import Customer
from customers.services import create_customer
from helpdesk.models import User
from tests.channels_inbox.chat.conftest import SHOP, new_token, run, start, visitor_socket
from tickets.models import Message, Ticket
from tickets.services import add_reply


def sent_mail() -> EmailMessage:
    [sent] = mail.outbox
    parsed = BytesParser(policy=policy.default).parsebytes(sent.message().as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def customer_answer(to: str, subject: str, in_reply_to: str, body: str) -> bytes:
    lines = [
        "From: Lena Fischer <lena@example.com>",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Thu, 01 Jan 2026 12:30:00 +0000",
        "Message-ID: <answer-1@mail.example.com>",
        f"In-Reply-To: {in_reply_to}",
        f"References: {in_reply_to}",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


@pytest.mark.django_db(transaction=True)
def test_visitor_who_left_gets_the_reply_by_email_and_answers_into_the_same_ticket(
    chat_account: ChannelAccount, email_account: ChannelAccount, online_agent: User
) -> None:
    token = new_token()
    assert start(token=token, name="Lena Fischer", email="lena@example.com").status_code == 200

    async def body() -> None:
        visitor = visitor_socket(token, SHOP)
        assert (await visitor.connect())[0]
        await visitor.receive_json_from()  # history
        await visitor.send_json_to({"type": "message", "id": "left-00001", "text": "Call me back?"})
        assert (await visitor.receive_json_from(timeout=5))["type"] == "ack"
        await visitor.disconnect()  # the visitor closes the tab

    run(body)
    ticket = Ticket.objects.get()

    reply = add_reply(ticket, author=online_agent, text="We will email you the details.")

    reply.refresh_from_db()
    assert reply.delivery_status == Message.DeliveryStatus.SENT
    assert reply.provider_message_id == outbound_message_id(email_account, reply.pk)
    sent = sent_mail()
    assert sent["To"] == "Lena Fischer <lena@example.com>"
    assert sent["From"] == "Support mailbox <support@shop.test>"
    assert sent["Subject"] == f"Call me back? [#{ticket.number}]"
    text = sent.get_body(("plain",))
    assert text is not None
    assert "We will email you the details." in text.get_content()
    reply_address = sent["Reply-To"].addresses[0].addr_spec
    assert reply_address.startswith(f"support+t{ticket.number}-")

    # Lena answers from her mail client; the mail arrives on the email account.
    answer = customer_answer(reply_address, f"Re: {sent['Subject']}", sent["Message-ID"], "Thanks!")
    store_inbound_event(
        email_account,
        external_id="answer-1",
        payload=answer,
        headers={"mail_from": "lena@example.com", "rcpt_tos": reply_address},
    )

    assert InboundEvent.objects.get(external_id="answer-1").status == "processed"
    assert Ticket.objects.count() == 1
    assert list(
        Message.objects.filter(direction="inbound").values_list("ticket", "channel_account", "text")
    ) == [
        (ticket.pk, chat_account.pk, "Call me back?"),
        (ticket.pk, email_account.pk, "Thanks!"),
    ]
    assert Customer.objects.count() == 1


@pytest.fixture
def lena_ticket(
    chat_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> tuple[str, Ticket]:
    """A visitor wrote once and left. Stored the way the socket stores it."""
    token = new_token()
    visitor_id = tokens.read_visitor_token(chat_account.pk, token)
    assert visitor_id is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.store_visitor_message(chat_account, visitor_id, "left-00002", "Anyone there?")
    return token, Ticket.objects.get()


def reply_to(ticket: Ticket, agent: User, capture: Any) -> Message:
    with capture(execute=True):
        reply = add_reply(ticket, author=agent, text="Sorry for the wait!")
    reply.refresh_from_db()
    return reply


@pytest.mark.django_db
def test_without_an_email_address_the_reply_fails_saying_why(
    lena_ticket: tuple[str, Ticket],
    email_account: ChannelAccount,
    online_agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, ticket = lena_ticket

    reply = reply_to(ticket, online_agent, django_capture_on_commit_callbacks)

    assert reply.delivery_status == Message.DeliveryStatus.FAILED
    assert reply.delivery_error == (
        "The visitor has left the chat and gave no email address, so the reply cannot reach "
        "them now; they will see it if they come back to the chat."
    )
    assert mail.outbox == []
    assert ticket.activities.filter(verb="delivery_failed").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "error"),
    [
        (
            {},
            "The visitor has left the chat. To continue by email, set the chat account's "
            "fallback_email_account option to an email account.",
        ),
        (
            {"fallback_email_account": "no-such-mailbox"},
            "The visitor has left the chat, and the fallback email account 'no-such-mailbox' "
            "is not an active email account.",
        ),
    ],
)
def test_without_a_fallback_account_the_reply_fails_saying_why(
    lena_ticket: tuple[str, Ticket],
    chat_account: ChannelAccount,
    email_account: ChannelAccount,
    online_agent: User,
    django_capture_on_commit_callbacks: Any,
    options: dict[str, str],
    error: str,
) -> None:
    token, ticket = lena_ticket
    start(token=token, email="lena@example.com")
    ChannelAccount.objects.filter(pk=chat_account.pk).update(
        options={"allowed_origins": [SHOP], **options}
    )

    reply = reply_to(ticket, online_agent, django_capture_on_commit_callbacks)

    assert (reply.delivery_status, reply.delivery_error) == ("failed", error)
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_inactive_fallback_account_is_not_used(
    lena_ticket: tuple[str, Ticket],
    email_account: ChannelAccount,
    online_agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    token, ticket = lena_ticket
    start(token=token, email="lena@example.com")
    ChannelAccount.objects.filter(pk=email_account.pk).update(is_active=False)

    reply = reply_to(ticket, online_agent, django_capture_on_commit_callbacks)

    assert reply.delivery_status == "failed"
    assert "'support-mail' is not an active email account" in reply.delivery_error
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_address_another_customer_has_still_gets_the_reply(
    lena_ticket: tuple[str, Ticket],
    email_account: ChannelAccount,
    online_agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The visitor asked to be answered there; the customers stay apart."""
    token, ticket = lena_ticket
    ana = create_customer(name="Ana Souza", email="ana@example.com")
    start(token=token, email="ana@example.com")

    reply = reply_to(ticket, online_agent, django_capture_on_commit_callbacks)

    assert reply.delivery_status == "sent"
    assert sent_mail()["To"].addresses[0].addr_spec == "ana@example.com"
    assert ticket.customer != ana
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0


@pytest.mark.django_db
def test_an_email_given_after_writing_is_used_too(
    lena_ticket: tuple[str, Ticket],
    email_account: ChannelAccount,
    online_agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The widget asks for an address when nobody is online, also mid-conversation."""
    token, ticket = lena_ticket
    start(token=token, email="lena@example.com")

    reply = reply_to(ticket, online_agent, django_capture_on_commit_callbacks)

    assert reply.delivery_status == "sent"
    assert sent_mail()["To"].addresses[0].addr_spec == "lena@example.com"
    customer = Customer.objects.get()
    assert customer.email == "lena@example.com"
