"""Whether a ticket's channel takes a free-text reply now: the can-send endpoint for each
channel, and the reply endpoint's 409 when it does not (WhatsApp has its own file, with
templates)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_inbox.chat.presence import visitor_connected
from channels_inbox.models import ChannelAccount
from channels_inbox.services import check_reply, reply_send_check
from channels_inbox.sms.keywords import keyword_of
from channels_inbox.sms.services import record_keyword
from helpdesk.models import Team, User
from tests.caches import clear_cache
from tickets.models import Message, Ticket
from tickets.services import InboundMessage, TicketError, open_ticket, receive_message

pytestmark = pytest.mark.django_db

ANA_PHONE = "+17185550123"
VISITOR = "vAnaVisitor0123456789abcd"
# Ana on Messenger: her page-scoped id.
ANA_PSID = "6245891937421095"


def can_send_url(ticket_id: Any) -> str:
    return f"/api/v1/tickets/{ticket_id}/can-send/"


def reply_url(ticket_id: Any) -> str:
    return f"/api/v1/tickets/{ticket_id}/reply/"


def make_account(team: Team, kind: str, **fields: Any) -> ChannelAccount:
    values: dict[str, Any] = {
        "kind": kind,
        "name": f"Shop {kind}",
        "slug": f"shop-{kind}",
        "address": {"sms": "+14155550100"}.get(kind, ""),
        "default_team": team,
    }
    values.update(fields)
    return ChannelAccount.objects.create(**values)


def customer_wrote(
    account: ChannelAccount, sender: str, *, ago: timedelta, provider_message_id: str = ""
) -> Ticket:
    """A message from the customer ``ago`` ago on ``account``; its ticket."""
    message = receive_message(
        InboundMessage(
            channel=account.kind,
            sender_address=sender,
            sender_name="Ana Souza",
            text="Where is my order?",
            provider_message_id=provider_message_id,
            received_at=timezone.now() - ago,
        ),
        channel_account=account,
    )
    return Ticket.objects.get(pk=message.ticket_id)


# --- SMS -----------------------------------------------------------------------------------


@pytest.fixture
def sms_ticket(support_team: Team) -> Ticket:
    account = make_account(support_team, "sms")
    return customer_wrote(account, ANA_PHONE, ago=timedelta(minutes=5), provider_message_id="SM1")


def test_an_sms_number_that_did_not_opt_out_can_be_answered(
    agent_client: APIClient, sms_ticket: Ticket
) -> None:
    response = agent_client.get(can_send_url(sms_ticket.pk))

    assert response.status_code == 200
    assert response.json() == {"allowed": True, "reason": "", "templates": []}


def test_an_sms_number_that_opted_out_is_refused_before_typing_and_on_reply(
    agent_client: APIClient, sms_ticket: Ticket
) -> None:
    account = sms_ticket.channel_account
    keyword = keyword_of("STOP")
    assert account is not None
    assert keyword is not None
    record_keyword(account, address=ANA_PHONE, keyword=keyword)
    opt_out = account.opt_outs.get()
    reason = (
        f"{ANA_PHONE} opted out of messages from this number: they sent STOP on "
        f"{opt_out.opted_out_at:%Y-%m-%d %H:%M} UTC. Nothing is sent until they send START."
    )

    check = agent_client.get(can_send_url(sms_ticket.pk))
    reply = agent_client.post(reply_url(sms_ticket.pk), {"text": "Hello?"}, format="json")

    assert check.json() == {"allowed": False, "reason": reason, "templates": []}
    assert reply.status_code == 409
    assert reply.json() == {"detail": reason, "templates": []}
    assert not Message.objects.filter(ticket=sms_ticket, direction="outbound").exists()


# --- Messenger -----------------------------------------------------------------------------


def test_messenger_refuses_free_text_after_its_window_unless_human_agent_is_allowed(
    agent_client: APIClient, support_team: Team
) -> None:
    account = make_account(support_team, "messenger", address="104728491827561")
    ticket = customer_wrote(account, ANA_PSID, ago=timedelta(days=2), provider_message_id="m_1")

    closed = agent_client.get(can_send_url(ticket.pk)).json()
    account.options = {"human_agent_tag": True}
    account.save(update_fields=["options"])
    tagged = agent_client.get(can_send_url(ticket.pk)).json()

    assert closed["allowed"] is False
    assert closed["reason"].startswith("The 24-hour messaging window closed at ")
    assert "HUMAN_AGENT" in closed["reason"]
    assert closed["templates"] == []
    assert tagged["allowed"] is True
    assert "a reply goes with the HUMAN_AGENT tag until" in tagged["reason"]


def test_a_messenger_reply_after_the_window_is_a_409_and_nothing_is_stored(
    agent_client: APIClient, support_team: Team
) -> None:
    account = make_account(support_team, "messenger", address="104728491827561")
    ticket = customer_wrote(account, ANA_PSID, ago=timedelta(days=9), provider_message_id="m_1")
    assert ticket.last_customer_message_at is not None
    closes_at = ticket.last_customer_message_at + timedelta(hours=24)

    response = agent_client.post(reply_url(ticket.pk), {"text": "Sorry!"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": (
            f"The 24-hour messaging window closed at {closes_at:%Y-%m-%d %H:%M} UTC (24 hours "
            "after the customer's last message): nothing can be sent until the customer "
            "writes again."
        ),
        "templates": [],
    }
    assert not Message.objects.filter(ticket=ticket, direction="outbound").exists()


# --- Chat ----------------------------------------------------------------------------------


@pytest.fixture
def chat_ticket(support_team: Team) -> Iterator[Ticket]:
    account = make_account(support_team, "chat")
    clear_cache()  # presence lives in the cache: the visitor starts offline
    ticket = customer_wrote(
        account, VISITOR, ago=timedelta(minutes=1), provider_message_id=f"{VISITOR}:1"
    )
    yield ticket
    clear_cache()


def test_chat_is_always_allowed_and_says_when_the_reply_goes_by_email(
    agent_client: APIClient, chat_ticket: Ticket
) -> None:
    offline = agent_client.get(can_send_url(chat_ticket.pk)).json()
    visitor_connected(VISITOR)
    online = agent_client.get(can_send_url(chat_ticket.pk)).json()

    assert offline == {
        "allowed": True,
        "reason": "Visitor offline: the reply goes by email.",
        "templates": [],
    }
    assert online == {"allowed": True, "reason": "The visitor has the chat open.", "templates": []}


# --- Channels without rules, and bad input -------------------------------------------------


def test_email_and_tickets_without_an_account_are_always_allowed(
    agent_client: APIClient, ticket: Ticket, agent: User
) -> None:
    opened = open_ticket(customer=ticket.customer, channel="email", subject="Call", actor=agent)

    assert agent_client.get(can_send_url(ticket.pk)).json() == {
        "allowed": True,
        "reason": "",
        "templates": [],
    }
    assert reply_send_check(opened).allowed is True
    check_reply(opened)  # does not raise


def test_the_reply_check_is_a_ticket_error(support_team: Team) -> None:
    account = make_account(support_team, "messenger", address="104728491827561")
    ticket = customer_wrote(account, ANA_PSID, ago=timedelta(days=9), provider_message_id="m_1")

    with pytest.raises(TicketError):
        check_reply(ticket)


@pytest.mark.parametrize(
    ("ticket_id", "code"),
    [
        pytest.param("999999", 404, id="unknown ticket"),
        pytest.param("abc", 404, id="not a number"),
        pytest.param("-1", 404, id="negative"),
    ],
)
def test_can_send_for_a_ticket_that_does_not_exist_is_a_404(
    agent_client: APIClient, ticket_id: str, code: int
) -> None:
    assert agent_client.get(can_send_url(ticket_id)).status_code == code


def test_can_send_needs_a_signed_in_agent(anonymous_client: APIClient, ticket: Ticket) -> None:
    response = anonymous_client.get(can_send_url(ticket.pk))

    assert response.status_code in (401, 403)


def test_can_send_takes_no_other_method(agent_client: APIClient, ticket: Ticket) -> None:
    assert agent_client.post(can_send_url(ticket.pk), {}, format="json").status_code == 405
