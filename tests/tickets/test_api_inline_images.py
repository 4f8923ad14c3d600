"""Inline email images: the stored HTML keeps ``cid:`` references; the API shows each one as
the URL its attachment is downloaded from."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount
from helpdesk.models import User
from tests.tickets.api_support import url
from tickets.models import Attachment, Message, Ticket
from tickets.services import InboundAttachment, InboundMessage, receive_message

pytestmark = pytest.mark.django_db

HTML = (
    '<p>The box:<img src="cid:box@mail.example" alt="box"></p>'
    '<p>Gone:<img src="cid:missing@mail.example"></p>'
)


def receive_with_inline_image(
    email_account: ChannelAccount, sender: str, provider_id: str, ticket: Ticket | None = None
) -> Message:
    return receive_message(
        InboundMessage(
            channel="email",
            sender_address=sender,
            subject="Damaged parcel",
            text="The box: [image]",
            html=HTML,
            provider_message_id=provider_id,
            starts_conversation=ticket is None,
            attachments=(
                InboundAttachment("box.png", "image/png", b"\x89PNG-box", "box@mail.example"),
                InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1"),
            ),
        ),
        channel_account=email_account,
    )


def test_inline_image_points_at_its_attachment(
    agent_client: APIClient, email_account: ChannelAccount
) -> None:
    message = receive_with_inline_image(email_account, "ana@example.com", "in-1@mail.example")
    image = Attachment.objects.get(name="box.png")

    response = agent_client.get(url("ticket-messages", message.ticket_id))

    assert response.status_code == 200
    [row] = response.json()["results"]
    image_url = f"http://testserver/attachments/{image.pk}/box.png"
    assert row["html"] == (
        f'<p>The box:<img src="{image_url}" alt="box"></p>'
        '<p>Gone:<img src="cid:missing@mail.example"></p>'
    )
    assert row["attachments"][0]["url"] == image_url
    message.refresh_from_db()
    assert message.html == HTML  # stored as received; resolved only when shown


def test_the_image_url_downloads_the_image(
    agent_client: APIClient, client: Client, agent: User, email_account: ChannelAccount
) -> None:
    message = receive_with_inline_image(email_account, "ana@example.com", "in-1@mail.example")
    row = agent_client.get(url("ticket-messages", message.ticket_id)).json()["results"][0]
    image_url = row["html"].split('src="', 1)[1].split('"', 1)[0]
    client.force_login(agent)

    response = client.get(image_url)

    assert response.status_code == 200
    assert response.getvalue() == b"\x89PNG-box"


@pytest.mark.parametrize("page_size", [5, 50])
def test_inline_images_cost_no_extra_queries(
    agent_client: APIClient,
    email_account: ChannelAccount,
    page_size: int,
    django_assert_num_queries: Any,
) -> None:
    """The ticket, the messages with their authors, the attachments: 3 queries, as without
    inline images."""
    first = receive_with_inline_image(email_account, "ana@example.com", "in-0@mail.example")
    ticket = Ticket.objects.get(pk=first.ticket_id)
    for n in range(1, 50):
        receive_with_inline_image(email_account, "ana@example.com", f"in-{n}@mail.example", ticket)
    assert Message.objects.filter(ticket=ticket).count() == 50

    with django_assert_num_queries(3):
        response = agent_client.get(url("ticket-messages", ticket.pk), {"page_size": page_size})

    rows = response.json()["results"]
    assert len(rows) == page_size
    assert all("cid:box@mail.example" not in row["html"] for row in rows)
    assert all("cid:missing@mail.example" in row["html"] for row in rows)
