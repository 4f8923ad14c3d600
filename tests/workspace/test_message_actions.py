"""Actions on one message of the ticket page and on the ticket's orders: retry a failed
reply, download an email as received, split a customer message off, link an order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount, InboundEvent
from customers.models import Customer, Order
from customers.services import upsert_order
from helpdesk.models import User
from tests.helpdesk import event_tasks
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import (
    InboundAttachment,
    InboundMessage,
    TicketError,
    add_note,
    add_reply,
    mark_message_failed,
    mark_message_sent,
    receive_message,
    retry_delivery,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
RAW = (
    b"From: Ana Souza <ana@example.com>\r\nTo: support@shop.test\r\n"
    b"Message-ID: <abc@example.com>\r\nSubject: Parcel\r\n\r\nWhere is my parcel?\r\n"
)


@pytest.fixture
def failed_reply(ticket: Ticket, agent: User) -> Message:
    reply = add_reply(ticket, author=agent, text="We are on it.")
    mark_message_failed(reply.pk, error="550 Mailbox unavailable")
    return Message.objects.get(pk=reply.pk)


# --- Retry ------------------------------------------------------------------------------------


def test_retry_delivery_queues_a_failed_reply_again_and_says_so(
    failed_reply: Message, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks():
        retried = retry_delivery(failed_reply, actor=agent)

    assert retried.delivery_status == "queued"
    assert retried.delivery_error == ""
    assert retried.delivery_attempts == 0
    assert retried.next_delivery_at is None
    activity = TicketActivity.objects.get(ticket=failed_reply.ticket, verb="delivery_retried")
    assert activity.actor == agent
    assert activity.data == {"message_id": failed_reply.pk, "error": "550 Mailbox unavailable"}


def test_retry_delivery_emits_the_update_and_the_queued_event_after_commit(
    failed_reply: Message,
    agent: User,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EVENT_CONSUMER_TASKS = ["tests.helpdesk.event_tasks.record_event_task"]
    event_tasks.RECEIVED.clear()

    with django_capture_on_commit_callbacks(execute=True):
        retry_delivery(failed_reply, actor=agent)

    ids = {"ticket_id": failed_reply.ticket_id, "message_id": failed_reply.pk}
    assert [
        (
            "message.updated",
            {
                **ids,
                "fields": [
                    "delivery_attempts",
                    "delivery_error",
                    "delivery_status",
                    "delivery_updated_at",
                ],
            },
        ),
        ("message.queued", ids),
    ] == event_tasks.RECEIVED


def test_retry_of_a_message_that_did_not_fail_is_refused(ticket: Ticket, agent: User) -> None:
    reply = add_reply(ticket, author=agent, text="Hello")
    mark_message_sent(reply.pk, provider_message_id="<x@shop.test>")

    with pytest.raises(
        TicketError, match="Only a failed reply can be sent again; this one is sent"
    ):
        retry_delivery(reply, actor=agent)

    assert Message.objects.get(pk=reply.pk).delivery_status == "sent"
    assert not TicketActivity.objects.filter(verb="delivery_retried").exists()


def test_retry_of_a_note_or_a_customer_message_is_refused(ticket: Ticket, agent: User) -> None:
    note = add_note(ticket, author=agent, text="FYI")
    customer_message = ticket.messages.get(kind="customer")

    for message in (note, customer_message):
        with pytest.raises(TicketError, match="Only a reply to the customer"):
            retry_delivery(message, actor=agent)


def test_the_timeline_offers_retry_next_to_the_failure(
    bob_client: Client, failed_reply: Message
) -> None:
    page = bob_client.get(f"/tickets/{failed_reply.ticket.number}/").content.decode()

    assert "Failed: 550 Mailbox unavailable" in page
    assert f"/tickets/{failed_reply.ticket.number}/messages/{failed_reply.pk}/retry/" in page
    assert ">Retry</button>" in page


def test_retry_from_the_workspace_requeues_and_refreshes_the_timeline(
    bob_client: Client, failed_reply: Message
) -> None:
    number = failed_reply.ticket.number
    response = bob_client.post(f"/tickets/{number}/messages/{failed_reply.pk}/retry/", headers=HTMX)

    assert response.status_code == 200
    assert Message.objects.get(pk=failed_reply.pk).delivery_status == "queued"
    page = response.content.decode()
    assert "Sending…" in page
    assert "sent a failed reply again" in page


def test_retry_of_a_sent_reply_from_the_workspace_is_a_409_with_the_reason(
    bob_client: Client, ticket: Ticket, agent: User
) -> None:
    reply = add_reply(ticket, author=agent, text="Hello")
    mark_message_sent(reply.pk, provider_message_id="<y@shop.test>")

    response = bob_client.post(f"/tickets/{ticket.number}/messages/{reply.pk}/retry/", headers=HTMX)

    assert response.status_code == 409
    assert "Only a failed reply can be sent again" in response.content.decode()


def test_retry_of_another_tickets_message_is_a_404(
    bob_client: Client, failed_reply: Message, make_ticket: Callable[..., Ticket]
) -> None:
    other = make_ticket()

    response = bob_client.post(f"/tickets/{other.number}/messages/{failed_reply.pk}/retry/")

    assert response.status_code == 404
    assert Message.objects.get(pk=failed_reply.pk).delivery_status == "failed"


def test_retry_needs_a_session(failed_reply: Message) -> None:
    number = failed_reply.ticket.number
    response = Client().post(f"/tickets/{number}/messages/{failed_reply.pk}/retry/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Message.objects.get(pk=failed_reply.pk).delivery_status == "failed"


def test_the_api_retries_a_failed_reply(agent_client: APIClient, failed_reply: Message) -> None:
    url = f"/api/v1/tickets/{failed_reply.ticket_id}/messages/{failed_reply.pk}/retry/"

    response = agent_client.post(url, {}, format="json")

    assert response.status_code == 200
    assert response.json()["delivery_status"] == "queued"
    assert response.json()["delivery_error"] == ""


def test_the_api_refuses_to_retry_a_customer_message(
    agent_client: APIClient, ticket: Ticket
) -> None:
    message = ticket.messages.get(kind="customer")
    url = f"/api/v1/tickets/{ticket.pk}/messages/{message.pk}/retry/"

    response = agent_client.post(url, {}, format="json")

    assert response.status_code == 409
    assert "Only a reply to the customer" in response.json()["detail"]


def test_the_api_retry_needs_a_session(anonymous_client: APIClient, failed_reply: Message) -> None:
    url = f"/api/v1/tickets/{failed_reply.ticket_id}/messages/{failed_reply.pk}/retry/"

    response = anonymous_client.post(url, {}, format="json")

    assert response.status_code in (401, 403)
    assert Message.objects.get(pk=failed_reply.pk).delivery_status == "failed"


# --- The original email ----------------------------------------------------------------------


@pytest.fixture
def email_with_original(email_account: ChannelAccount) -> Message:
    return receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            sender_name="Ana Souza",
            subject="Parcel",
            text="Where is my parcel?",
            provider_message_id="abc@example.com",
            starts_conversation=True,
            attachments=(
                InboundAttachment(name="original.eml", content_type="message/rfc822", content=RAW),
            ),
        ),
        channel_account=email_account,
    )


def original_url(message: Message) -> str:
    return f"/tickets/{message.ticket.number}/messages/{message.pk}/original.eml"


def test_an_email_offers_its_original_instead_of_an_attachment(
    bob_client: Client, email_with_original: Message
) -> None:
    page = bob_client.get(f"/tickets/{email_with_original.ticket.number}/").content.decode()

    assert original_url(email_with_original) in page
    assert "Download original (.eml)" in page
    assert ">original.eml<" not in page


def test_the_original_downloads_as_received(
    bob_client: Client, email_with_original: Message
) -> None:
    response = bob_client.get(original_url(email_with_original))

    assert response.status_code == 200
    assert response.content == RAW
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == (
        f'attachment; filename="ticket-{email_with_original.ticket.number}-message-'
        f'{email_with_original.pk}.eml"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_without_the_file_the_stored_delivery_is_the_original(
    bob_client: Client, email_account: ChannelAccount
) -> None:
    message = receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            subject="Parcel",
            text="Where is my parcel?",
            provider_message_id="def@example.com",
            starts_conversation=True,
        ),
        channel_account=email_account,
    )
    InboundEvent.objects.create(
        channel_account=email_account,
        external_id="def@example.com:support@shop.test",
        payload=RAW,
    )

    response = bob_client.get(original_url(message))

    assert response.status_code == 200
    assert response.content == RAW


def test_the_original_is_not_reachable_without_a_session(email_with_original: Message) -> None:
    response = Client().get(original_url(email_with_original))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert RAW not in response.content


def test_a_reply_or_another_tickets_message_has_no_original(
    bob_client: Client,
    email_with_original: Message,
    agent: User,
    make_ticket: Callable[..., Ticket],
) -> None:
    reply = add_reply(email_with_original.ticket, author=agent, text="Hi")
    other = make_ticket()

    assert bob_client.get(original_url(reply)).status_code == 404
    wrong_ticket = f"/tickets/{other.number}/messages/{email_with_original.pk}/original.eml"
    assert bob_client.get(wrong_ticket).status_code == 404


def test_an_email_whose_original_was_not_kept_is_a_404(bob_client: Client, ticket: Ticket) -> None:
    message = ticket.messages.get(kind="customer")

    response = bob_client.get(f"/tickets/{ticket.number}/messages/{message.pk}/original.eml")

    assert response.status_code == 404


# --- Split --------------------------------------------------------------------------------------


def test_a_customer_message_splits_into_a_new_ticket_and_the_agent_lands_there(
    bob_client: Client, ticket: Ticket
) -> None:
    second = receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            subject="Question 1",
            text="Also, can I change my address?",
            ticket_number=ticket.number,
        )
    )
    assert second.ticket_id == ticket.pk
    page = bob_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f"/tickets/{ticket.number}/messages/{second.pk}/split/" in page

    response = bob_client.post(f"/tickets/{ticket.number}/messages/{second.pk}/split/")

    new_ticket = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{new_ticket.number}/"
    assert Message.objects.get(pk=second.pk).ticket_id == new_ticket.pk


def test_htmx_split_answers_with_the_new_tickets_location(
    bob_client: Client, ticket: Ticket
) -> None:
    second = receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            text="Another thing",
            ticket_number=ticket.number,
        )
    )

    response = bob_client.post(
        f"/tickets/{ticket.number}/messages/{second.pk}/split/", headers=HTMX
    )

    new_ticket = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response.status_code == 204
    assert response["HX-Location"] == f"/tickets/{new_ticket.number}/"


def test_the_only_message_does_not_split(bob_client: Client, ticket: Ticket) -> None:
    message = ticket.messages.get()
    page = bob_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Split into new ticket" not in page

    response = bob_client.post(
        f"/tickets/{ticket.number}/messages/{message.pk}/split/", headers=HTMX
    )

    assert response.status_code == 409
    assert Ticket.objects.count() == 1


def test_a_reply_does_not_split(bob_client: Client, ticket: Ticket, agent: User) -> None:
    reply = add_reply(ticket, author=agent, text="Hello")

    response = bob_client.post(f"/tickets/{ticket.number}/messages/{reply.pk}/split/")

    assert response.status_code == 409
    assert Ticket.objects.count() == 1


def test_split_needs_a_session(ticket: Ticket) -> None:
    message = ticket.messages.get()
    response = Client().post(f"/tickets/{ticket.number}/messages/{message.pk}/split/")

    assert response.status_code == 302
    assert Ticket.objects.count() == 1


# --- Orders ---------------------------------------------------------------------------------------


def make_order(customer: Customer, number: str) -> Order:
    order, _created = upsert_order(
        store="shop",
        external_id=number,
        number=f"#{number}",
        placed_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        currency="EUR",
        subtotal=Decimal("80.00"),
        total=Decimal("80.00"),
        customer=customer,
        lines=[],
    )
    return order


def test_an_order_links_and_unlinks_from_the_customer_panel(
    bob_client: Client, ticket: Ticket, agent: User
) -> None:
    order = make_order(ticket.customer, "1042")
    url = f"/tickets/{ticket.number}/orders/{order.pk}/"
    page = bob_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert url in page
    assert f"Link to #{ticket.number}" in page

    linked = bob_client.post(url, {"action": "link"}, headers=HTMX)

    assert linked.status_code == 200
    assert list(ticket.orders.all()) == [order]
    assert f"Unlink from #{ticket.number}" in linked.content.decode()
    assert "linked order #1042" in linked.content.decode()
    assert TicketActivity.objects.get(verb="order_linked").actor == agent

    unlinked = bob_client.post(url, {"action": "unlink"}, headers=HTMX)

    assert unlinked.status_code == 200
    assert not ticket.orders.exists()
    assert "unlinked order #1042" in unlinked.content.decode()


def test_another_customers_order_cannot_be_linked(
    bob_client: Client, ticket: Ticket, make_ticket: Callable[..., Ticket]
) -> None:
    stranger = make_ticket().customer
    order = make_order(stranger, "2000")

    response = bob_client.post(f"/tickets/{ticket.number}/orders/{order.pk}/", {"action": "link"})

    assert response.status_code == 404
    assert not ticket.orders.exists()


@pytest.mark.parametrize("action", ["", "delete", "LINK"])
def test_an_unknown_order_action_is_a_400(bob_client: Client, ticket: Ticket, action: str) -> None:
    order = make_order(ticket.customer, "1042")

    response = bob_client.post(
        f"/tickets/{ticket.number}/orders/{order.pk}/", {"action": action}, headers=HTMX
    )

    assert response.status_code == 400
    assert "Choose to link or unlink the order." in response.content.decode()
    assert not ticket.orders.exists()


def test_linking_an_order_needs_a_session(ticket: Ticket) -> None:
    order = make_order(ticket.customer, "1042")

    response = Client().post(f"/tickets/{ticket.number}/orders/{order.pk}/", {"action": "link"})

    assert response.status_code == 302
    assert not ticket.orders.exists()
