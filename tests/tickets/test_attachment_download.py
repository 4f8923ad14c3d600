from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from helpdesk.models import User
from tickets.models import Attachment, Ticket
from tickets.services import InboundAttachment


@pytest.fixture
def attachments(make_ticket: Callable[..., Ticket]) -> dict[str, Attachment]:
    ticket = make_ticket(
        attachments=(
            InboundAttachment("label.png", "image/png", b"\x89PNG fake image"),
            InboundAttachment("invoice.html", "text/html", b"<script>alert(1)</script>"),
        )
    )
    return {a.name: a for a in Attachment.objects.filter(message__ticket=ticket)}


def test_agent_downloads_an_image_inline(
    client: Client, agent: User, attachments: dict[str, Attachment]
) -> None:
    """Images open in the browser, with sniffing off and a sandboxing policy."""
    client.force_login(agent)
    image = attachments["label.png"]

    response = client.get(image.get_absolute_url())

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG fake image"  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="label.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_html_from_a_customer_is_downloaded_never_rendered(
    client: Client, agent: User, attachments: dict[str, Attachment]
) -> None:
    client.force_login(agent)
    page = attachments["invoice.html"]

    response = client.get(page.get_absolute_url())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="invoice.html"'


def test_token_authentication_downloads_too(
    client: Client, agent: User, attachments: dict[str, Attachment]
) -> None:
    token = Token.objects.create(user=agent)
    image = attachments["label.png"]

    response = client.get(image.get_absolute_url(), HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200


def test_anonymous_visitors_get_nothing(client: Client, attachments: dict[str, Attachment]) -> None:
    image = attachments["label.png"]

    response = client.get(image.get_absolute_url())

    assert response.status_code in (401, 403)
    assert b"PNG" not in response.content


def test_unknown_attachment_is_404(client: Client, agent: User, db: None) -> None:
    client.force_login(agent)

    response = client.get("/attachments/999999/missing.png")

    assert response.status_code == 404


def test_media_folder_is_not_served(
    client: Client, agent: User, attachments: dict[str, Attachment]
) -> None:
    client.force_login(agent)
    image = attachments["label.png"]

    response = client.get(f"/media/{image.file.name}")

    assert response.status_code == 404
