"""Splitting a customer message into a new ticket, and moving a message between tickets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from channels_inbox.models import ChannelAccount
from helpdesk.celery import app as celery_app
from helpdesk.models import User
from tests.helpdesk import event_tasks
from tickets.models import Attachment, Message, Ticket, TicketActivity
from tickets.services import (
    InboundAttachment,
    InboundMessage,
    TicketError,
    add_note,
    add_reply,
    assign_team,
    change_priority,
    change_status,
    merge_tickets,
    move_message,
    receive_message,
    split_message_to_new_ticket,
)

pytestmark = pytest.mark.django_db

Verb = TicketActivity.Verb
Reason = Message.ThreadingReason
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def email(**overrides: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "channel": "email",
        "sender_address": "ana@example.com",
        "sender_name": "Ana Souza",
        "subject": "Where is my order?",
        "text": "Where is my order?",
        "starts_conversation": True,
    }
    fields.update(overrides)
    return InboundMessage(**fields)


def activities(ticket: Ticket) -> list[tuple[str, int | None, dict[str, Any]]]:
    return [(a.verb, a.actor_id, a.data) for a in ticket.activities.order_by("id")]


def state() -> dict[str, Any]:
    return {
        "tickets": list(Ticket.objects.order_by("id").values()),
        "messages": list(Message.objects.order_by("id").values()),
        "attachments": list(Attachment.objects.order_by("id").values()),
        "activities": list(TicketActivity.objects.order_by("id").values_list("id", "verb")),
    }


@pytest.fixture
def conversation(email_account: ChannelAccount, agent: User) -> dict[str, Message]:
    """Ana's ticket: her question, our reply, a note, then a second question with an
    invoice attached (which belongs in a ticket of its own)."""
    question = receive_message(
        email(provider_message_id="q1@x", received_at=T0), channel_account=email_account
    )
    ticket = question.ticket
    reply = add_reply(ticket, author=agent, text="It ships today.")
    note = add_note(ticket, author=agent, text="Checked the warehouse.")
    invoice = receive_message(
        email(
            provider_message_id="q2@x",
            references=("q1@x",),
            text="\nAlso: my invoice shows the wrong address.\nSee attached.",
            attachments=(InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1"),),
        ),
        channel_account=email_account,
    )
    return {"question": question, "reply": reply, "note": note, "invoice": invoice}


# --- Split -------------------------------------------------------------------------------------


def test_split_moves_the_message_and_its_attachments_to_a_new_ticket(
    conversation: dict[str, Message], agent: User, returns_team: Any, email_account: ChannelAccount
) -> None:
    source = conversation["invoice"].ticket
    assign_team(source, returns_team, actor=agent)
    change_priority(source, "high", actor=agent)
    source_activities = activities(source)

    new = split_message_to_new_ticket(conversation["invoice"], actor=agent)

    invoice = Message.objects.get(pk=conversation["invoice"].pk)
    assert invoice.ticket_id == new.pk
    assert invoice.threading_reason == Reason.SPLIT
    assert list(Attachment.objects.filter(message__ticket=new).values_list("name", flat=True)) == [
        "invoice.pdf"
    ]
    new = Ticket.objects.get(pk=new.pk)
    assert (new.number, new.subject, new.status, new.priority) == (
        2,
        "Also: my invoice shows the wrong address.",
        Ticket.Status.NEW,
        "high",
    )
    assert (new.customer_id, new.channel, new.channel_account_id, new.team_id) == (
        source.customer_id,
        "email",
        email_account.pk,
        returns_team.pk,
    )
    assert (new.last_customer_message_at, new.last_message_at) == (
        invoice.created_at,
        invoice.created_at,
    )
    assert new.last_agent_message_at is None
    assert activities(new) == [
        (Verb.CREATED, agent.pk, {"channel": "email"}),
        (Verb.SPLIT_FROM, agent.pk, {"message_id": invoice.pk, "source": {"id": source.pk,
                                                                         "number": 1}}),
    ]  # fmt: skip
    assert activities(source) == [
        *source_activities,
        (Verb.MESSAGE_SPLIT, agent.pk, {"message_id": invoice.pk, "target": {"id": new.pk,
                                                                            "number": 2}}),
    ]  # fmt: skip
    source.refresh_from_db()
    question, reply = conversation["question"], conversation["reply"]
    reply.refresh_from_db()
    question.refresh_from_db()
    assert list(source.messages.values_list("pk", flat=True)) == [
        question.pk,
        reply.pk,
        conversation["note"].pk,
    ]
    assert source.last_customer_message_at == question.created_at
    assert source.last_agent_message_at == reply.created_at
    assert source.last_message_at == reply.created_at


@pytest.fixture
def consumers(settings: Any) -> Iterator[list[Any]]:
    """The recording event task as the only consumer, run eagerly."""
    settings.EVENT_CONSUMER_TASKS = ["tests.helpdesk.event_tasks.record_event_task"]
    was_eager = celery_app.conf.get("task_always_eager")
    celery_app.conf.update(task_always_eager=True)
    event_tasks.RECEIVED.clear()
    yield event_tasks.RECEIVED
    event_tasks.RECEIVED.clear()
    celery_app.conf.update(task_always_eager=was_eager)


def test_split_emits_an_update_for_each_ticket_after_commit(
    conversation: dict[str, Message],
    agent: User,
    consumers: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    source = conversation["invoice"].ticket
    consumers.clear()

    with django_capture_on_commit_callbacks(execute=True):
        new = split_message_to_new_ticket(conversation["invoice"], actor=agent)

    stamps = ["last_customer_message_at", "last_agent_message_at", "last_message_at"]
    assert consumers == [
        ("ticket.created", {"ticket_id": new.pk}),
        ("ticket.updated", {"ticket_id": source.pk, "fields": ["messages", *stamps]}),
        ("ticket.updated", {"ticket_id": new.pk, "fields": ["messages", *stamps]}),
    ]


@pytest.mark.parametrize("which", ["reply", "note"])
def test_only_customer_messages_split(
    conversation: dict[str, Message], agent: User, which: str
) -> None:
    before = state()

    with pytest.raises(TicketError, match="Only a customer message can be split"):
        split_message_to_new_ticket(conversation[which], actor=agent)

    assert state() == before


def test_the_only_message_does_not_split(ticket: Ticket, agent: User) -> None:
    only = ticket.messages.get()
    before = state()

    with pytest.raises(TicketError, match=f"ticket #{ticket.number}'s only message"):
        split_message_to_new_ticket(only, actor=agent)

    assert state() == before


def test_split_from_a_closed_ticket_is_refused(
    conversation: dict[str, Message], agent: User
) -> None:
    change_status(conversation["invoice"].ticket, "closed", actor=agent)
    before = state()

    with pytest.raises(TicketError, match="is closed"):
        split_message_to_new_ticket(conversation["invoice"], actor=agent)

    assert state() == before


def test_split_of_a_message_moved_meanwhile_is_refused(
    conversation: dict[str, Message], agent: User, make_ticket: Callable[..., Ticket]
) -> None:
    """Two agents on one message: the second one holds a stale copy and is told so."""
    stale = conversation["invoice"]
    other = make_ticket(sender_address="ana@example.com")
    move_message(stale, other, actor=agent)
    before = state()

    with pytest.raises(TicketError, match="moved to another ticket meanwhile"):
        split_message_to_new_ticket(stale, actor=agent)

    assert state() == before


# --- Move --------------------------------------------------------------------------------------


@pytest.fixture
def other_ticket(make_ticket: Callable[..., Ticket]) -> Ticket:
    """A second ticket of Ana's."""
    return make_ticket(sender_address="ana@example.com", subject="Refund")


def test_move_a_customer_message_with_its_attachments(
    conversation: dict[str, Message], other_ticket: Ticket, agent: User
) -> None:
    source = conversation["invoice"].ticket
    target_activities = activities(other_ticket)

    moved = move_message(conversation["invoice"], other_ticket, actor=agent)

    assert (moved.pk, moved.ticket_id, moved.threading_reason) == (
        conversation["invoice"].pk,
        other_ticket.pk,
        Reason.MOVED,
    )
    assert moved.get_threading_reason_display() == "Moved from another ticket"
    assert list(Attachment.objects.filter(message=moved).values_list("name", flat=True)) == [
        "invoice.pdf"
    ]
    ref = {"message_id": moved.pk}
    assert activities(source)[-1] == (
        Verb.MESSAGE_MOVED_OUT,
        agent.pk,
        {**ref, "target": {"id": other_ticket.pk, "number": other_ticket.number}},
    )
    assert activities(other_ticket) == [
        *target_activities,
        (Verb.MESSAGE_MOVED_IN, agent.pk, {**ref, "source": {"id": source.pk, "number": 1}}),
    ]
    target = Ticket.objects.get(pk=other_ticket.pk)
    own = target.messages.exclude(pk=moved.pk).get()
    assert target.messages.count() == 2
    # The moved message is the older one: the target's stamps are its own message's time.
    assert (target.last_customer_message_at, target.last_message_at) == (
        own.created_at,
        own.created_at,
    )
    source.refresh_from_db()
    assert source.messages.count() == 3
    assert source.last_customer_message_at == conversation["question"].created_at


def test_a_note_moves(conversation: dict[str, Message], other_ticket: Ticket, agent: User) -> None:
    own = other_ticket.messages.get()
    note = conversation["note"]
    Message.objects.filter(pk=note.pk).update(created_at=own.created_at + timedelta(hours=1))

    moved = move_message(note, other_ticket, actor=agent)

    assert (moved.ticket_id, moved.kind, moved.threading_reason) == (
        other_ticket.pk,
        "note",
        Reason.MOVED,
    )
    # A note is no message to or from the customer: even a later one stamps nothing.
    target = Ticket.objects.get(pk=other_ticket.pk)
    assert (target.last_message_at, target.last_agent_message_at) == (own.created_at, None)


def test_moving_the_last_message_leaves_the_source_empty_and_unstamped(
    ticket: Ticket, other_ticket: Ticket, agent: User
) -> None:
    only = ticket.messages.get()

    move_message(only, other_ticket, actor=agent)

    ticket.refresh_from_db()
    assert ticket.messages.count() == 0
    assert ticket.status == Ticket.Status.NEW
    assert (ticket.last_customer_message_at, ticket.last_message_at) == (None, None)


@pytest.mark.parametrize(
    ("which", "error"),
    [
        ("reply", "Only customer messages and notes can be moved"),
        ("system", "Only customer messages and notes can be moved"),
    ],
)
def test_replies_and_system_messages_do_not_move(
    conversation: dict[str, Message], other_ticket: Ticket, agent: User, which: str, error: str
) -> None:
    if which == "system":
        message = Message.objects.create(
            ticket=conversation["question"].ticket,
            direction=Message.Direction.INTERNAL,
            kind=Message.Kind.SYSTEM,
            text="Delivery failed",
        )
    else:
        message = conversation[which]
    before = state()

    with pytest.raises(TicketError, match=error):
        move_message(message, other_ticket, actor=agent)

    assert state() == before


def test_move_to_another_customers_ticket_is_refused(
    conversation: dict[str, Message], make_ticket: Callable[..., Ticket], agent: User
) -> None:
    strangers = make_ticket(sender_address="mallory@example.com")
    before = state()

    with pytest.raises(TicketError, match=f"#{strangers.number} belongs to another customer"):
        move_message(conversation["invoice"], strangers, actor=agent)

    assert state() == before


def test_move_to_its_own_ticket_is_refused(conversation: dict[str, Message], agent: User) -> None:
    invoice = conversation["invoice"]
    before = state()

    with pytest.raises(TicketError, match="already on ticket #1"):
        move_message(invoice, invoice.ticket, actor=agent)

    assert state() == before


@pytest.mark.parametrize("closed", ["source", "target"])
def test_move_from_or_to_a_closed_ticket_is_refused(
    conversation: dict[str, Message], other_ticket: Ticket, agent: User, closed: str
) -> None:
    change_status(
        conversation["invoice"].ticket if closed == "source" else other_ticket,
        "closed",
        actor=agent,
    )
    before = state()

    with pytest.raises(TicketError, match="is closed"):
        move_message(conversation["invoice"], other_ticket, actor=agent)

    assert state() == before


def test_move_to_a_merged_ticket_is_refused(
    conversation: dict[str, Message],
    other_ticket: Ticket,
    make_ticket: Callable[..., Ticket],
    agent: User,
) -> None:
    merge_tickets(other_ticket, make_ticket(sender_address="ana@example.com"), actor=agent)
    before = state()

    with pytest.raises(TicketError, match="was merged into another ticket"):
        move_message(conversation["invoice"], other_ticket, actor=agent)

    assert state() == before


def test_a_reply_to_a_moved_message_follows_it(
    conversation: dict[str, Message], other_ticket: Ticket, agent: User
) -> None:
    """Threading by references finds the message where it is now."""
    move_message(conversation["invoice"], other_ticket, actor=agent)

    answer = receive_message(
        email(provider_message_id="q3@x", references=("q2@x",)),
        channel_account=conversation["invoice"].channel_account,
    )

    assert (answer.ticket_id, answer.threading_reason) == (other_ticket.pk, Reason.REFERENCES)


def test_move_emits_an_update_for_each_ticket_after_commit(
    conversation: dict[str, Message],
    other_ticket: Ticket,
    agent: User,
    consumers: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    source = conversation["invoice"].ticket
    consumers.clear()

    with django_capture_on_commit_callbacks(execute=True):
        move_message(conversation["invoice"], other_ticket, actor=agent)

    stamps = ["last_customer_message_at", "last_agent_message_at", "last_message_at"]
    assert consumers == [
        ("ticket.updated", {"ticket_id": source.pk, "fields": ["messages", *stamps]}),
        ("ticket.updated", {"ticket_id": other_ticket.pk, "fields": ["messages", *stamps]}),
    ]
