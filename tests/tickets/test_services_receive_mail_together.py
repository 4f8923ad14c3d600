"""receive_messages_together for mail: threading by references, ticket tokens and subjects,
for a whole batch at once, exactly as receive_message threads one mail at a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test.utils import CaptureQueriesContext

from channels_inbox.models import ChannelAccount
from helpdesk.models import User
from tests.tickets.test_services_receive_together import START, both_ways, recorded_events
from tickets.models import Message, Ticket
from tickets.services import (
    InboundAttachment,
    InboundMessage,
    ReceiveOneByOne,
    add_reply,
    change_status,
    mark_message_sent,
    merge_tickets,
    normalize_thread_subject,
    receive_message,
    receive_messages_together,
)

pytestmark = pytest.mark.django_db

__all__ = ["recorded_events"]  # the fixture, shared with the chat batch's tests

WINDOW = timedelta(days=30)


def mail(sender: str, subject: str, text: str, day: float, **overrides: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "channel": "email",
        "sender_address": sender,
        "sender_name": sender.split("@")[0].title(),
        "subject": subject,
        "text": text,
        "provider_message_id": f"<{text.lower().replace(' ', '.')}@mail.test>",
        "starts_conversation": True,
        "received_at": START + timedelta(days=day),
        "thread_subject": normalize_thread_subject(subject),
        "subject_window": WINDOW,
    }
    fields.update(overrides)
    return InboundMessage(**fields)


def mid(text: str) -> str:
    return f"<{text.lower().replace(' ', '.')}@mail.test>"


@pytest.fixture
def mailboxes(email_account: ChannelAccount, agent: User) -> dict[str, int]:
    """Customers with tickets in every state a mail can meet; returns ticket numbers."""

    def ticket(sender: str, subject: str, text: str, day: float, status: str = "") -> Ticket:
        message = receive_message(mail(sender, subject, text, day), channel_account=email_account)
        if status:
            change_status(message.ticket, status, actor=agent)
        return Ticket.objects.get(pk=message.ticket_id)

    answered = ticket("ana@mail.test", "Order 1001 is late", "Where is it", -2)
    reply = add_reply(answered, author=agent, text="On its way")
    mark_message_sent(reply.pk, provider_message_id="<reply.1@shop.test>")
    solved = ticket("ben@mail.test", "Refund please", "Refund request", -3, "solved")
    ticket("cleo@mail.test", "Broken lamp", "The lamp broke", -4, "closed")
    # The same subject twice: the older ticket is outside the window, the newer one waits.
    ticket("dan@mail.test", "Wrong size", "Too small", -45)
    ticket("dan@mail.test", "Wrong size", "Still too small", -1, "pending")
    merged = ticket("eve@mail.test", "Two tickets", "First ticket", -5)
    kept = ticket("eve@mail.test", "Kept ticket", "Second ticket", -4)
    merge_tickets(merged, kept, actor=agent)
    tagged = ticket("finn@mail.test", "Gift card", "Gift card question", -2)
    ticket("gus@mail.test", "Other topic", "Gus first", -2)
    return {"solved": solved.number, "merged": merged.number, "tagged": tagged.number}


def batch(numbers: dict[str, int]) -> list[InboundMessage]:
    tagged, solved, merged = numbers["tagged"], numbers["solved"], numbers["merged"]
    return [
        mail("ana@mail.test", "Re: Order 1001 is late", "Thanks Ana", 0,
             references=("<reply.1@shop.test>", mid("Where is it"))),
        mail("nora@mail.test", "Hello", "Nora new", 0.1),
        mail("nora@mail.test", "Re: Hello", "Nora by reference", 0.2,
             references=(mid("Nora new"),)),
        mail("nora@mail.test", "RE: hello", "Nora by subject", 0.3),
        mail("ben@mail.test", "Re: Refund please", "Ben again", 0.4,
             references=(mid("Refund request"),)),
        mail("cleo@mail.test", "Re: Broken lamp", "Cleo after closing", 0.5,
             references=(mid("The lamp broke"),)),
        mail("cleo@mail.test", "Re: Broken lamp", "Cleo follows up", 0.6,
             references=(mid("Cleo after closing"), mid("The lamp broke"))),
        mail("dan@mail.test", "AW: Wrong size", "Dan by subject", 0.7),
        mail("gus@mail.test", f"[#{tagged}] question", "Gus types a token", 0.8,
             ticket_number=tagged, ticket_number_source="subject"),
        mail("finn@mail.test", f"Re: [#{tagged}] Gift card", "Finn by token", 0.9,
             ticket_number=tagged, ticket_number_source="subject"),
        mail("hana@mail.test", "Fwd: Refund please", "Hana forwards", 1.0,
             ticket_number=solved, ticket_number_source="address"),
        mail("ivan@mail.test", "About my old ticket", "Ivan by merged token", 1.1,
             ticket_number=merged, ticket_number_source="address"),
        mail("ana@mail.test", "Invoice", "Ana new topic", 1.2),
        mail("ana@mail.test", "Re: Invoice", "Ana by subject in batch", 1.3,
             attachments=(InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1"),)),
        mail("ana@mail.test", "Re: Something else", "Ana unknown reference", 1.4,
             references=("<nowhere@mail.test>",)),
        mail("nora@mail.test", "Hello", "Nora no window", 1.5, subject_window=None),
    ]  # fmt: skip


def test_a_batch_of_mail_threads_exactly_as_one_mail_at_a_time(
    email_account: ChannelAccount,
    mailboxes: dict[str, int],
    recorded_events: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """References to our replies, to stored mail and to mail earlier in the same batch;
    tokens in the subject (the customer's own and someone else's) and in the address, one
    to a merged ticket; subjects inside and outside the window, onto a ticket the batch
    opened; a closed ticket's follow-up; a pending and a solved ticket reopened."""
    mails = batch(mailboxes)

    together, one_by_one = both_ways(
        mails, email_account, recorded_events, django_capture_on_commit_callbacks
    )

    assert together == one_by_one
    reasons = [(text, reason) for text, _number, reason, *_ in together["messages"]]
    assert reasons == [
        ("Thanks Ana", "references"),
        ("Nora new", "new_conversation"),
        ("Nora by reference", "references"),
        ("Nora by subject", "subject_match"),
        ("Ben again", "references"),
        ("Cleo after closing", "follow_up"),
        ("Cleo follows up", "references"),
        ("Dan by subject", "subject_match"),
        ("Gus types a token", "new_conversation"),
        ("Finn by token", "ticket_token_subject"),
        ("Hana forwards", "ticket_token_address"),
        ("Ivan by merged token", "ticket_token_address"),
        ("Ana new topic", "new_conversation"),
        ("Ana by subject in batch", "subject_match"),
        ("Ana unknown reference", "new_conversation"),
        ("Nora no window", "new_conversation"),
    ]
    number = {text: ticket for text, ticket, *_ in together["messages"]}
    assert number["Nora new"] == number["Nora by reference"] == number["Nora by subject"]
    assert number["Cleo after closing"] == number["Cleo follows up"]
    assert number["Ana new topic"] == number["Ana by subject in batch"]
    assert number["Hana forwards"] == number["Ben again"] == mailboxes["solved"]
    assert number["Finn by token"] == mailboxes["tagged"]
    assert number["Ivan by merged token"] not in (mailboxes["merged"], number["Thanks Ana"])
    by_number = {ticket["number"]: ticket for ticket in together["tickets"]}
    assert by_number[number["Dan by subject"]]["status"] == "open"  # was pending
    assert by_number[number["Dan by subject"]]["subject"] == "Wrong size"
    assert by_number[mailboxes["solved"]]["status"] == "open"
    assert together["messages"][13][5] == [("invoice.pdf", 6)]
    assert Ticket.objects.count() == 9  # both runs rolled back


def test_a_token_naming_a_ticket_the_batch_opens_is_left_to_one_at_a_time(
    email_account: ChannelAccount,
) -> None:
    """Numbers are given only once the batch knows how many tickets it opens, so a token
    it could not find makes it step back rather than guess."""
    next_number = Ticket.objects.count() + 1
    mails = [
        mail("nora@mail.test", "Hello", "Nora new", 0),
        mail("nora@mail.test", f"Re: [#{next_number}] Hello", "Nora by token", 0.1,
             ticket_number=next_number, ticket_number_source="subject", subject_window=None),
    ]  # fmt: skip

    with pytest.raises(ReceiveOneByOne), transaction.atomic():
        receive_messages_together([(m, email_account) for m in mails])

    assert Message.objects.count() == 0
    first, second = (receive_message(m, channel_account=email_account) for m in mails)
    assert first.ticket.number == next_number
    assert second.ticket_id == first.ticket_id
    assert second.threading_reason == "ticket_token_subject"


def test_mail_batches_cost_the_same_statements_whatever_their_size(
    email_account: ChannelAccount,
) -> None:
    """New senders, replies by reference and by subject to stored mail, and tokens: twice
    as many mails cost the same statements."""

    def batch_of(size: int, offset: int) -> list[tuple[InboundMessage, ChannelAccount]]:
        mails = []
        for n in range(offset, offset + size):
            sender = f"customer{n}@mail.test"
            if n % 4 == 0:
                mails.append(mail(sender, f"Question {n}", f"New {n}", 0))
                continue
            earlier = receive_message(
                mail(sender, f"Question {n}", f"Earlier {n}", -1), channel_account=email_account
            )
            if n % 4 == 1:
                mails.append(
                    mail(
                        sender,
                        f"Re: Question {n}",
                        f"Reply {n}",
                        0,
                        references=(mid(f"Earlier {n}"),),
                    )
                )
            elif n % 4 == 2:
                mails.append(mail(sender, f"Re: Question {n}", f"Subject {n}", 0))
            else:
                mails.append(
                    mail(sender, f"[#{earlier.ticket.number}]", f"Token {n}", 0,
                         ticket_number=earlier.ticket.number, ticket_number_source="subject")
                )  # fmt: skip
        return [(m, email_account) for m in mails]

    small, large = batch_of(12, 0), batch_of(24, 100)
    with CaptureQueriesContext(transaction.get_connection()) as few:
        receive_messages_together(small)
    with CaptureQueriesContext(transaction.get_connection()) as many:
        received = receive_messages_together(large)

    assert {message.threading_reason for message in received} == {
        "new_conversation",
        "references",
        "subject_match",
        "ticket_token_subject",
    }
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 15
