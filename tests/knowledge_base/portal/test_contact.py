"""The contact form: an email ticket with a threaded confirmation, and everything it
refuses (spam, floods, bad input) leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from channels_inbox.email.outbound import outbound_message_id
from channels_inbox.email.tokens import read_reply_address
from channels_inbox.models import ChannelAccount
from channels_inbox.services import store_inbound_event
from customers.models import Customer
from customers.services import create_customer
from knowledge_base.models import DeflectionEvent
from tests.channels_inbox.email_adapter.conftest import Sink
from tests.channels_inbox.email_adapter.test_parse import mail
from tests.knowledge_base.portal.conftest import ACCOUNT, contact_data
from tickets.models import Message, Ticket, TicketActivity

URL = reverse("help:contact")


def submit(client: Client, capture: Any, data: dict[str, str], **extra: Any) -> Any:
    with capture(execute=True):
        return client.post(URL, data, **extra)


def test_the_page_renders_a_signed_token_and_a_hidden_honeypot(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="token"' in body
    assert 'name="website" tabindex="-1"' in body
    assert 'aria-hidden="true"' in body


def test_submitting_opens_an_email_ticket_and_sends_a_confirmation_that_threads(
    client: Client,
    mailbox: ChannelAccount,
    smtp_sink: Sink,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    response = submit(client, capture, contact_data(form_token(), order_number="1042"))

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.channel_account_id) == ("email", mailbox.pk)
    assert ticket.subject == "Parcel never arrived"
    assert ticket.customer.email == "ana@example.com"
    assert f"#{ticket.number}" in response.content.decode()
    first = Message.objects.get(direction=Message.Direction.INBOUND)
    assert first.text == "Hello, my parcel for order 1042 never arrived.\n\nOrder number: 1042"
    assert first.provider_message_id.endswith("@switchboard.invalid")

    # The confirmation is a queued automatic reply, delivered by the pipeline to the sink.
    confirmation = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert confirmation.is_automated
    assert confirmation.author_agent is None
    assert confirmation.delivery_status == Message.DeliveryStatus.SENT
    assert confirmation.provider_message_id == outbound_message_id(mailbox, confirmation.pk)
    assert TicketActivity.objects.filter(
        ticket=ticket, verb=TicketActivity.Verb.AUTO_ACKNOWLEDGED
    ).exists()
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None  # an acknowledgement is not an answer
    assert len(smtp_sink.received) == 1
    assert smtp_sink.received[0].rcpt_tos == ["ana@example.com"]
    sent = BytesParser(policy=policy.default).parsebytes(smtp_sink.received[0].content)
    assert isinstance(sent, EmailMessage)
    assert sent["Message-ID"] == f"<{confirmation.provider_message_id}>"
    assert sent["Subject"] == f"Parcel never arrived [#{ticket.number}]"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert read_reply_address(str(sent["Reply-To"]), ACCOUNT) == ticket.number
    assert f"request number is #{ticket.number}" in sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # The customer answers the confirmation: the answer lands in the same ticket.
    answer = mail(
        message_id="<CAF=answer01@mail.gmail.com>",
        subject=f"Re: {sent['Subject']}",
        headers={"In-Reply-To": sent["Message-ID"], "References": sent["Message-ID"]},
        body="It was order 1042, shipped last Monday.",
    )
    with capture(execute=True):
        store_inbound_event(
            mailbox,
            external_id="answer",
            payload=answer,
            headers={"mail_from": "ana@example.com", "rcpt_tos": ACCOUNT},
        )
    assert Ticket.objects.count() == 1
    reply = Message.objects.filter(direction=Message.Direction.INBOUND).order_by("id").last()
    assert reply is not None
    assert reply.ticket_id == ticket.pk
    assert reply.threading_reason == Message.ThreadingReason.REFERENCES
    assert reply.text == "It was order 1042, shipped last Monday."


def test_a_repeated_submit_of_one_form_opens_one_ticket_and_one_confirmation(
    client: Client,
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    data = contact_data(form_token())
    submit(client, django_capture_on_commit_callbacks, data)
    second = submit(client, django_capture_on_commit_callbacks, data)

    assert second.status_code == 200
    assert Ticket.objects.count() == 1
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_the_order_number_links_the_customers_own_order(
    client: Client,
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from customers.models import Order

    ana = create_customer(name="Ana Souza", email="ana@example.com")
    order = Order.objects.create(
        customer=ana,
        store="shop",
        external_id="1",
        number="#1042",
        placed_at="2026-01-01T00:00Z",
        currency="EUR",
        total="10.00",
    )
    submit(
        client, django_capture_on_commit_callbacks, contact_data(form_token(), order_number="1042")
    )

    assert list(Ticket.objects.get().orders.all()) == [order]


@pytest.mark.parametrize(
    ("seconds_ago", "reason"),
    [(0.5, "quicker than we expected"), (25 * 3600, "expired")],
)
def test_a_form_sent_too_fast_or_too_late_is_refused_and_saves_nothing(
    client: Client,
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
    seconds_ago: float,
    reason: str,
) -> None:
    response = submit(
        client, django_capture_on_commit_callbacks, contact_data(form_token(seconds_ago))
    )

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert (Ticket.objects.count(), Customer.objects.count(), DeflectionEvent.objects.count()) == (
        0,
        0,
        0,
    )
    # What the visitor typed is kept for the next try.
    assert "Parcel never arrived" in response.content.decode()


@pytest.mark.parametrize("token", ["", "forged:token", "eyJmIjoiMSJ9:1abc:def"])
def test_a_missing_or_forged_token_is_refused(
    client: Client,
    mailbox: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    token: str,
) -> None:
    response = submit(client, django_capture_on_commit_callbacks, contact_data(token))

    assert response.status_code == 400
    assert Ticket.objects.count() == 0


def test_a_filled_honeypot_is_refused_and_saves_nothing(
    client: Client,
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    response = submit(
        client,
        django_capture_on_commit_callbacks,
        contact_data(form_token(), website="https://spam.example"),
    )

    assert response.status_code == 400
    assert "could not send your message" in response.content.decode()
    assert (Ticket.objects.count(), Customer.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-address"), ("message", "   "), ("subject", ""), ("name", "x" * 201)],
)
def test_bad_input_is_a_400_with_the_fields_message(
    client: Client,
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
    field: str,
    value: str,
) -> None:
    response = submit(
        client, django_capture_on_commit_callbacks, contact_data(form_token(), **{field: value})
    )

    assert response.status_code == 400
    assert f'id="id_{field}-error"' in response.content.decode()
    assert Ticket.objects.count() == 0


def test_the_form_is_rate_limited_per_email_address(
    client: Client,
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    statuses = [
        submit(client, django_capture_on_commit_callbacks, contact_data(form_token())).status_code
        for _ in range(6)
    ]

    assert statuses == [200] * 5 + [429]
    assert Ticket.objects.count() == 5


def test_the_form_is_rate_limited_per_ip(
    client: Client,
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    statuses = [
        submit(
            client,
            django_capture_on_commit_callbacks,
            contact_data(form_token(), email=f"shopper{n}@example.com"),
            REMOTE_ADDR="203.0.113.9",
        ).status_code
        for n in range(11)
    ]

    assert statuses == [200] * 10 + [429]
    # Another address is not affected.
    other = submit(
        client,
        django_capture_on_commit_callbacks,
        contact_data(form_token(), email="late@example.com"),
        REMOTE_ADDR="203.0.113.10",
    )
    assert other.status_code == 200


def test_without_an_email_account_the_form_says_so_and_saves_nothing(
    db: None,
    client: Client,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    response = submit(client, django_capture_on_commit_callbacks, contact_data(form_token()))

    assert response.status_code == 503
    assert Ticket.objects.count() == 0


def test_the_configured_account_is_used(
    client: Client,
    mailbox: ChannelAccount,
    settings: Any,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    other = ChannelAccount.objects.create(
        kind="email", name="Sales", slug="sales", address="sales@acme.test"
    )
    settings.HELP_CENTER_CONTACT_CHANNEL_ACCOUNT = "sales"

    submit(client, django_capture_on_commit_callbacks, contact_data(form_token()))

    assert Ticket.objects.get().channel_account == other


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_script_in_the_subject_and_message_is_escaped_everywhere(
    client: Client,
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # An invalid email makes the form come back with the typed values.
    again = submit(
        client,
        django_capture_on_commit_callbacks,
        contact_data(form_token(), subject=XSS, message=XSS, email="bad"),
    )
    assert XSS not in again.content.decode()
    assert "&lt;script&gt;" in again.content.decode()

    sent = submit(
        client,
        django_capture_on_commit_callbacks,
        contact_data(form_token(), subject=XSS, message=XSS, name=XSS),
    )
    assert sent.status_code == 200
    assert "<script>" not in sent.content.decode()
    ticket = Ticket.objects.get()
    # Stored as the plain text the customer typed; no HTML part was made from it.
    message = ticket.messages.get(direction=Message.Direction.INBOUND)
    assert message.text == XSS
    assert message.html == ""
