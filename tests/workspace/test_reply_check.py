"""The composer says what the ticket's channel allows before the agent types: the reason,
free text off when the channel refuses it, and on WhatsApp the approved templates, sent
through the same service as the API's template-reply endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from channels_inbox.sms.keywords import keyword_of
from channels_inbox.sms.services import record_keyword
from channels_inbox.whatsapp.models import TemplateReply, WhatsAppTemplate
from channels_inbox.whatsapp.templates import create_whatsapp_template
from helpdesk.models import Team, User
from tickets.models import Message, Ticket
from tickets.services import InboundMessage, receive_message

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
ANA_PHONE = "+17185550123"
ORDER_UPDATE_BODY = "Hello {{1}}, your order {{2}} has shipped."


def customer_wrote(account: ChannelAccount, *, ago: timedelta) -> Ticket:
    message = receive_message(
        InboundMessage(
            channel=account.kind,
            sender_address=ANA_PHONE,
            sender_name="Ana Souza",
            text="Is my parcel on its way?",
            provider_message_id=f"wamid.{account.kind}.1",
            received_at=timezone.now() - ago,
        ),
        channel_account=account,
    )
    return Ticket.objects.get(pk=message.ticket_id)


@pytest.fixture
def order_update(whatsapp_account: ChannelAccount, admin: User) -> WhatsAppTemplate:
    return create_whatsapp_template(
        whatsapp_account,
        name="order_update",
        language="en",
        category="utility",
        body=ORDER_UPDATE_BODY,
        actor=admin,
    )


@pytest.fixture
def closed_window(whatsapp_account: ChannelAccount, order_update: WhatsAppTemplate) -> Ticket:
    """Ana wrote on WhatsApp two days ago: the 24-hour window is closed."""
    return customer_wrote(whatsapp_account, ago=timedelta(days=2))


def template_url(ticket: Ticket) -> str:
    return f"/tickets/{ticket.number}/template-reply/"


def test_a_closed_whatsapp_window_is_shown_before_typing_with_the_template_picker(
    bob_client: Client, closed_window: Ticket
) -> None:
    response = bob_client.get(f"/tickets/{closed_window.number}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-reply-allowed="false"' in page
    assert "The 24-hour customer service window closed at" in page
    assert "Free text is off." in page
    assert "Send an approved template instead" in page
    assert 'name="template" value="order_update"' in page
    # One input per parameter, and the preview marks where each goes.
    assert page.count('name="parameters"') == 2
    assert '<mark data-fill="1">{{1}}</mark>' in page


def test_an_open_whatsapp_window_says_until_when_and_offers_no_templates(
    bob_client: Client, whatsapp_account: ChannelAccount, order_update: WhatsAppTemplate
) -> None:
    ticket = customer_wrote(whatsapp_account, ago=timedelta(minutes=10))

    page = bob_client.get(f"/tickets/{ticket.number}/").content.decode()

    assert 'data-reply-allowed="true"' in page
    assert "Free text can be sent until" in page
    assert "Send an approved template instead" not in page


def test_an_sms_number_that_opted_out_is_refused_before_typing(
    bob_client: Client, support_team: Team
) -> None:
    account = ChannelAccount.objects.create(
        kind="sms",
        name="Shop SMS",
        slug="shop-sms",
        address="+14155550100",
        default_team=support_team,
    )
    ticket = customer_wrote(account, ago=timedelta(minutes=5))
    keyword = keyword_of("STOP")
    assert keyword is not None
    record_keyword(account, address=ANA_PHONE, keyword=keyword)
    opted_out_at = account.opt_outs.get().opted_out_at

    page = bob_client.get(f"/tickets/{ticket.number}/").content.decode()

    assert 'data-reply-allowed="false"' in page
    assert f"they sent STOP on {opted_out_at:%Y-%m-%d %H:%M} UTC" in page
    assert "Send an approved template instead" not in page


def test_an_email_ticket_shows_no_check(bob_client: Client, ticket: Ticket) -> None:
    page = bob_client.get(f"/tickets/{ticket.number}/").content.decode()

    assert 'id="reply-check"' in page
    assert 'data-reply-allowed="true"' in page
    assert "reply-check-reason" not in page


def test_sending_a_template_queues_the_filled_body_and_marks_it_as_a_template(
    bob_client: Client, closed_window: Ticket, agent: User
) -> None:
    response = bob_client.post(
        template_url(closed_window),
        {"template": "order_update", "language": "en", "parameters": ["Ana", "#1042"]},
        headers=HTMX,
    )

    assert response.status_code == 200
    reply = Message.objects.get(ticket=closed_window, kind="reply")
    assert reply.text == "Hello Ana, your order #1042 has shipped."
    assert reply.author_agent == agent
    assert reply.delivery_status == "queued"
    marker = TemplateReply.objects.get(message=reply)
    assert (marker.name, marker.language, marker.parameters) == (
        "order_update",
        "en",
        ["Ana", "#1042"],
    )
    page = response.content.decode()
    assert "Template queued" in page
    assert "Hello Ana, your order #1042 has shipped." in page  # the timeline, out of band


def test_a_template_with_a_missing_parameter_is_refused_and_keeps_what_was_typed(
    bob_client: Client, closed_window: Ticket
) -> None:
    response = bob_client.post(
        template_url(closed_window),
        {"template": "order_update", "language": "en", "parameters": ["Ana"]},
        headers=HTMX,
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "takes 2 parameters; 1 given" in page
    assert 'value="Ana"' in page
    assert '<details class="tpl" open>' in page
    assert not Message.objects.filter(ticket=closed_window, kind="reply").exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"template": "order_update", "language": "en", "parameters": ["Ana", " "]}, "is empty"),
        ({"template": "no_such", "language": "", "parameters": []}, "no approved template"),
        ({"language": "en"}, "This field is required."),
        ({"template": "x" * 600}, "Ensure this value has at most 512 characters"),
    ],
)
def test_bad_template_input_is_a_400_and_nothing_is_sent(
    bob_client: Client, closed_window: Ticket, data: dict[str, object], expected: str
) -> None:
    response = bob_client.post(template_url(closed_window), data, headers=HTMX)

    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not Message.objects.filter(ticket=closed_window, kind="reply").exists()


def test_a_template_on_an_email_ticket_is_a_409(bob_client: Client, ticket: Ticket) -> None:
    response = bob_client.post(
        template_url(ticket), {"template": "order_update", "parameters": []}, headers=HTMX
    )

    assert response.status_code == 409
    assert not Message.objects.filter(ticket=ticket, kind="reply").exists()


def test_a_plain_form_post_redirects_back_to_the_ticket(
    bob_client: Client, closed_window: Ticket
) -> None:
    response = bob_client.post(
        template_url(closed_window),
        {"template": "order_update", "language": "en", "parameters": ["Ana", "#1042"]},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{closed_window.number}/"


def test_sending_a_template_needs_a_session(closed_window: Ticket) -> None:
    response = Client().post(
        template_url(closed_window),
        {"template": "order_update", "language": "en", "parameters": ["Ana", "#1042"]},
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Message.objects.filter(ticket=closed_window, kind="reply").exists()


def test_free_text_on_a_closed_window_is_still_refused_by_the_composer(
    bob_client: Client, closed_window: Ticket
) -> None:
    response = bob_client.post(
        f"/tickets/{closed_window.number}/compose/",
        {"mode": "reply", "text": "Hi Ana"},
        headers=HTMX,
    )

    assert response.status_code == 409
    assert "window closed" in response.content.decode()
    assert not Message.objects.filter(ticket=closed_window, kind="reply").exists()
