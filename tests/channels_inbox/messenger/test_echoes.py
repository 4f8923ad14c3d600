"""Echoes: what the Page sent from elsewhere (Meta Business Suite, another tool) lands on the
conversation as a sent reply, once, and never as a copy of a reply we sent ourselves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import User
from tests.caches import clear_cache
from tests.channels_inbox.meta_messaging.fake_graph import FakeGraph
from tests.channels_inbox.meta_messaging.notifications import MESSENGER as FB
from tests.channels_inbox.meta_messaging.notifications import events
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import OutboundAttachment, add_reply

pytestmark = pytest.mark.django_db


def now_ms(seconds_ago: float = 0) -> int:
    return int((timezone.now().timestamp() - seconds_ago) * 1000)


@pytest.fixture
def ticket(account: ChannelAccount, django_capture_on_commit_callbacks: Any) -> Ticket:
    """Ana wrote a minute ago."""
    FB.deliver(
        django_capture_on_commit_callbacks, FB.message("Is it in stock?", timestamp=now_ms(60))
    )
    return Ticket.objects.get()


def outbound() -> list[Message]:
    return list(Message.objects.filter(direction=Message.Direction.OUTBOUND).order_by("pk"))


def test_a_reply_from_business_suite_is_recorded_as_a_sent_reply(
    ticket: Ticket, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    sent_at = now_ms(10)
    echo = FB.echo("Yes, back in stock since Monday.", timestamp=sent_at)

    FB.deliver(django_capture_on_commit_callbacks, echo)

    [reply] = outbound()
    assert reply.ticket_id == ticket.pk
    assert (reply.kind, reply.text) == (Message.Kind.REPLY, "Yes, back in stock since Monday.")
    assert (reply.delivery_status, reply.provider_message_id) == (
        "sent",
        echo["message"]["mid"],
    )
    assert reply.author_agent is None
    assert reply.delivery_updated_at == datetime.fromtimestamp(sent_at / 1000, tz=UTC)
    activity = TicketActivity.objects.get(ticket=ticket, verb=TicketActivity.Verb.REPLIED)
    assert activity.data == {"message_id": reply.pk, "sent_elsewhere": True}
    ticket.refresh_from_db()
    assert ticket.last_agent_message_at == reply.delivery_updated_at
    assert ticket.status == Ticket.Status.OPEN
    # It was sent already: nothing goes to the Send API.
    assert graph.calls("send") == []


def test_a_repeated_echo_is_recorded_once(
    ticket: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    echo = FB.echo("We ship on Friday.", timestamp=now_ms(5))

    FB.deliver(django_capture_on_commit_callbacks, echo)
    # The same message inside another post (another key) reaches the tickets again.
    FB.deliver(django_capture_on_commit_callbacks, echo, FB.message("ok", timestamp=now_ms()))

    assert [message.text for message in outbound()] == ["We ship on Friday."]
    alone, batched = events()[-2:]
    assert alone.external_id == f"m:{echo['message']['mid']}"
    assert batched.external_id.startswith("batch:")


def test_the_echo_of_our_own_reply_is_not_imported_again(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_reply(ticket, author=agent, text="It ships tomorrow.")
    reply.refresh_from_db()

    FB.deliver(
        django_capture_on_commit_callbacks,
        FB.echo("It ships tomorrow.", mid=reply.provider_message_id, app_id=1517776481860111),
    )

    assert outbound() == [reply]
    [_, event] = events()
    assert event.status == InboundEvent.Status.IGNORED
    assert event.error == (
        f"Nothing to record: the echo of our own message {reply.provider_message_id}"
    )


def test_the_echo_of_our_reply_is_matched_by_its_mid_once_the_cache_has_forgotten_it(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    """The row is the source of truth: the mid our reply stored is enough."""
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_reply(ticket, author=agent, text="It ships tomorrow.")
    reply.refresh_from_db()
    clear_cache()

    FB.deliver(
        django_capture_on_commit_callbacks,
        FB.echo("It ships tomorrow.", mid=reply.provider_message_id),
    )

    assert outbound() == [reply]
    assert events()[-1].status == InboundEvent.Status.PROCESSED


def test_echoes_of_every_part_of_a_reply_sent_in_parts_are_not_imported(
    ticket: Ticket, agent: User, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    """A reply with text and a photo is two Messenger messages; the row keeps the last mid
    only, so the text's echo is recognised by the mids we remember sending."""
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_reply(
            ticket,
            author=agent,
            text="Here is the label.",
            attachments=[OutboundAttachment("label.png", "image/png", b"\x89PNG label")],
        )
    text_part, photo_part = (sent.message_id for sent in graph.accepted)

    FB.deliver(
        django_capture_on_commit_callbacks,
        FB.echo("Here is the label.", mid=text_part),
        FB.echo(mid=photo_part, attachments=[{"type": "image", "payload": {"url": "x"}}]),
    )

    reply.refresh_from_db()
    assert reply.provider_message_id == photo_part
    assert outbound() == [reply]
    assert graph.calls("cdn") == []


def test_a_photo_sent_from_business_suite_is_downloaded_onto_the_reply(
    ticket: Ticket, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    url = graph.add_file("size-chart.png", b"\x89PNG size chart", "image/png")

    FB.deliver(
        django_capture_on_commit_callbacks,
        FB.echo(attachments=[{"type": "image", "payload": {"url": url}}], timestamp=now_ms()),
    )

    [reply] = outbound()
    attachment = reply.attachments.get()
    assert (attachment.name, attachment.size) == ("size-chart.png", len(b"\x89PNG size chart"))


def test_an_echo_to_someone_without_a_ticket_opens_one_for_them(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    """The Page wrote first from Business Suite (someone who wrote before the account was
    connected): the conversation starts here, open, with the customer named."""
    FB.deliver(django_capture_on_commit_callbacks, FB.echo("Your order #1001 has shipped."))

    ticket = Ticket.objects.get()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.subject == "Your order #1001 has shipped."
    assert ticket.customer.name == "Ana Souza"
    assert ticket.last_customer_message_at is None
    [reply] = outbound()
    assert reply.threading_reason == Message.ThreadingReason.NEW_CONVERSATION


def test_the_customer_answering_an_echo_continues_its_conversation(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    FB.deliver(django_capture_on_commit_callbacks, FB.echo("Your order #1001 has shipped."))
    FB.deliver(django_capture_on_commit_callbacks, FB.message("Great, thanks!"))

    assert Ticket.objects.count() == 1
    assert Message.objects.get(text="Great, thanks!").threading_reason == (
        Message.ThreadingReason.ACTIVE_CONVERSATION
    )
