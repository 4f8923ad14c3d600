"""The delivery services: claiming a queued reply, marking it sent or failed, and applying
providers' delivery reports, which only ever move a message forward."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from helpdesk.models import User
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import (
    MAX_DELIVERY_ERROR_LENGTH,
    InboundMessage,
    TicketError,
    add_note,
    add_reply,
    apply_status_update,
    claim_message_delivery,
    mark_message_failed,
    mark_message_sent,
    receive_message,
    schedule_delivery_retry,
)

pytestmark = pytest.mark.django_db

Status = Message.DeliveryStatus


@pytest.fixture
def mail_ticket(email_account: ChannelAccount) -> Ticket:
    return receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            subject="Parcel",
            text="Where is it?",
            provider_message_id="in-1@example.com",
        ),
        channel_account=email_account,
    ).ticket


@pytest.fixture
def queued(mail_ticket: Ticket, agent: User) -> Message:
    return add_reply(mail_ticket, author=agent, text="On its way.")


@pytest.fixture
def sent(queued: Message) -> Message:
    message = mark_message_sent(queued.pk, provider_message_id="out-1@shop.test")
    assert message is not None
    return message


def failures(ticket: Ticket) -> list[tuple[int | None, dict[str, Any]]]:
    return list(
        TicketActivity.objects.filter(
            ticket=ticket, verb=TicketActivity.Verb.DELIVERY_FAILED
        ).values_list("actor_id", "data")
    )


def state(message: Message) -> tuple[str, str, str]:
    message.refresh_from_db()
    return message.delivery_status, message.provider_message_id, message.delivery_error


# --- Claiming and retrying ---------------------------------------------------------------------


def test_a_claim_holds_the_message_until_its_lease_ends(queued: Message) -> None:
    now = timezone.now()

    assert claim_message_delivery(queued.pk, until=now + timedelta(minutes=5)) is True
    assert claim_message_delivery(queued.pk, until=now + timedelta(minutes=5)) is False

    Message.objects.filter(pk=queued.pk).update(next_delivery_at=now - timedelta(seconds=1))
    assert claim_message_delivery(queued.pk, until=now + timedelta(minutes=5)) is True
    queued.refresh_from_db()
    assert queued.delivery_attempts == 2


def test_only_queued_outbound_messages_can_be_claimed(
    sent: Message, mail_ticket: Ticket, agent: User
) -> None:
    note = add_note(mail_ticket, author=agent, text="Internal")
    customer_message = mail_ticket.messages.get(kind="customer")
    until = timezone.now() + timedelta(minutes=5)

    assert claim_message_delivery(sent.pk, until=until) is False
    assert claim_message_delivery(note.pk, until=until) is False
    assert claim_message_delivery(customer_message.pk, until=until) is False
    assert claim_message_delivery(999_999, until=until) is False


def test_a_retry_keeps_the_message_queued_with_the_reason(queued: Message) -> None:
    retry_at = timezone.now() + timedelta(minutes=1)

    assert schedule_delivery_retry(queued.pk, error="Timed out", retry_at=retry_at) is True

    queued.refresh_from_db()
    assert (queued.delivery_status, queued.delivery_error) == ("queued", "Timed out")
    assert queued.next_delivery_at == retry_at


def test_no_retry_for_a_message_no_longer_queued(sent: Message) -> None:
    retry_at = timezone.now() + timedelta(minutes=1)

    assert schedule_delivery_retry(sent.pk, error="Timed out", retry_at=retry_at) is False

    assert state(sent) == ("sent", "out-1@shop.test", "")


# --- Sent and failed ---------------------------------------------------------------------------


def test_a_sent_message_stores_the_provider_id_and_clears_the_last_error(queued: Message) -> None:
    Message.objects.filter(pk=queued.pk).update(
        delivery_error="Timed out", next_delivery_at=timezone.now()
    )

    message = mark_message_sent(queued.pk, provider_message_id="out-1@shop.test")

    assert message is not None
    assert (message.delivery_status, message.provider_message_id) == ("sent", "out-1@shop.test")
    assert (message.delivery_error, message.next_delivery_at) == ("", None)
    assert message.delivery_updated_at is not None
    assert queued.delivery_updated_at is not None
    assert message.delivery_updated_at >= queued.delivery_updated_at


def test_marking_sent_twice_changes_nothing(sent: Message) -> None:
    assert mark_message_sent(sent.pk, provider_message_id="other") is None

    assert state(sent) == ("sent", "out-1@shop.test", "")


def test_a_failed_message_says_why_on_the_ticket(queued: Message, mail_ticket: Ticket) -> None:
    message = mark_message_failed(queued.pk, error="  550 Mailbox unavailable ")

    assert message is not None
    assert state(queued) == ("failed", "", "550 Mailbox unavailable")
    assert failures(mail_ticket) == [
        (None, {"message_id": queued.pk, "error": "550 Mailbox unavailable"})
    ]


def test_failing_twice_records_one_failure(queued: Message, mail_ticket: Ticket) -> None:
    mark_message_failed(queued.pk, error="Refused")

    assert mark_message_failed(queued.pk, error="Refused again") is None

    assert state(queued) == ("failed", "", "Refused")
    assert len(failures(mail_ticket)) == 1


@pytest.fixture
def read(sent: Message) -> Message:
    Message.objects.filter(pk=sent.pk).update(delivery_status=Status.READ)
    return sent


def test_a_message_that_was_read_cannot_fail(read: Message, mail_ticket: Ticket) -> None:
    assert mark_message_failed(read.pk, error="late bounce") is None

    assert state(read)[0] == "read"
    assert failures(mail_ticket) == []


def test_only_outbound_messages_can_fail(mail_ticket: Ticket) -> None:
    customer_message = mail_ticket.messages.get(kind="customer")

    assert mark_message_failed(customer_message.pk, error="x") is None
    assert mark_message_failed(999_999, error="x") is None

    assert failures(mail_ticket) == []


@pytest.mark.parametrize(
    ("error", "stored"),
    [
        ("", "Unknown delivery error."),
        ("   ", "Unknown delivery error."),
        ("x" * 5000, "x" * (MAX_DELIVERY_ERROR_LENGTH - 1) + "…"),
    ],
)
def test_failure_reasons_are_never_blank_nor_unbounded(
    queued: Message, error: str, stored: str
) -> None:
    mark_message_failed(queued.pk, error=error)

    assert state(queued)[2] == stored


# --- Delivery reports --------------------------------------------------------------------------


def test_reports_move_a_message_forward(sent: Message, email_account: ChannelAccount) -> None:
    occurred = timezone.now() - timedelta(minutes=3)

    message = apply_status_update(
        email_account,
        provider_message_id="out-1@shop.test",
        status="delivered",
        occurred_at=occurred,
    )

    assert message is not None
    assert (message.pk, message.delivery_status) == (sent.pk, "delivered")
    assert message.delivery_updated_at == occurred

    message = apply_status_update(
        email_account, provider_message_id="out-1@shop.test", status="read"
    )
    assert message is not None
    assert message.delivery_status == "read"


@pytest.mark.parametrize("late", ["queued", "sent", "delivered", "read", "failed"])
def test_a_late_report_never_moves_a_read_message_back(
    sent: Message, email_account: ChannelAccount, mail_ticket: Ticket, late: str
) -> None:
    apply_status_update(email_account, provider_message_id="out-1@shop.test", status="read")
    read_at = Message.objects.get(pk=sent.pk).delivery_updated_at

    message = apply_status_update(email_account, provider_message_id="out-1@shop.test", status=late)

    assert message is not None
    assert (message.delivery_status, message.delivery_updated_at) == ("read", read_at)
    assert failures(mail_ticket) == []


def test_a_failure_report_fails_a_delivered_message_on_the_ticket(
    sent: Message, email_account: ChannelAccount, mail_ticket: Ticket
) -> None:
    apply_status_update(email_account, provider_message_id="out-1@shop.test", status="delivered")

    message = apply_status_update(
        email_account, provider_message_id="out-1@shop.test", status="failed", error="5.1.1 gone"
    )

    assert message is not None
    assert (message.delivery_status, message.delivery_error) == ("failed", "5.1.1 gone")
    assert failures(mail_ticket) == [(None, {"message_id": sent.pk, "error": "5.1.1 gone"})]


def test_a_failure_report_without_details_still_says_so(
    sent: Message, email_account: ChannelAccount
) -> None:
    apply_status_update(email_account, provider_message_id="out-1@shop.test", status="failed")

    assert state(sent)[2] == "The provider reported the message as failed."


def test_reports_about_unknown_messages_change_nothing(
    sent: Message, email_account: ChannelAccount, whatsapp_account: ChannelAccount
) -> None:
    assert apply_status_update(email_account, provider_message_id="nope", status="read") is None
    assert apply_status_update(email_account, provider_message_id="", status="read") is None
    # Provider ids are unique per account only.
    assert (
        apply_status_update(whatsapp_account, provider_message_id="out-1@shop.test", status="read")
        is None
    )
    # An inbound message with that id is not ours to report on.
    assert (
        apply_status_update(email_account, provider_message_id="in-1@example.com", status="read")
        is None
    )

    assert state(sent)[0] == "sent"


@pytest.mark.parametrize("status", ["bounced", "", "SENT"])
def test_an_unknown_status_is_refused(
    sent: Message, email_account: ChannelAccount, status: str
) -> None:
    with pytest.raises(TicketError, match="Unknown delivery status"):
        apply_status_update(email_account, provider_message_id="out-1@shop.test", status=status)

    assert state(sent)[0] == "sent"
