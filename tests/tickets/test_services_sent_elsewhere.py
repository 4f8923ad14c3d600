"""record_sent_elsewhere: a message the business sent the customer from outside Switchboard
lands on the conversation as a sent reply, once, and is never sent again."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from channels_inbox.models import ChannelAccount
from helpdesk.celery import app as celery_app
from helpdesk.models import Team, User
from tests.helpdesk import event_tasks
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import (
    InboundMessage,
    TicketError,
    add_reply,
    change_status,
    mark_message_sent,
    receive_message,
    record_sent_elsewhere,
)

pytestmark = pytest.mark.django_db

ANA = "6789012345678901"
SENT_AT = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)


@pytest.fixture
def page(support_team: Team) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="messenger", name="Shop on Facebook", slug="shop-fb", default_team=support_team
    )


@pytest.fixture
def consumers(settings: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """What the event consumers receive, run eagerly."""
    settings.EVENT_CONSUMER_TASKS = ["tests.helpdesk.event_tasks.record_event_task"]
    was_eager = celery_app.conf.get("task_always_eager")
    celery_app.conf.update(task_always_eager=True)
    event_tasks.RECEIVED.clear()
    yield event_tasks.RECEIVED
    event_tasks.RECEIVED.clear()
    celery_app.conf.update(task_always_eager=was_eager)


def from_ana(text: str = "Is the blue mug back?", **fields: Any) -> InboundMessage:
    return InboundMessage(
        channel="messenger", sender_address=ANA, sender_name="Ana Souza", text=text, **fields
    )


def sent_elsewhere(text: str = "Yes, since Monday.", **fields: Any) -> InboundMessage:
    fields.setdefault("provider_message_id", "m_FROM_BUSINESS_SUITE")
    fields.setdefault("received_at", SENT_AT)
    return InboundMessage(
        channel="messenger", sender_address=ANA, text=text, sent_elsewhere=True, **fields
    )


@pytest.fixture
def ticket(page: ChannelAccount) -> Ticket:
    return receive_message(
        from_ana(provider_message_id="m_ANA_1", received_at=datetime(2026, 1, 1, 12, tzinfo=UTC)),
        channel_account=page,
    ).ticket


def test_it_is_recorded_as_a_sent_reply_on_the_conversation(
    ticket: Ticket,
    page: ChannelAccount,
    consumers: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    consumers.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reply = record_sent_elsewhere(sent_elsewhere(), channel_account=page)

    assert reply.ticket_id == ticket.pk
    assert (reply.direction, reply.kind, reply.text) == ("outbound", "reply", "Yes, since Monday.")
    assert (reply.delivery_status, reply.delivery_updated_at) == ("sent", SENT_AT)
    assert (reply.provider_message_id, reply.channel_account) == ("m_FROM_BUSINESS_SUITE", page)
    assert reply.author_agent is None
    assert reply.threading_reason == Message.ThreadingReason.ACTIVE_CONVERSATION
    ticket.refresh_from_db()
    assert (ticket.status, ticket.first_responded_at, ticket.last_agent_message_at) == (
        Ticket.Status.OPEN,
        SENT_AT,
        SENT_AT,
    )
    assert ticket.last_message_at == SENT_AT
    assert ticket.assignee is None
    replied = TicketActivity.objects.get(ticket=ticket, verb=TicketActivity.Verb.REPLIED)
    assert (replied.actor, replied.data) == (None, {"message_id": reply.pk, "sent_elsewhere": True})
    # Created and shown, never queued: it was sent already.
    assert consumers == [
        ("message.created", {"ticket_id": ticket.pk, "message_id": reply.pk, "kind": "reply"}),
        (
            "ticket.updated",
            {
                "ticket_id": ticket.pk,
                "fields": [
                    "first_responded_at",
                    "last_agent_message_at",
                    "last_message_at",
                    "status",
                ],
            },
        ),
    ]


def test_a_reply_we_sent_ourselves_is_not_recorded_again(
    ticket: Ticket, page: ChannelAccount, agent: User
) -> None:
    # Ana writes again, so Messenger's 24-hour window is open for our reply.
    receive_message(from_ana("Still there?", provider_message_id="m_ANA_2"), channel_account=page)
    ours = add_reply(ticket, author=agent, text="Yes, since Monday.")
    mark_message_sent(ours.pk, provider_message_id="m_OURS")

    found = record_sent_elsewhere(
        sent_elsewhere(provider_message_id="m_OURS"), channel_account=page
    )

    assert found == ours
    assert Message.objects.filter(direction="outbound").count() == 1


def test_a_repeated_report_returns_the_first_record(ticket: Ticket, page: ChannelAccount) -> None:
    first = record_sent_elsewhere(sent_elsewhere(), channel_account=page)

    again = record_sent_elsewhere(sent_elsewhere(), channel_account=page)

    assert again == first
    assert TicketActivity.objects.filter(verb=TicketActivity.Verb.REPLIED).count() == 1


def test_receive_message_refuses_it(ticket: Ticket, page: ChannelAccount) -> None:
    """Never stored as the customer's words: the pipeline hands it to record_sent_elsewhere."""
    with pytest.raises(TicketError, match="record_sent_elsewhere"):
        receive_message(sent_elsewhere(), channel_account=page)

    assert Message.objects.filter(direction="outbound").count() == 0


def test_a_closed_conversation_gets_a_follow_up(
    ticket: Ticket, page: ChannelAccount, agent: User
) -> None:
    change_status(ticket, Ticket.Status.CLOSED, actor=agent)

    reply = record_sent_elsewhere(sent_elsewhere(), channel_account=page)

    follow_up = reply.ticket
    assert follow_up.pk != ticket.pk
    assert follow_up.follow_up_of_id == ticket.pk
    assert reply.threading_reason == Message.ThreadingReason.FOLLOW_UP
    assert follow_up.status == Ticket.Status.OPEN
    assert (follow_up.last_customer_message_at, follow_up.last_agent_message_at) == (
        None,
        SENT_AT,
    )


def test_without_a_conversation_one_is_opened(page: ChannelAccount) -> None:
    reply = record_sent_elsewhere(
        dataclasses.replace(sent_elsewhere(), sender_name="Ana Souza"), channel_account=page
    )

    ticket = reply.ticket
    assert reply.threading_reason == Message.ThreadingReason.NEW_CONVERSATION
    assert (ticket.status, ticket.first_responded_at, ticket.assignee) == (
        Ticket.Status.OPEN,
        SENT_AT,
        None,
    )
    assert ticket.customer.name == "Ana Souza"
    assert Message.objects.filter(direction="inbound").count() == 0


def test_an_empty_report_is_refused_and_saves_nothing(page: ChannelAccount) -> None:
    with pytest.raises(TicketError):
        record_sent_elsewhere(sent_elsewhere(text=""), channel_account=page)

    assert Ticket.objects.count() == 0
