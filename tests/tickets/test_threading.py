"""Threading: which ticket an inbound message lands on, and the reason stored on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from channels_inbox.email.parsing import normalize_subject
from channels_inbox.models import ChannelAccount
from customers.models import Customer, Identity
from helpdesk.models import User
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import (
    InboundMessage,
    TicketError,
    add_reply,
    change_status,
    merge_tickets,
    normalize_thread_subject,
    receive_message,
    record_automated_message,
)

pytestmark = pytest.mark.django_db

Reason = Message.ThreadingReason
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)


def email(**overrides: Any) -> InboundMessage:
    """An email as the email adapter hands it over: it always threads by its own data."""
    fields: dict[str, Any] = {
        "channel": "email",
        "sender_address": "ana@example.com",
        "sender_name": "Ana Souza",
        "subject": "Where is my order?",
        "text": "Where is my order?",
        "starts_conversation": True,
        "received_at": T0,
    }
    fields.update(overrides)
    return InboundMessage(**fields)


def chat(**overrides: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "channel": "whatsapp",
        "sender_address": "+4915112345678",
        "sender_name": "Jonas",
        "text": "Hallo?",
    }
    fields.update(overrides)
    return InboundMessage(**fields)


def row_counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "identities": Identity.objects.count(),
        "tickets": Ticket.objects.count(),
        "messages": Message.objects.count(),
        "activities": TicketActivity.objects.count(),
    }


@pytest.fixture
def first(email_account: ChannelAccount) -> Message:
    """Ana's first email, which opened ticket #1."""
    return receive_message(
        email(provider_message_id="a1@example.com"), channel_account=email_account
    )


# --- (1) References ----------------------------------------------------------------------------


def test_first_email_is_a_new_conversation(first: Message) -> None:
    """Nothing to continue: a new ticket, and the message says why."""
    assert first.threading_reason == Reason.NEW_CONVERSATION
    assert first.get_threading_reason_display() == "Started a new conversation"
    assert first.ticket.number == 1
    assert first.is_automated is False


def test_in_reply_to_an_inbound_message_continues_its_ticket(
    email_account: ChannelAccount, first: Message
) -> None:
    reply = receive_message(
        email(
            subject="Re: Where is my order?",
            provider_message_id="a2@example.com",
            references=("a1@example.com",),
        ),
        channel_account=email_account,
    )

    assert (reply.ticket_id, reply.threading_reason) == (first.ticket_id, Reason.REFERENCES)
    assert reply.get_threading_reason_display() == "Threaded by References"
    assert Ticket.objects.count() == 1


def test_reference_to_our_outbound_reply_continues_and_reopens_its_ticket(
    email_account: ChannelAccount, first: Message, agent: User
) -> None:
    """Our replies store the Message-ID we generated; the customer's answer quotes it, from
    whichever address they answer."""
    ours = add_reply(first.ticket, author=agent, text="It ships today.", status="solved")
    Message.objects.filter(pk=ours.pk).update(provider_message_id="reply-7@shop.test")

    answer = receive_message(
        email(
            sender_address="ana.work@example.com",
            subject="Re: [#1] Where is my order?",
            provider_message_id="a3@example.com",
            references=("reply-7@shop.test", "a1@example.com"),
        ),
        channel_account=email_account,
    )

    assert (answer.ticket_id, answer.threading_reason) == (first.ticket_id, Reason.REFERENCES)
    ticket = Ticket.objects.get(pk=first.ticket_id)
    assert ticket.status == Ticket.Status.OPEN
    assert answer.author_customer is not None
    assert answer.author_customer.email == "ana.work@example.com"


def test_references_are_tried_in_the_order_given(email_account: ChannelAccount) -> None:
    """In-Reply-To comes first, then References from last to first: the direct parent wins
    over an older message of another ticket, even though that one was stored later."""
    parent = receive_message(email(provider_message_id="p@x"), channel_account=email_account)
    other = receive_message(
        email(subject="Other", provider_message_id="o@x"), channel_account=email_account
    )

    reply = receive_message(
        email(provider_message_id="r@x", references=("unknown@x", "p@x", "o@x")),
        channel_account=email_account,
    )

    assert parent.ticket_id != other.ticket_id
    assert reply.ticket_id == parent.ticket_id


def test_reference_to_another_accounts_message_is_no_reference(
    email_account: ChannelAccount, first: Message
) -> None:
    """Provider ids are unique per account: the same id on a second mailbox is unrelated."""
    sales = ChannelAccount.objects.create(
        kind="email", name="Sales", slug="sales", address="sales@shop.test"
    )

    message = receive_message(
        email(provider_message_id="s1@x", references=("a1@example.com",)),
        channel_account=sales,
    )

    assert message.ticket_id != first.ticket_id
    assert message.threading_reason == Reason.NEW_CONVERSATION


def test_reference_into_a_merged_ticket_lands_on_the_ticket_it_was_merged_into(
    email_account: ChannelAccount, first: Message, agent: User
) -> None:
    target = receive_message(
        email(sender_address="bo@example.com", provider_message_id="b1@x"),
        channel_account=email_account,
    ).ticket
    merge_tickets(first.ticket, target, actor=agent)
    # The referenced message left on the merged ticket: the match must follow the merge.
    Message.objects.filter(pk=first.pk).update(ticket=first.ticket)

    reply = receive_message(
        email(provider_message_id="a2@x", references=("a1@example.com",)),
        channel_account=email_account,
    )

    assert (reply.ticket_id, reply.threading_reason) == (target.pk, Reason.REFERENCES)


def test_reference_to_a_closed_ticket_opens_a_linked_follow_up(
    email_account: ChannelAccount, first: Message, agent: User
) -> None:
    change_status(first.ticket, "closed", actor=agent)

    reply = receive_message(
        email(provider_message_id="a2@x", references=("a1@example.com",)),
        channel_account=email_account,
    )

    assert reply.threading_reason == Reason.FOLLOW_UP
    assert reply.ticket.follow_up_of_id == first.ticket_id
    assert reply.ticket.number == 2


def test_a_new_sender_quoting_our_message_joins_its_ticket(
    email_account: ChannelAccount, first: Message
) -> None:
    """Someone copied on the conversation writes for the first time: the references thread
    the mail, though its sender became a customer only now."""
    message = receive_message(
        email(
            sender_address="colleague@example.org",
            subject="Re: Where is my order?",
            provider_message_id="c1@example.org",
            references=("a1@example.com",),
        ),
        channel_account=email_account,
    )

    assert (message.ticket_id, message.threading_reason) == (first.ticket_id, Reason.REFERENCES)
    assert message.author_customer is not None
    assert message.author_customer.email == "colleague@example.org"


def test_a_new_chat_sender_opens_a_ticket_without_looking_for_one(
    whatsapp_account: ChannelAccount, django_assert_num_queries: Callable[..., Any]
) -> None:
    """A sender seen for the first time has no conversation to continue, so none is
    searched for."""
    receive_message(
        chat(sender_address="+4915199999999", provider_message_id="w0"),
        channel_account=whatsapp_account,
    )
    # SAVEPOINT, identity, SAVEPOINT, INSERT customer, INSERT identity, RELEASE SAVEPOINT,
    # counter, INSERT ticket, INSERT activity, INSERT message, INSERT activity, RELEASE
    # SAVEPOINT.
    with django_assert_num_queries(12):
        message = receive_message(chat(provider_message_id="w1"), channel_account=whatsapp_account)

    assert message.threading_reason == Reason.NEW_CONVERSATION
    assert message.author_customer is not None
    assert message.ticket.customer_id == message.author_customer.pk


# --- (2) Ticket tokens -------------------------------------------------------------------------


def test_address_token_threads_whoever_sends_it(
    email_account: ChannelAccount, first: Message
) -> None:
    """The signed reply-to token is proof enough: a colleague who got our mail forwarded
    joins the ticket."""
    message = receive_message(
        email(
            sender_address="colleague@example.org",
            subject="Fwd: Where is my order?",
            ticket_number=1,
            ticket_number_source="address",
        ),
        channel_account=email_account,
    )

    assert (message.ticket_id, message.threading_reason) == (
        first.ticket_id,
        Reason.TICKET_TOKEN_ADDRESS,
    )
    assert message.author_customer is not None
    assert message.author_customer.email == "colleague@example.org"


def test_subject_token_of_a_new_sender_opens_a_new_ticket(
    email_account: ChannelAccount, first: Message
) -> None:
    """Anyone can type "[#1]": from a sender who was no customer before, it threads
    nothing."""
    message = receive_message(
        email(
            sender_address="stranger@example.org",
            subject="[#1] Where is my order?",
            ticket_number=1,
            ticket_number_source="subject",
        ),
        channel_account=email_account,
    )

    assert message.threading_reason == Reason.NEW_CONVERSATION
    assert message.ticket_id != first.ticket_id


def test_subject_token_of_the_same_customer_threads(
    email_account: ChannelAccount, first: Message
) -> None:
    message = receive_message(
        email(subject="[#1] New question", ticket_number=1, ticket_number_source="subject"),
        channel_account=email_account,
    )

    assert (message.ticket_id, message.threading_reason) == (
        first.ticket_id,
        Reason.TICKET_TOKEN_SUBJECT,
    )
    assert message.get_threading_reason_display() == "Threaded by ticket number in subject"


def test_subject_token_of_another_customers_ticket_is_ignored(
    email_account: ChannelAccount, first: Message
) -> None:
    """Anyone can type "[#1]": from another customer it threads nowhere, and the rules go on."""
    message = receive_message(
        email(
            sender_address="mallory@example.com",
            subject="[#1] Give me the address",
            ticket_number=1,
            ticket_number_source="subject",
        ),
        channel_account=email_account,
    )

    assert message.ticket_id != first.ticket_id
    assert message.threading_reason == Reason.NEW_CONVERSATION
    assert message.ticket.customer.email == "mallory@example.com"
    assert Ticket.objects.get(pk=first.ticket_id).messages.count() == 1


@pytest.mark.parametrize(
    ("number", "source"), [(999, "address"), (999, "subject"), (1, ""), (1, "header")]
)
def test_unknown_ticket_number_or_source_threads_nowhere(
    email_account: ChannelAccount, first: Message, number: int, source: str
) -> None:
    message = receive_message(
        email(subject="Hello", ticket_number=number, ticket_number_source=source),
        channel_account=email_account,
    )

    assert message.ticket_id != first.ticket_id
    assert message.threading_reason == Reason.NEW_CONVERSATION


def test_token_of_a_merged_ticket_lands_on_the_ticket_it_was_merged_into(
    email_account: ChannelAccount, first: Message, agent: User
) -> None:
    target = receive_message(
        email(subject="Second", provider_message_id="a2@x"), channel_account=email_account
    ).ticket
    merge_tickets(first.ticket, target, actor=agent)

    message = receive_message(
        email(subject="[#1] again", ticket_number=1, ticket_number_source="subject"),
        channel_account=email_account,
    )

    assert (message.ticket_id, message.threading_reason) == (
        target.pk,
        Reason.TICKET_TOKEN_SUBJECT,
    )


def test_token_of_a_closed_ticket_opens_a_follow_up(
    email_account: ChannelAccount, first: Message, agent: User
) -> None:
    change_status(first.ticket, "closed", actor=agent)

    message = receive_message(
        email(ticket_number=1, ticket_number_source="address"), channel_account=email_account
    )

    assert message.threading_reason == Reason.FOLLOW_UP
    assert message.ticket.follow_up_of_id == first.ticket_id


def test_references_win_over_a_token(email_account: ChannelAccount, first: Message) -> None:
    second = receive_message(
        email(subject="Second", provider_message_id="a2@x"), channel_account=email_account
    )

    message = receive_message(
        email(references=("a2@x",), ticket_number=1, ticket_number_source="address"),
        channel_account=email_account,
    )

    assert (message.ticket_id, message.threading_reason) == (second.ticket_id, Reason.REFERENCES)


# --- (3) Same customer, same subject -----------------------------------------------------------


def test_same_subject_within_the_window_continues_the_ticket(
    email_account: ChannelAccount, first: Message
) -> None:
    """A client that sends no reply headers: "AW: Where is my order?" two days later."""
    message = receive_message(
        email(
            subject="AW: Where is my order?",
            thread_subject="where is my order?",
            subject_window=WINDOW,
            received_at=T0 + timedelta(days=2),
        ),
        channel_account=email_account,
    )

    assert (message.ticket_id, message.threading_reason) == (
        first.ticket_id,
        Reason.SUBJECT_MATCH,
    )


@pytest.mark.parametrize(
    ("later", "same_ticket"),
    [
        (WINDOW, True),
        (WINDOW + timedelta(seconds=1), False),
    ],
    ids=["at-the-edge", "one-second-outside"],
)
def test_subject_window_boundary(
    email_account: ChannelAccount, first: Message, later: timedelta, same_ticket: bool
) -> None:
    """The window runs from the ticket's last message; its edge is inside."""
    message = receive_message(
        email(
            subject="Re: Where is my order?",
            thread_subject="where is my order?",
            subject_window=WINDOW,
            received_at=T0 + later,
        ),
        channel_account=email_account,
    )

    assert (message.ticket_id == first.ticket_id) is same_ticket
    expected = Reason.SUBJECT_MATCH if same_ticket else Reason.NEW_CONVERSATION
    assert message.threading_reason == expected


def test_the_window_counts_from_the_last_message_not_the_first(
    email_account: ChannelAccount, first: Message
) -> None:
    receive_message(
        email(references=("a1@example.com",), received_at=T0 + timedelta(days=6)),
        channel_account=email_account,
    )

    message = receive_message(
        email(subject_window=WINDOW, received_at=T0 + timedelta(days=12)),
        channel_account=email_account,
    )

    assert (message.ticket_id, message.threading_reason) == (
        first.ticket_id,
        Reason.SUBJECT_MATCH,
    )


def test_a_closed_ticket_is_never_matched_by_subject(
    email_account: ChannelAccount, first: Message, agent: User
) -> None:
    """Subject matching is a guess: a closed conversation stays closed, and the message opens
    a plain new ticket rather than a follow-up."""
    change_status(first.ticket, "closed", actor=agent)

    message = receive_message(
        email(subject="Re: Where is my order?", subject_window=WINDOW),
        channel_account=email_account,
    )

    assert message.ticket_id != first.ticket_id
    assert message.threading_reason == Reason.NEW_CONVERSATION
    assert message.ticket.follow_up_of_id is None


def test_a_solved_ticket_matched_by_subject_reopens(
    email_account: ChannelAccount, first: Message, agent: User
) -> None:
    change_status(first.ticket, "solved", actor=agent)

    message = receive_message(
        email(subject="RE: RE: where is my order?", subject_window=WINDOW),
        channel_account=email_account,
    )

    assert (message.ticket_id, message.threading_reason) == (
        first.ticket_id,
        Reason.SUBJECT_MATCH,
    )
    assert Ticket.objects.get(pk=first.ticket_id).status == Ticket.Status.OPEN


@pytest.mark.parametrize(
    "overrides",
    [
        {"sender_address": "mallory@example.com"},
        {"subject": "Re: Where is my refund?"},
        {"subject_window": None},
        {"subject": "", "thread_subject": ""},
    ],
    ids=["another-customer", "another-subject", "no-window", "no-subject"],
)
def test_subject_matching_needs_customer_subject_and_window(
    email_account: ChannelAccount, first: Message, overrides: dict[str, Any]
) -> None:
    fields: dict[str, Any] = {"subject": "Re: Where is my order?", "subject_window": WINDOW}
    fields.update(overrides)

    message = receive_message(email(**fields), channel_account=email_account)

    assert message.ticket_id != first.ticket_id
    assert message.threading_reason == Reason.NEW_CONVERSATION


def test_subjects_that_normalize_to_nothing_never_match(email_account: ChannelAccount) -> None:
    """ "Re:" and "Re:" share no thread: an empty subject would join every untitled ticket."""
    untitled = receive_message(email(subject="Re:"), channel_account=email_account)

    message = receive_message(
        email(subject="Re:", subject_window=WINDOW), channel_account=email_account
    )

    assert message.ticket_id != untitled.ticket_id
    assert message.threading_reason == Reason.NEW_CONVERSATION


@pytest.mark.parametrize(
    ("subject", "normalized"),
    [
        ("Re: Where is my order?", "where is my order?"),
        ("AW: WG: Fwd:  Where   is my order?", "where is my order?"),
        ("SV: Re[2]: Re(3): Bestellung", "bestellung"),
        ("Re: [#1234] Bestellung [#1234]", "bestellung"),
        ("Odp: TR: RV: Pedido", "pedido"),
        ("Reply needed", "reply needed"),
        ("Re:", ""),
        ("", ""),
    ],
)
def test_normalize_thread_subject(subject: str, normalized: str) -> None:
    assert normalize_thread_subject(subject) == normalized
    assert normalize_thread_subject(normalized) == normalized


# --- (4) Chat channels: the active conversation ------------------------------------------------


def test_chat_message_continues_the_active_conversation(whatsapp_account: ChannelAccount) -> None:
    opened = receive_message(chat(text="Hi"), channel_account=whatsapp_account)

    message = receive_message(chat(text="Anyone?"), channel_account=whatsapp_account)

    assert opened.threading_reason == Reason.NEW_CONVERSATION
    assert (message.ticket_id, message.threading_reason) == (
        opened.ticket_id,
        Reason.ACTIVE_CONVERSATION,
    )


def test_chat_message_after_a_closed_conversation_opens_a_follow_up(
    whatsapp_account: ChannelAccount, agent: User
) -> None:
    opened = receive_message(chat(text="Hi"), channel_account=whatsapp_account)
    change_status(opened.ticket, "closed", actor=agent)

    message = receive_message(chat(text="Me again"), channel_account=whatsapp_account)

    assert message.threading_reason == Reason.FOLLOW_UP
    assert message.ticket.follow_up_of_id == opened.ticket_id


def test_email_never_falls_back_to_the_active_conversation(
    email_account: ChannelAccount, first: Message
) -> None:
    """An email that matches no rule opens a new ticket, an open ticket notwithstanding."""
    message = receive_message(
        email(subject="Another thing", references=("nobody@x",)), channel_account=email_account
    )

    assert message.ticket_id != first.ticket_id
    assert message.threading_reason == Reason.NEW_CONVERSATION


# --- Automated messages ------------------------------------------------------------------------


def automated(**overrides: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "sender_address": "ana@example.com",
        "subject": "Out of office: Re: Where is my order?",
        "text": "I am away until Monday.",
        "is_automated": True,
        "automated_reason": "auto-submitted: auto-replied",
        "provider_message_id": "ooo-1@example.com",
        "references": ("reply-7@shop.test",),
        "received_at": T0 + timedelta(hours=1),
    }
    fields.update(overrides)
    return email(**fields)


def test_auto_reply_is_recorded_on_its_ticket_without_reopening_it(
    email_account: ChannelAccount,
    first: Message,
    agent: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    ours = add_reply(first.ticket, author=agent, text="Solved!", status="solved")
    Message.objects.filter(pk=ours.pk).update(provider_message_id="reply-7@shop.test")
    before = Ticket.objects.get(pk=first.ticket_id)

    with django_capture_on_commit_callbacks() as callbacks:
        message = record_automated_message(
            automated(received_at=ours.created_at + timedelta(minutes=5)),
            channel_account=email_account,
        )

    assert message is not None
    assert (message.ticket_id, message.threading_reason) == (first.ticket_id, Reason.REFERENCES)
    assert (message.kind, message.direction, message.is_automated) == ("customer", "inbound", True)
    assert message.author_customer_id == first.ticket.customer_id
    ticket = Ticket.objects.get(pk=first.ticket_id)
    assert ticket.status == Ticket.Status.SOLVED
    assert ticket.solved_at == before.solved_at
    assert ticket.last_customer_message_at == before.last_customer_message_at
    assert ticket.last_message_at == ours.created_at + timedelta(minutes=5)
    assert ticket.activities.order_by("id").last().data == {  # type: ignore[union-attr]
        "message_id": message.pk,
        "automated": True,
        "automated_reason": "auto-submitted: auto-replied",
    }
    assert not ticket.activities.filter(verb=TicketActivity.Verb.REOPENED).exists()
    assert len(callbacks) == 1


def test_automated_message_matching_nothing_is_ignored_and_writes_nothing(
    email_account: ChannelAccount, first: Message
) -> None:
    """A bounce for nothing of ours, from a sender we do not know: no ticket, no customer."""
    counts = row_counts()

    message = record_automated_message(
        automated(sender_address="MAILER-DAEMON@mx.example.net", references=("x@y",)),
        channel_account=email_account,
    )

    assert message is None
    assert row_counts() == counts


def test_automated_message_from_an_unknown_sender_with_a_reference_has_no_author(
    email_account: ChannelAccount, first: Message
) -> None:
    message = record_automated_message(
        automated(sender_address="MAILER-DAEMON@mx.example.net", references=("a1@example.com",)),
        channel_account=email_account,
    )

    assert message is not None
    assert (message.ticket_id, message.author_customer_id) == (first.ticket_id, None)
    assert Customer.objects.count() == 1


def test_automated_message_on_a_closed_ticket_stays_on_it(
    email_account: ChannelAccount, first: Message, agent: User
) -> None:
    """No follow-up for a robot: the closed ticket keeps the record, status untouched."""
    change_status(first.ticket, "closed", actor=agent)

    message = record_automated_message(
        automated(references=("a1@example.com",)), channel_account=email_account
    )

    assert message is not None
    assert message.ticket_id == first.ticket_id
    assert Ticket.objects.count() == 1
    assert Ticket.objects.get(pk=first.ticket_id).status == Ticket.Status.CLOSED


def test_automated_message_by_subject_match(email_account: ChannelAccount, first: Message) -> None:
    message = record_automated_message(
        automated(references=(), subject_window=WINDOW, thread_subject="where is my order?"),
        channel_account=email_account,
    )

    assert message is not None
    assert (message.ticket_id, message.threading_reason) == (
        first.ticket_id,
        Reason.SUBJECT_MATCH,
    )


def test_automated_chat_message_joins_only_an_active_conversation(
    whatsapp_account: ChannelAccount, agent: User
) -> None:
    opened = receive_message(chat(text="Hi"), channel_account=whatsapp_account)
    greeting = chat(text="Thanks for your message!", is_automated=True, provider_message_id="g1")

    joined = record_automated_message(greeting, channel_account=whatsapp_account)
    change_status(opened.ticket, "closed", actor=agent)
    ignored = record_automated_message(
        chat(text="Auto", is_automated=True, provider_message_id="g2"),
        channel_account=whatsapp_account,
    )

    assert joined is not None
    assert (joined.ticket_id, joined.threading_reason) == (
        opened.ticket_id,
        Reason.ACTIVE_CONVERSATION,
    )
    assert ignored is None


def test_automated_message_redelivered_returns_the_first(
    email_account: ChannelAccount, first: Message
) -> None:
    inbound = automated(references=("a1@example.com",))
    once = record_automated_message(inbound, channel_account=email_account)
    counts = row_counts()

    again = record_automated_message(inbound, channel_account=email_account)

    assert once is not None
    assert again is not None
    assert again.pk == once.pk
    assert row_counts() == counts


def test_automated_message_without_content_is_refused(email_account: ChannelAccount) -> None:
    with pytest.raises(TicketError, match="no text and no attachments"):
        record_automated_message(automated(text=""), channel_account=email_account)


def test_automated_message_received_as_a_customer_message_does_not_reopen(
    email_account: ChannelAccount, first: Message, agent: User
) -> None:
    """When an account opens tickets for automated mail, the pipeline hands it to
    receive_message: it is marked automated and leaves a solved ticket solved."""
    change_status(first.ticket, "solved", actor=agent)

    message = receive_message(
        automated(references=("a1@example.com",)), channel_account=email_account
    )

    assert message.is_automated is True
    assert message.ticket_id == first.ticket_id
    assert Ticket.objects.get(pk=first.ticket_id).status == Ticket.Status.SOLVED


# --- Query count -------------------------------------------------------------------------------


def test_email_reply_by_references_query_count_is_pinned(
    email_account: ChannelAccount,
    first: Message,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    """The hot path of every email reply: a known sender quoting our message."""
    # SAVEPOINT, identity+customer, referenced messages with their tickets, lock, INSERT
    # message, UPDATE ticket, INSERT activity, RELEASE SAVEPOINT (the unique constraint is
    # the duplicate check).
    with django_assert_num_queries(8):
        receive_message(
            email(
                provider_message_id="a2@x",
                references=("a1@example.com",),
                received_at=T0 + timedelta(minutes=5),
            ),
            channel_account=email_account,
        )


def test_a_new_conversation_stores_its_ticket_once(
    email_account: ChannelAccount, django_assert_num_queries: Callable[..., Any]
) -> None:
    """The ticket is inserted with its message times; no UPDATE follows."""
    receive_message(email(provider_message_id="a0@x"), channel_account=email_account)
    # SAVEPOINT, identity+customer, counter, INSERT ticket, INSERT activity, INSERT message,
    # INSERT activity, RELEASE SAVEPOINT (no subject window: no candidates; the unique
    # constraint is the duplicate check).
    with django_assert_num_queries(8):
        message = receive_message(
            email(provider_message_id="b0@x", subject="A new question"),
            channel_account=email_account,
        )

    ticket = message.ticket
    assert (ticket.last_customer_message_at, ticket.last_message_at) == (T0, T0)
    ticket.refresh_from_db()
    assert (ticket.last_customer_message_at, ticket.last_message_at) == (T0, T0)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Re:",
                "RE :",
                "AW:",
                "Fwd:",
                "SV:",
                "Re[2]:",
                "Re^3:",
                "回复：",
                "[EXT]",
                "[#12]",
                "Réf. :",
                "  ",
                "Order",
                "ß",
                "Ｆｗｄ:",
                "İ",
                "x",
                "re",
                ":",
                "\t",
            ]
        ),
        max_size=8,
    ).map(" ".join)
    | st.text(max_size=40)
)
def test_ticket_subjects_normalize_like_the_email_parsers(subject: str) -> None:
    """A ticket's subject and an email's thread_subject must agree for a subject match; the
    email parser normalizes one, this module the other."""
    assert normalize_thread_subject(subject) == normalize_subject(subject)
    assert normalize_thread_subject(normalize_thread_subject(subject)) == normalize_thread_subject(
        subject
    )
