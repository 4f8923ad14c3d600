"""receive_message: threading a customer message into a ticket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from channels_inbox.models import ChannelAccount
from customers.models import Customer, Identity
from customers.services import resolve_sender
from helpdesk.models import Team, User
from tickets.models import Attachment, Message, Ticket, TicketActivity
from tickets.services import (
    InboundAttachment,
    InboundMessage,
    TicketError,
    change_status,
    merge_tickets,
    receive_message,
)

pytestmark = pytest.mark.django_db


def email(**overrides: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "channel": "email",
        "sender_address": "ana@example.com",
        "sender_name": "Ana Souza",
        "text": "Where is my order?",
    }
    fields.update(overrides)
    return InboundMessage(**fields)


def whatsapp(**overrides: Any) -> InboundMessage:
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
        "attachments": Attachment.objects.count(),
        "activities": TicketActivity.objects.count(),
    }


def verbs(ticket: Ticket) -> list[tuple[str, dict[str, Any]]]:
    return [(a.verb, a.data) for a in ticket.activities.order_by("id")]


# --- Opening ---------------------------------------------------------------------------------


def test_first_message_opens_a_ticket_for_a_new_customer(
    email_account: ChannelAccount, support_team: Team
) -> None:
    """The first message from an unknown address creates the customer, their identity and a
    new ticket numbered from the sequence, titled by the text's first non-blank line."""
    received = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)

    message = receive_message(
        email(
            sender_address="  Ana.Souza@Example.COM ",
            text="\n   My parcel never arrived  \nOrder #1001, placed Monday.",
            provider_message_id="<m1@example.com>",
            starts_conversation=True,
            received_at=received,
        ),
        channel_account=email_account,
    )

    ticket = Ticket.objects.get()
    assert ticket.number == 1
    assert ticket.subject == "My parcel never arrived"
    assert ticket.status == Ticket.Status.NEW
    assert ticket.channel == "email"
    assert ticket.channel_account == email_account
    assert ticket.team == support_team
    assert ticket.last_customer_message_at == received
    assert ticket.last_message_at == received
    assert ticket.first_responded_at is None
    customer = Customer.objects.get()
    assert (customer.name, customer.email) == ("Ana Souza", "ana.souza@example.com")
    identity = Identity.objects.get()
    assert (identity.customer, identity.kind, identity.address, identity.display_name) == (
        customer,
        "email",
        "ana.souza@example.com",
        "Ana Souza",
    )
    assert ticket.customer == customer
    assert message.ticket == ticket
    assert message.direction == Message.Direction.INBOUND
    assert message.kind == Message.Kind.CUSTOMER
    assert message.author_customer == customer
    assert message.author_agent is None
    assert message.channel_account == email_account
    assert message.provider_message_id == "<m1@example.com>"
    assert message.text == "\n   My parcel never arrived  \nOrder #1001, placed Monday."
    assert message.delivery_status == ""
    assert verbs(ticket) == [
        ("created", {"channel": "email"}),
        ("message_received", {"message_id": message.pk}),
    ]
    assert all(activity.actor is None for activity in ticket.activities.all())


def test_ticket_numbers_follow_the_sequence() -> None:
    """Each new ticket takes the next number."""
    first = receive_message(email(sender_address="a@example.com", starts_conversation=True))
    second = receive_message(email(sender_address="b@example.com", starts_conversation=True))
    third = receive_message(email(sender_address="a@example.com", starts_conversation=True))

    assert [m.ticket.number for m in (first, second, third)] == [1, 2, 3]


def test_given_subject_wins_over_the_text() -> None:
    """An email's own subject is the ticket's subject."""
    message = receive_message(email(subject="  Refund for #1001 ", text="Hello\nI want it back"))

    assert message.ticket.subject == "Refund for #1001"


def test_long_first_line_is_shortened_for_the_subject() -> None:
    """A subject taken from the text stops at 80 characters with an ellipsis."""
    message = receive_message(whatsapp(text="word " * 40))

    assert message.ticket.subject == ("word " * 16).rstrip() + "…"
    assert len(message.ticket.subject) == 80


def test_received_at_defaults_to_now() -> None:
    """Without the provider's time the ticket is stamped with the time of receipt."""
    before = datetime.now(tz=UTC)

    message = receive_message(whatsapp())

    ticket = Ticket.objects.get(pk=message.ticket_id)
    assert ticket.last_customer_message_at is not None
    assert before <= ticket.last_customer_message_at <= datetime.now(tz=UTC)


# --- Continuing -----------------------------------------------------------------------------


def test_second_message_from_the_same_handle_continues_the_active_ticket(
    whatsapp_account: ChannelAccount,
) -> None:
    """A chat-style message (no new-conversation signal) continues the customer's ticket."""
    first = receive_message(whatsapp(text="Hi"), channel_account=whatsapp_account)
    second_time = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)

    second = receive_message(
        whatsapp(sender_address="+49 151 12345678", text="Anyone?", received_at=second_time),
        channel_account=whatsapp_account,
    )

    assert second.ticket_id == first.ticket_id
    ticket = Ticket.objects.get()
    assert ticket.status == Ticket.Status.NEW
    assert ticket.subject == "Hi"
    assert ticket.last_customer_message_at == second_time
    assert list(ticket.messages.values_list("text", flat=True)) == ["Hi", "Anyone?"]
    assert Customer.objects.count() == 1
    assert Identity.objects.count() == 1
    assert [verb for verb, _ in verbs(ticket)] == [
        "created",
        "message_received",
        "message_received",
    ]


def test_email_starting_a_conversation_opens_a_new_ticket(ticket: Ticket) -> None:
    """An email with no reply headers is a new conversation, even with a ticket open."""
    message = receive_message(email(subject="Another question", starts_conversation=True))

    assert message.ticket_id != ticket.pk
    assert message.ticket.number == ticket.number + 1
    assert message.ticket.customer_id == ticket.customer_id
    assert Ticket.objects.get(pk=ticket.pk).messages.count() == 1


def test_active_ticket_wins_over_a_newer_closed_one(
    whatsapp_account: ChannelAccount, agent: User
) -> None:
    """While an older conversation is still active, a newer closed ticket does not draw the
    message into a follow-up."""
    active = receive_message(whatsapp(text="first"), channel_account=whatsapp_account).ticket
    other = receive_message(
        whatsapp(text="second", starts_conversation=True), channel_account=whatsapp_account
    ).ticket
    change_status(other, "closed", actor=agent)

    message = receive_message(whatsapp(text="third"), channel_account=whatsapp_account)

    assert message.ticket_id == active.pk
    assert Ticket.objects.count() == 2


def test_a_message_on_another_account_of_the_channel_opens_its_own_ticket(
    whatsapp_account: ChannelAccount, support_team: Team
) -> None:
    """Tickets belong to the account the customer wrote to."""
    second_number = ChannelAccount.objects.create(
        kind="whatsapp", name="WhatsApp Returns", slug="wa-returns", address="+14155550199"
    )
    first = receive_message(whatsapp(), channel_account=whatsapp_account)

    second = receive_message(whatsapp(), channel_account=second_number)

    assert second.ticket_id != first.ticket_id
    assert second.ticket.channel_account == second_number
    assert Customer.objects.count() == 1


# --- References -----------------------------------------------------------------------------


def test_references_thread_into_the_earlier_ticket_even_when_starting_a_conversation(
    email_account: ChannelAccount,
) -> None:
    """A reply quoting an earlier message's id joins that ticket, whatever the new-thread
    signal says, even from another address of the same person."""
    first = receive_message(
        email(provider_message_id="<a1@example.com>", starts_conversation=True),
        channel_account=email_account,
    )
    receive_message(
        email(subject="Unrelated", starts_conversation=True, provider_message_id="<b@x>"),
        channel_account=email_account,
    )

    reply = receive_message(
        email(
            sender_address="ana.work@example.com",
            provider_message_id="<a2@example.com>",
            references=("<unknown@example.com>", "<a1@example.com>"),
            starts_conversation=True,
        ),
        channel_account=email_account,
    )

    assert reply.ticket_id == first.ticket_id
    assert Ticket.objects.count() == 2


def test_unknown_references_with_a_new_conversation_open_a_new_ticket(ticket: Ticket) -> None:
    """References nobody stored do not thread anywhere."""
    message = receive_message(email(references=("<nobody@x>",), starts_conversation=True))

    assert message.ticket_id != ticket.pk


def test_blank_references_match_nothing(ticket: Ticket, agent: User) -> None:
    """An empty reference must not match the many messages that have no provider id."""
    from tickets.services import add_note

    add_note(ticket, author=agent, text="Internal")

    message = receive_message(
        email(sender_address="mallory@example.com", references=("",), starts_conversation=True)
    )

    assert message.ticket_id != ticket.pk
    assert message.ticket.customer.email == "mallory@example.com"


def test_references_stay_within_their_channel_account(
    email_account: ChannelAccount, whatsapp_account: ChannelAccount
) -> None:
    """Provider ids are unique per account only, so another account's id is no reference."""
    on_whatsapp = receive_message(
        whatsapp(provider_message_id="shared-id-1"), channel_account=whatsapp_account
    )

    message = receive_message(
        email(references=("shared-id-1",), starts_conversation=True),
        channel_account=email_account,
    )

    assert message.ticket_id != on_whatsapp.ticket_id


def test_references_follow_a_merged_ticket_to_its_target(agent: User) -> None:
    """A reply to a message of a ticket merged away lands on the ticket it was merged into."""
    source = receive_message(email(provider_message_id="<s1@x>", starts_conversation=True)).ticket
    target = receive_message(
        email(sender_address="ana2@example.com", starts_conversation=True)
    ).ticket
    merge_tickets(source, target, actor=agent)

    reply = receive_message(
        email(references=("<s1@x>",), starts_conversation=True, provider_message_id="<s2@x>")
    )

    assert reply.ticket_id == target.pk
    source.refresh_from_db()
    assert source.messages.count() == 0
    assert source.status == Ticket.Status.CLOSED


# --- Reopening and follow-ups -----------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "solved"])
def test_customer_message_reopens_a_pending_or_solved_ticket(
    ticket: Ticket, agent: User, status: str
) -> None:
    """The customer writing again puts a waiting or solved ticket back to open."""
    change_status(ticket, status, actor=agent)
    assert (Ticket.objects.get(pk=ticket.pk).solved_at is not None) == (status == "solved")

    message = receive_message(email(text="Still broken"))

    assert message.ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.solved_at is None
    reopened = ticket.activities.get(verb=TicketActivity.Verb.REOPENED)
    assert reopened.data == {"before": status, "after": "open"}
    assert reopened.actor is None
    assert [verb for verb, _ in verbs(ticket)][-2:] == ["reopened", "message_received"]


def test_customer_message_to_a_closed_ticket_opens_a_linked_follow_up(
    ticket: Ticket, agent: User
) -> None:
    """Closed is final: the message opens a new ticket pointing at the closed one, which
    stays exactly as it was."""
    closed = change_status(ticket, "closed", actor=agent)
    closed_before = Ticket.objects.values().get(pk=closed.pk)
    closed_activities = verbs(closed)

    message = receive_message(email(text="One more thing"))

    follow_up = message.ticket
    assert follow_up.pk != closed.pk
    assert follow_up.follow_up_of_id == closed.pk
    assert follow_up.number == closed.number + 1
    assert follow_up.subject == "Question 1"
    assert follow_up.status == Ticket.Status.NEW
    assert follow_up.customer_id == closed.customer_id
    assert verbs(follow_up) == [
        ("created", {"channel": "email"}),
        ("follow_up_opened", {"follow_up_of": closed.number}),
        ("message_received", {"message_id": message.pk}),
    ]
    assert Ticket.objects.values().get(pk=closed.pk) == closed_before
    assert verbs(closed) == closed_activities
    assert closed.messages.count() == 1


def test_follow_up_keeps_its_own_subject_when_given(ticket: Ticket, agent: User) -> None:
    """An email's subject still names the follow-up."""
    change_status(ticket, "closed", actor=agent)

    message = receive_message(email(subject="Re: Question 1 (again)"))

    assert message.ticket.subject == "Re: Question 1 (again)"


# --- Idempotency ------------------------------------------------------------------------------


def test_repeated_delivery_returns_the_first_message_and_writes_nothing(
    email_account: ChannelAccount, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """Providers deliver twice; the provider's message id makes the second one a no-op."""
    inbound = email(provider_message_id="<dup@example.com>", starts_conversation=True)
    first = receive_message(inbound, channel_account=email_account)
    counts = row_counts()
    ticket_row = Ticket.objects.values().get()

    with django_capture_on_commit_callbacks() as callbacks:
        again = receive_message(inbound, channel_account=email_account)

    assert again.pk == first.pk
    assert row_counts() == counts
    assert Ticket.objects.values().get() == ticket_row
    assert callbacks == []


def test_the_same_provider_id_on_another_account_is_another_message(
    whatsapp_account: ChannelAccount,
) -> None:
    """Provider ids are unique per account, not globally."""
    other = ChannelAccount.objects.create(kind="whatsapp", name="Second", slug="wa-2")
    first = receive_message(whatsapp(provider_message_id="wamid.1"), channel_account=other)

    second = receive_message(
        whatsapp(provider_message_id="wamid.1"), channel_account=whatsapp_account
    )

    assert second.pk != first.pk
    assert Message.objects.count() == 2


# --- Identities -------------------------------------------------------------------------------


def test_phone_numbers_in_any_format_reach_the_same_identity(
    whatsapp_account: ChannelAccount,
) -> None:
    """Spaces, 00 instead of +, a national 0 in brackets and the whatsapp: prefix are all the
    same person."""
    for address in (
        "+49 151 12345678",
        "0049 151 12345678",
        "whatsapp:+4915112345678",
        "+49 (0)151 1234-5678",
    ):
        receive_message(whatsapp(sender_address=address), channel_account=whatsapp_account)

    identity = Identity.objects.get()
    assert (identity.kind, identity.address) == ("whatsapp", "+4915112345678")
    assert Customer.objects.count() == 1
    assert Ticket.objects.get().messages.count() == 4


def test_resolve_sender_twice_for_a_new_address_returns_the_same_customer() -> None:
    """The second lookup finds what the first one created."""
    first = resolve_sender("email", "New@Example.com", display_name="New Person")
    second = resolve_sender("email", "new@example.com ")

    assert first.created is True
    assert second.created is False
    assert second.customer.pk == first.customer.pk
    assert second.identity.pk == first.identity.pk
    assert Customer.objects.count() == 1
    assert Identity.objects.count() == 1


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        {"text": ""},
        {"text": "  \n\t "},
        {"text": "", "html": "   "},
        {"text": "", "html": "<script>alert(1)</script>"},
    ],
    ids=["empty", "whitespace", "blank-html", "html-that-sanitizes-to-nothing"],
)
def test_message_without_content_is_refused_and_nothing_is_written(
    content: dict[str, str],
) -> None:
    """No text, no HTML worth keeping and no attachments: refused before any write."""
    with pytest.raises(TicketError, match="no text and no attachments"):
        receive_message(email(**content))

    assert row_counts() == dict.fromkeys(row_counts(), 0)


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        ("email", "not-an-email"),
        ("email", ""),
        ("whatsapp", "+1 555"),
        ("fax", "+4915112345678"),
    ],
)
def test_bad_sender_address_is_refused_and_nothing_is_written(channel: str, address: str) -> None:
    """An address the channel cannot have never creates a customer."""
    with pytest.raises(ValidationError):
        receive_message(InboundMessage(channel=channel, sender_address=address, text="Hi"))

    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_message_for_another_channel_than_its_account_is_refused(
    email_account: ChannelAccount,
) -> None:
    """A WhatsApp message cannot arrive on a mailbox."""
    with pytest.raises(TicketError, match="cannot arrive on email account support-mail"):
        receive_message(whatsapp(), channel_account=email_account)

    assert row_counts() == dict.fromkeys(row_counts(), 0)


# --- Attachments and HTML ---------------------------------------------------------------------


def test_attachments_are_stored_with_their_details() -> None:
    """Each attachment keeps its name, type, size and content id, and its bytes."""
    pdf = b"%PDF-1.4 invoice"
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))

    message = receive_message(
        email(
            text="",
            attachments=(
                InboundAttachment("my invoice (1).pdf", "application/pdf", pdf),
                InboundAttachment("logo.png", "image/png", png, content_id="logo@x"),
                InboundAttachment("", "", b"raw"),
                InboundAttachment("..", "text/plain", b"dots"),
            ),
        )
    )

    rows = list(message.attachments.order_by("id"))
    assert [(a.name, a.content_type, a.size, a.content_id) for a in rows] == [
        ("my_invoice_1.pdf", "application/pdf", len(pdf), ""),
        ("logo.png", "image/png", len(png), "logo@x"),
        ("attachment-3", "application/octet-stream", 3, ""),
        ("attachment-4", "text/plain", 4, ""),
    ]
    contents = []
    for attachment in rows:
        with attachment.file.open("rb") as handle:
            contents.append(handle.read())
    assert contents == [pdf, png, b"raw", b"dots"]
    assert rows[0].file.name.startswith(f"attachments/{message.ticket_id}/")
    activity = message.ticket.activities.get(verb="message_received")
    assert activity.data == {"message_id": message.pk}


def test_oversized_and_surplus_attachments_are_refused_and_recorded(settings: Any) -> None:
    """What breaks the limits is not stored; the message is, with the refusal on record."""
    settings.MAX_ATTACHMENT_BYTES = 10
    settings.MAX_ATTACHMENTS_PER_MESSAGE = 2

    message = receive_message(
        email(
            attachments=(
                InboundAttachment("small.txt", "text/plain", b"0123456789"),
                InboundAttachment("big.bin", "application/octet-stream", b"x" * 11),
                InboundAttachment("third.txt", "text/plain", b"ok"),
            )
        )
    )

    assert list(message.attachments.values_list("name", "size")) == [("small.txt", 10)]
    activity = message.ticket.activities.get(verb="message_received")
    assert activity.data == {
        "message_id": message.pk,
        "attachments_refused": [
            {"name": "big.bin", "reason": "too large", "size": 11},
            {"name": "third.txt", "reason": "too many attachments"},
        ],
    }


def test_html_is_sanitized_before_it_is_stored() -> None:
    """Scripts, event handlers, javascript: links and data: images go; cid: images stay."""
    message = receive_message(
        email(
            text="",
            html=(
                '<p onclick="steal()" style="color:red">Hi<script>alert(1)</script></p>'
                '<a href="javascript:alert(1)">click</a>'
                '<img src="cid:logo@x" onerror="steal()">'
                '<img src="data:image/png;base64,AAAA">'
                '<a href="https://shop.test/track">track</a><iframe src="https://x"></iframe>'
            ),
        )
    )

    assert message.html == (
        "<p>Hi</p>"
        '<a rel="noopener noreferrer nofollow">click</a>'
        '<img src="cid:logo@x">'
        "<img>"
        '<a href="https://shop.test/track" rel="noopener noreferrer nofollow">track</a>'
    )


# --- Query count ------------------------------------------------------------------------------


def test_continuing_message_query_count_is_pinned(
    whatsapp_account: ChannelAccount, django_assert_num_queries: Callable[..., Any]
) -> None:
    """The hot path of every chat message: a known sender continuing an open ticket."""
    receive_message(whatsapp(provider_message_id="w1"), channel_account=whatsapp_account)

    # SAVEPOINT, identity+customer, continued ticket, lock, INSERT message, UPDATE ticket,
    # INSERT activity, RELEASE SAVEPOINT (the unique constraint is the duplicate check).
    with django_assert_num_queries(8):
        receive_message(whatsapp(provider_message_id="w2"), channel_account=whatsapp_account)

    assert Ticket.objects.get().messages.count() == 2
