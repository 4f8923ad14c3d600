"""Delivery and read receipts: a watermark covers every reply sent to the person up to it,
moves each one forward only, and never touches another conversation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import User
from tests.channels_inbox.meta_messaging.notifications import MESSENGER as FB
from tests.channels_inbox.meta_messaging.notifications import events
from tickets.models import Message, Ticket
from tickets.services import add_reply, apply_status_update

pytestmark = pytest.mark.django_db

OTHER_CUSTOMER = "7000000000000002"


def ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def ticket(account: ChannelAccount, django_capture_on_commit_callbacks: Any) -> Ticket:
    FB.deliver(
        django_capture_on_commit_callbacks,
        FB.message("Is it in stock?", timestamp=ms(timezone.now() - timedelta(minutes=30))),
    )
    return Ticket.objects.get()


def reply(ticket: Ticket, agent: User, capture: Any, text: str, *, minutes_ago: int) -> Message:
    """A reply sent through the fake Graph API, dated ``minutes_ago``."""
    with capture(execute=True):
        message = add_reply(ticket, author=agent, text=text)
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    Message.objects.filter(pk=message.pk).update(created_at=moment, delivery_updated_at=moment)
    message.refresh_from_db()
    assert message.delivery_status == "sent"
    return message


def statuses(*messages: Message) -> list[str]:
    return [
        Message.objects.values_list("delivery_status", flat=True).get(pk=message.pk)
        for message in messages
    ]


def test_a_delivery_watermark_delivers_every_reply_sent_up_to_it(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    first = reply(ticket, agent, capture, "One moment.", minutes_ago=20)
    second = reply(ticket, agent, capture, "Found it.", minutes_ago=10)
    later = reply(ticket, agent, capture, "Anything else?", minutes_ago=1)

    FB.deliver(capture, FB.delivery(ms(timezone.now() - timedelta(minutes=5))))

    assert statuses(first, second, later) == ["delivered", "delivered", "sent"]


def test_a_read_watermark_reads_delivered_and_sent_replies(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    first = reply(ticket, agent, capture, "One moment.", minutes_ago=20)
    second = reply(ticket, agent, capture, "Found it.", minutes_ago=10)
    FB.deliver(capture, FB.delivery(ms(timezone.now() - timedelta(minutes=15))))

    FB.deliver(capture, FB.read(ms(timezone.now())))

    assert statuses(first, second) == ["read", "read"]


def test_receipts_only_move_replies_forward(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Meta posts receipts out of order: a late delivery watermark never undoes read, and a
    failed reply stays failed."""
    capture = django_capture_on_commit_callbacks
    read = reply(ticket, agent, capture, "One moment.", minutes_ago=20)
    failed = reply(ticket, agent, capture, "Found it.", minutes_ago=10)
    apply_status_update(
        ticket.channel_account,
        provider_message_id=failed.provider_message_id,
        status="failed",
        error="Blocked",
    )
    FB.deliver(capture, FB.read(ms(timezone.now())))

    FB.deliver(capture, FB.delivery(ms(timezone.now())))

    assert statuses(read, failed) == ["read", "failed"]
    assert events()[-1].status == InboundEvent.Status.IGNORED
    assert (
        events()[-1].error == "Nothing to record: a delivery receipt covering none of our messages"
    )


def test_the_mids_a_delivery_names_are_delivered_too(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    named = reply(ticket, agent, capture, "Found it.", minutes_ago=1)

    FB.deliver(
        capture,
        FB.delivery(ms(timezone.now() - timedelta(minutes=30)), mids=[named.provider_message_id]),
    )

    named.refresh_from_db()
    assert named.delivery_status == "delivered"


def test_a_watermark_covers_only_the_person_who_sent_it(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    ours = reply(ticket, agent, capture, "Found it.", minutes_ago=10)
    FB.deliver(
        capture,
        FB.message("Hello from Bruno", sender=OTHER_CUSTOMER, timestamp=ms(timezone.now())),
    )
    theirs = reply(
        Ticket.objects.get(customer__identities__address=OTHER_CUSTOMER),
        agent,
        capture,
        "Hi Bruno",
        minutes_ago=10,
    )

    FB.deliver(capture, FB.read(ms(timezone.now())))

    assert statuses(ours, theirs) == ["read", "sent"]


def test_a_reply_sent_from_business_suite_is_delivered_by_the_next_watermark(
    ticket: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    """An echo is imported after it was sent: its own send time counts."""
    capture = django_capture_on_commit_callbacks
    sent_at = ms(timezone.now() - timedelta(minutes=2))
    FB.deliver(capture, FB.echo("Yes, it is.", timestamp=sent_at))

    FB.deliver(capture, FB.delivery(sent_at + 500))

    assert Message.objects.get(direction="outbound").delivery_status == "delivered"


def test_a_receipt_from_someone_we_never_wrote_to_records_nothing(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    FB.deliver(django_capture_on_commit_callbacks, FB.read(ms(timezone.now())))

    [event] = events()
    assert event.status == InboundEvent.Status.IGNORED
    assert event.error == "Nothing to record: a read receipt covering none of our messages"
