"""receive_messages_together: many conversation messages at once, exactly as receive_message
would thread them one at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test.utils import CaptureQueriesContext

from channels_inbox.models import ChannelAccount
from customers.services import resolve_sender
from helpdesk.models import User
from tests.helpdesk import event_tasks
from tickets.models import Message, Ticket
from tickets.services import (
    InboundAttachment,
    InboundMessage,
    TicketError,
    change_status,
    receive_message,
    receive_messages_together,
    receives_together,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def chat(sender: str, text: str, minute: int, **overrides: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "channel": "whatsapp",
        "sender_address": sender,
        "sender_name": f"Customer {sender[-2:]}",
        "text": text,
        "provider_message_id": f"wamid.{sender}.{minute}",
        "received_at": START + timedelta(minutes=minute),
    }
    fields.update(overrides)
    return InboundMessage(**fields)


@pytest.fixture
def recorded_events(settings: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    settings.EVENT_CONSUMER_TASKS = ["tests.helpdesk.event_tasks.record_event_task"]
    event_tasks.RECEIVED.clear()
    yield event_tasks.RECEIVED
    event_tasks.RECEIVED.clear()


@pytest.fixture
def conversations(whatsapp_account: ChannelAccount, agent: User) -> None:
    """Customers +49…01 to …05 with tickets in every state a new message can meet."""

    def ticket(
        sender: str, text: str, minute: int, status: str | None = None, *, new: bool = False
    ) -> Ticket:
        message = receive_message(
            chat(sender, text, minute, starts_conversation=new), channel_account=whatsapp_account
        )
        if status is not None:
            change_status(message.ticket, status, actor=agent)
        return Ticket.objects.get(pk=message.ticket_id)

    ticket("+4915100000001", "Open question", 0)
    ticket("+4915100000002", "Solved question", 1, Ticket.Status.SOLVED)
    ticket("+4915100000003", "Closed question", 2, Ticket.Status.CLOSED)
    ticket("+4915100000004", "Waiting on the customer", 3, Ticket.Status.PENDING)
    older = ticket("+4915100000005", "Still open", 4)
    # A newer, closed conversation of the same customer: the open one is the active one.
    newer = ticket("+4915100000005", "Another question", 5, Ticket.Status.CLOSED, new=True)
    assert newer.pk > older.pk


def batch(small_attachment: bytes, large_attachment: bytes) -> list[InboundMessage]:
    return [
        chat("+4915100000001", "Any news?", 10),
        chat("+4915100000009", "Hello, first time here", 11),
        chat("+4915100000002", "It broke again", 12),
        chat("+4915100000009", "Order 1042", 13),
        chat("+4915100000003", "One more thing", 14),
        chat("+4915100000003", "And another", 15),
        chat(
            "+4915100000004",
            "Here is the photo",
            16,
            attachments=(
                InboundAttachment("box.jpg", "image/jpeg", small_attachment),
                InboundAttachment("video.mp4", "video/mp4", large_attachment),
            ),
        ),
        chat("+4915100000005", "About the open one", 17),
        chat("+4915100000001", "A new topic", 18, starts_conversation=True),
        chat("+4915100000001", "Still the new topic", 19),
        chat("  +49 151 0000 0009 ", "Same person, spaced number", 20),
    ]


def snapshot(messages: list[Message], events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Everything receiving changed, named by what a person sees (ticket numbers, texts),
    not by primary keys, which differ between two runs."""
    text_of = {message.pk: message.text for message in Message.objects.all()}
    number_of = dict(Ticket.objects.values_list("pk", "number"))

    def named(data: dict[str, Any]) -> dict[str, Any]:
        renamed = dict(data)
        if "message_id" in renamed:
            renamed["message_id"] = text_of[renamed["message_id"]]
        if "ticket_id" in renamed:
            renamed["ticket_id"] = number_of[renamed["ticket_id"]]
        return renamed

    tickets = []
    for ticket in Ticket.objects.select_related("follow_up_of", "customer").order_by("number"):
        tickets.append(
            {
                "number": ticket.number,
                "customer": ticket.customer.identities.get().address,
                "subject": ticket.subject,
                "status": ticket.status,
                "team": ticket.team_id,
                "priority": ticket.priority,
                "follow_up_of": ticket.follow_up_of.number if ticket.follow_up_of else None,
                "last_customer_message_at": ticket.last_customer_message_at,
                "last_message_at": ticket.last_message_at,
                "solved_at": ticket.solved_at,
                "timeline": [
                    (activity.verb, named(activity.data))
                    for activity in ticket.activities.order_by("id")
                ],
            }
        )
    return {
        "messages": [
            (
                message.text,
                message.ticket.number,
                message.threading_reason,
                message.author_customer.name if message.author_customer else None,
                message.provider_message_id,
                sorted(message.attachments.values_list("name", "size")),
            )
            for message in messages
        ],
        "tickets": tickets,
        "events": [(name, named(payload)) for name, payload in events],
    }


class Rollback(Exception):
    pass


def outcome(
    receive: Callable[[], list[Message]],
    events: list[tuple[str, dict[str, Any]]],
    capture: Any,
) -> dict[str, Any]:
    """What ``receive`` does, from the same starting point each time: run, deliver the
    events it emitted, take the snapshot, then roll everything back."""
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            with capture(execute=False) as callbacks:
                messages = receive()
            for callback in callbacks:
                callback()
            result = snapshot(messages, list(events))
            raise Rollback
    except Rollback:
        events.clear()
    return result


def both_ways(
    messages: list[InboundMessage],
    account: ChannelAccount,
    events: list[tuple[str, dict[str, Any]]],
    capture: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The outcome of receiving ``messages`` together, then one at a time, each from the
    same starting point."""
    together = outcome(
        lambda: receive_messages_together([(m, account) for m in messages]), events, capture
    )
    one_by_one = outcome(
        lambda: [receive_message(m, channel_account=account) for m in messages], events, capture
    )
    return together, one_by_one


def test_a_mixed_batch_ends_exactly_as_one_message_at_a_time(
    whatsapp_account: ChannelAccount,
    conversations: None,
    recorded_events: list[tuple[str, dict[str, Any]]],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """New and known customers, a customer writing twice, an active, a solved, a pending and
    a closed conversation, an active one older than a closed one, a message that starts a
    conversation, an address written two ways, attachments kept and refused: tickets,
    messages, threading reasons, timelines and events come out the same."""
    settings.MAX_ATTACHMENT_BYTES = 1000
    messages = batch(b"j" * 500, b"v" * 2000)

    together, one_by_one = both_ways(
        messages, whatsapp_account, recorded_events, django_capture_on_commit_callbacks
    )

    assert together == one_by_one
    reasons = [(text, reason) for text, _number, reason, *_ in together["messages"]]
    assert reasons == [
        ("Any news?", "active_conversation"),
        ("Hello, first time here", "new_conversation"),
        ("It broke again", "active_conversation"),
        ("Order 1042", "active_conversation"),
        ("One more thing", "follow_up"),
        ("And another", "active_conversation"),
        ("Here is the photo", "active_conversation"),
        ("About the open one", "active_conversation"),
        ("A new topic", "new_conversation"),
        ("Still the new topic", "active_conversation"),
        ("Same person, spaced number", "active_conversation"),
    ]
    by_subject = {
        ticket["subject"]: ticket for ticket in together["tickets"] if not ticket["follow_up_of"]
    }
    assert by_subject["Solved question"]["status"] == "open"
    assert by_subject["Solved question"]["solved_at"] is None
    assert by_subject["Waiting on the customer"]["status"] == "open"
    assert by_subject["Hello, first time here"]["last_customer_message_at"] == START + timedelta(
        minutes=20
    )
    assert by_subject["Closed question"]["status"] == "closed"
    follow_ups = [t for t in together["tickets"] if t["follow_up_of"] is not None]
    assert [(t["subject"], t["status"]) for t in follow_ups] == [("Closed question", "new")]
    assert together["messages"][6][5] == [("box.jpg", 500)]
    refused = by_subject["Waiting on the customer"]["timeline"][-1]
    assert refused[1]["attachments_refused"] == [
        {"name": "video.mp4", "reason": "too large", "size": 2000}
    ]
    assert Ticket.objects.count() == 6  # both runs rolled back


def test_the_statements_do_not_grow_with_the_batch(
    whatsapp_account: ChannelAccount, agent: User
) -> None:
    """Known customers with active conversations, new customers, and solved conversations
    that reopen: twice as many messages cost the same statements."""

    def batch_of(size: int, offset: int) -> list[tuple[InboundMessage, ChannelAccount]]:
        senders = [f"+49152{offset + n:08d}" for n in range(size)]
        for index, sender in enumerate(senders[: size // 2]):
            message = receive_message(chat(sender, "Earlier", 0), channel_account=whatsapp_account)
            if index % 2:
                change_status(message.ticket, Ticket.Status.SOLVED, actor=agent)
        return [(chat(sender, "Now", 1), whatsapp_account) for sender in senders]

    small, large = batch_of(10, 0), batch_of(20, 1000)
    with CaptureQueriesContext(transaction.get_connection()) as few:
        receive_messages_together(small)
    with CaptureQueriesContext(transaction.get_connection()) as many:
        received = receive_messages_together(large)

    assert len(received) == 20
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 14


def test_automated_mail_sent_elsewhere_and_no_account_are_refused(
    whatsapp_account: ChannelAccount,
) -> None:
    refused = [
        chat("+4915100000001", "Out of office", 0, is_automated=True),
        chat("+4915100000001", "Sent from the app", 0, sent_elsewhere=True),
    ]
    for message in refused:
        assert not receives_together(message)
        with pytest.raises(TicketError):
            receive_messages_together([(message, whatsapp_account)])
    with pytest.raises(TicketError):
        receive_messages_together([(chat("+4915100000001", "Hi", 0), None)])
    assert Message.objects.count() == 0


def test_a_message_that_cannot_be_stored_takes_back_the_whole_batch(
    whatsapp_account: ChannelAccount,
) -> None:
    good = chat("+4915100000001", "Hello", 0)
    empty = chat("+4915100000002", "  ", 1)

    with pytest.raises(TicketError), transaction.atomic():
        receive_messages_together([(good, whatsapp_account), (empty, whatsapp_account)])

    assert Message.objects.count() == Ticket.objects.count() == 0


def test_a_repeated_provider_id_refuses_the_batch(whatsapp_account: ChannelAccount) -> None:
    """The caller rolls back and receives one at a time, which answers a repeat with the
    message stored the first time."""
    first = receive_message(chat("+4915100000001", "Hello", 0), channel_account=whatsapp_account)

    with pytest.raises(IntegrityError), transaction.atomic():
        receive_messages_together(
            [
                (chat("+4915100000002", "Hi", 1), whatsapp_account),
                (chat("+4915100000001", "Hello", 0), whatsapp_account),
            ]
        )

    assert list(Message.objects.all()) == [first]
    assert Ticket.objects.count() == 1


def test_a_sender_already_known_under_its_raw_address_is_found_again(
    whatsapp_account: ChannelAccount,
) -> None:
    known = resolve_sender("whatsapp", "+4915100000001").customer

    [message] = receive_messages_together(
        [(chat("+49 (151) 0000-0001", "Hello", 0), whatsapp_account)]
    )

    assert message.author_customer_id == known.pk
    assert message.ticket.customer_id == known.pk
