"""What an agent may send on a WhatsApp ticket: free text inside the 24-hour window; outside
it the can-send endpoint and the reply endpoint's 409 offer the account's approved
templates, and a template reply goes out through the fake Graph API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount
from channels_inbox.whatsapp.models import TemplateReply, WhatsAppTemplate
from channels_inbox.whatsapp.templates import create_whatsapp_template
from helpdesk.models import User
from tests.channels_inbox.whatsapp.conftest import (
    ANA_WA_ID,
    PHONE_NUMBER_ID,
    change_value,
    deliver,
    text,
)
from tests.channels_inbox.whatsapp.fake_graph import VERSION, FakeGraph
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

MESSAGES_PATH = f"/{VERSION}/{PHONE_NUMBER_ID}/messages"
ORDER_UPDATE_BODY = "Olá {{1}}, o pedido {{2}} foi enviado."
ORDER_UPDATE = {
    "name": "order_update",
    "language": "pt_BR",
    "body": ORDER_UPDATE_BODY,
    "parameter_count": 2,
}


def can_send_url(ticket: Ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/can-send/"


def reply_url(ticket: Ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/reply/"


def template_reply_url(ticket: Ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/template-reply/"


def ana_wrote(capture: Any, ago: timedelta) -> Ticket:
    written = int((timezone.now() - ago).timestamp())
    deliver(capture, change_value(messages=[text("Is my parcel on its way?", timestamp=written)]))
    return Ticket.objects.get()


@pytest.fixture
def templates(account: ChannelAccount, admin: User) -> list[WhatsAppTemplate]:
    return [
        create_whatsapp_template(
            account,
            name="order_update",
            language="pt_BR",
            category="utility",
            body=ORDER_UPDATE_BODY,
            actor=admin,
        ),
        create_whatsapp_template(
            account,
            name="hello_again",
            language="en",
            category="marketing",
            body="We miss you!",
            actor=admin,
        ),
    ]


@pytest.fixture
def open_ticket(account: ChannelAccount, django_capture_on_commit_callbacks: Any) -> Ticket:
    """Ana wrote ten minutes ago: the window is open."""
    return ana_wrote(django_capture_on_commit_callbacks, timedelta(minutes=10))


@pytest.fixture
def closed_ticket(account: ChannelAccount, django_capture_on_commit_callbacks: Any) -> Ticket:
    """Ana wrote two days ago: the window is closed."""
    return ana_wrote(django_capture_on_commit_callbacks, timedelta(days=2))


def closed_reason(ticket: Ticket) -> str:
    assert ticket.last_customer_message_at is not None
    closes_at = ticket.last_customer_message_at + timedelta(hours=24)
    return (
        f"The 24-hour customer service window closed at {closes_at:%Y-%m-%d %H:%M} UTC (24 "
        "hours after the customer's last message): only an approved template message can be "
        "sent until the customer writes again."
    )


# --- Can send ------------------------------------------------------------------------------


def test_inside_the_window_free_text_is_allowed_until_it_closes(
    agent_client: APIClient, open_ticket: Ticket, templates: list[WhatsAppTemplate]
) -> None:
    assert open_ticket.last_customer_message_at is not None
    closes_at = open_ticket.last_customer_message_at + timedelta(hours=24)

    response = agent_client.get(can_send_url(open_ticket))

    assert response.status_code == 200
    assert response.json() == {
        "allowed": True,
        "reason": f"Free text can be sent until {closes_at:%Y-%m-%d %H:%M} UTC.",
        "templates": [],
    }


def test_outside_the_window_the_approved_templates_are_offered(
    agent_client: APIClient, closed_ticket: Ticket, templates: list[WhatsAppTemplate]
) -> None:
    response = agent_client.get(can_send_url(closed_ticket))

    assert response.json() == {
        "allowed": False,
        "reason": closed_reason(closed_ticket),
        "templates": [
            {"name": "hello_again", "language": "en", "body": "We miss you!", "parameter_count": 0},
            ORDER_UPDATE,
        ],
    }


def test_a_free_text_reply_outside_the_window_is_a_409_with_the_templates(
    agent_client: APIClient,
    closed_ticket: Ticket,
    templates: list[WhatsAppTemplate],
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = agent_client.post(
            reply_url(closed_ticket), {"text": "It left today."}, format="json"
        )

    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == closed_reason(closed_ticket)
    assert [(item["name"], item["parameter_count"]) for item in body["templates"]] == [
        ("hello_again", 0),
        ("order_update", 2),
    ]
    assert not Message.objects.filter(direction="outbound").exists()
    assert callbacks == []
    assert graph.requests == []


# --- Template replies ----------------------------------------------------------------------


def test_a_template_reply_is_stored_as_its_text_and_sent_as_the_template(
    agent_client: APIClient,
    closed_ticket: Ticket,
    templates: list[WhatsAppTemplate],
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            template_reply_url(closed_ticket),
            {"template": "order_update", "parameters": ["Ana", "#1001"], "status": "pending"},
            format="json",
        )

    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert message.text == "Olá Ana, o pedido #1001 foi enviado."
    assert (message.delivery_status, message.provider_message_id) == ("sent", "wamid.FAKE0001")
    assert TemplateReply.objects.filter(message=message).values_list(
        "name", "language", "parameters"
    ).get() == ("order_update", "pt_BR", ["Ana", "#1001"])
    closed_ticket.refresh_from_db()
    assert closed_ticket.status == "pending"
    [request] = graph.requests
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": ANA_WA_ID,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "pt_BR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ana"},
                        {"type": "text", "text": "#1001"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": f"switchboard-message-{message.pk}",
    }


def test_a_template_forgotten_before_delivery_fails_the_reply_before_any_request(
    agent_client: APIClient,
    closed_ticket: Ticket,
    templates: list[WhatsAppTemplate],
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks() as queued:
        response = agent_client.post(
            template_reply_url(closed_ticket), {"template": "hello_again"}, format="json"
        )
    WhatsAppTemplate.objects.filter(name="hello_again").delete()

    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:
            callback()

    message = Message.objects.get(pk=response.json()["id"])
    assert message.delivery_status == "failed"
    assert message.delivery_error == (
        "The template hello_again (en) is no longer among the account's approved templates."
    )
    assert graph.requests == []


@pytest.mark.parametrize(
    ("payload", "field", "error"),
    [
        pytest.param(
            {"template": "nope"},
            "template",
            "The account has no approved template nope.",
            id="unknown",
        ),
        pytest.param(
            {"template": "order_update", "language": "en"},
            "language",
            "The account has no approved template order_update in en.",
            id="other language",
        ),
        pytest.param(
            {"template": "order_update", "parameters": ["Ana"]},
            "parameters",
            "The template order_update (pt_BR) takes 2 parameters; 1 given.",
            id="too few parameters",
        ),
        pytest.param(
            {"template": "order_update", "parameters": ["Ana", "line\nbreak"]},
            "parameters",
            "Parameter {{2}} may not contain line breaks, tabs or more than four spaces in a row.",
            id="line break",
        ),
        pytest.param(
            {"template": "order_update", "parameters": "Ana"},
            "parameters",
            'Expected a list of items but got type "str".',
            id="not a list",
        ),
        pytest.param({}, "template", "This field is required.", id="no template"),
        pytest.param(
            {"template": "hello_again", "text": "free text"},
            "text",
            "Unknown field.",
            id="unknown field",
        ),
    ],
)
def test_a_bad_template_reply_is_a_400_and_nothing_is_stored(
    agent_client: APIClient,
    closed_ticket: Ticket,
    templates: list[WhatsAppTemplate],
    payload: dict[str, Any],
    field: str,
    error: str,
) -> None:
    response = agent_client.post(template_reply_url(closed_ticket), payload, format="json")

    assert response.status_code == 400, response.content
    assert response.json()[field] == [error]
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_template_reply_on_another_channel_is_a_409(
    agent_client: APIClient, ticket: Ticket
) -> None:
    response = agent_client.post(
        template_reply_url(ticket), {"template": "order_update"}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "Template messages can only be sent on WhatsApp tickets."}
    assert not Message.objects.filter(direction="outbound").exists()


def test_template_replies_need_a_signed_in_agent(
    anonymous_client: APIClient, closed_ticket: Ticket, templates: list[WhatsAppTemplate]
) -> None:
    response = anonymous_client.post(
        template_reply_url(closed_ticket), {"template": "hello_again"}, format="json"
    )

    assert response.status_code in (401, 403)
    assert not Message.objects.filter(direction="outbound").exists()
