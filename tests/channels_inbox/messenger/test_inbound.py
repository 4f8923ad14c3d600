"""Everything a customer sends on Messenger, posted signed to the webhook and followed through
the real pipeline (eager Celery) to the ticket: text and its sender, files downloaded from
the fake CDN, quick replies and postbacks, links and locations, replies and reactions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.tasks import sweep_inbound_events_task
from customers.models import Identity
from helpdesk.models import Team, User
from tests.channels_inbox.meta_messaging.fake_graph import VERSION, FakeGraph
from tests.channels_inbox.meta_messaging.notifications import MESSENGER as FB
from tests.channels_inbox.meta_messaging.notifications import T0, events
from tickets.models import Attachment, Message, Ticket, TicketActivity
from tickets.services import add_reply, change_status

pytestmark = pytest.mark.django_db

PHOTO = b"\xff\xd8\xff\xe0 a JPEG of a crushed box"


def only_message() -> Message:
    return Message.objects.get()


# --- Text and the sender -------------------------------------------------------------------


def test_a_text_opens_a_ticket_for_the_psid_named_through_the_profile_endpoint(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    event = FB.message("Where is order #1001?")

    FB.deliver(django_capture_on_commit_callbacks, event)

    received = only_message()
    assert (received.text, received.provider_message_id) == (
        "Where is order #1001?",
        event["message"]["mid"],
    )
    assert (received.direction, received.is_automated) == (Message.Direction.INBOUND, False)
    identity = Identity.objects.get(kind="messenger")
    assert (identity.address, identity.display_name) == (FB.customer, "Ana Souza")
    assert identity.customer.name == "Ana Souza"
    ticket = received.ticket
    assert (ticket.channel, ticket.channel_account) == ("messenger", account)
    assert ticket.last_customer_message_at == datetime.fromtimestamp(T0 / 1000, tz=UTC)
    [lookup] = graph.calls("profile")
    assert lookup.path == f"/{VERSION}/{FB.customer}?fields=first_name,last_name"
    assert lookup.headers["Authorization"] == f"Bearer {FB.page_access_token}"


def test_a_second_message_continues_the_conversation_and_the_name_is_looked_up_once(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    FB.deliver(django_capture_on_commit_callbacks, FB.message("Hi"))
    FB.deliver(django_capture_on_commit_callbacks, FB.message("Any news?", timestamp=T0 + 5000))

    assert Ticket.objects.count() == 1
    later = Message.objects.get(text="Any news?")
    assert later.threading_reason == Message.ThreadingReason.ACTIVE_CONVERSATION
    assert len(graph.calls("profile")) == 1


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param("unknown", id="no profile for the person"),
        pytest.param("outage", id="Graph down"),
    ],
)
def test_a_failed_name_lookup_leaves_the_name_empty_and_keeps_the_message(
    account: ChannelAccount,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
    failure: str,
) -> None:
    if failure == "unknown":
        graph.profiles.clear()
    else:
        graph.script("profile", 500, {"error": {"message": "An unknown error occurred", "code": 1}})

    FB.deliver(django_capture_on_commit_callbacks, FB.message("Hello?"))

    assert only_message().text == "Hello?"
    assert Identity.objects.get().display_name == ""
    assert events()[0].status == InboundEvent.Status.PROCESSED


def test_a_batch_is_saved_in_the_order_it_was_written(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    FB.deliver(
        django_capture_on_commit_callbacks,
        FB.message("second", timestamp=T0 + 30_000),
        FB.message("first", timestamp=T0 + 2_000),
    )

    assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == [
        "first",
        "second",
    ]


def test_messages_in_standby_are_the_customers_too(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Under the Handover Protocol, a conversation another app (a bot) controls arrives in
    ``standby``: still the customer writing to the shop."""
    FB.deliver(django_capture_on_commit_callbacks, standby=[FB.message("Talk to a person!")])

    assert only_message().text == "Talk to a person!"


def test_an_empty_message_is_stored_as_empty_rather_than_failing_the_batch(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    FB.deliver(django_capture_on_commit_callbacks, FB.message(), FB.message("Still there?"))

    assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == [
        "[An empty Messenger message.]",
        "Still there?",
    ]


def test_an_account_without_its_page_id_fails_the_event_until_it_is_set(
    support_team: Team, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    """It could not tell its own Page's events from those of the app's other Pages."""
    FB.make_account(support_team, credentials={"app_secret": FB.app_secret})

    FB.deliver(django_capture_on_commit_callbacks, FB.message("Hello"))

    [event] = events()
    assert (event.status, event.next_attempt_at) == (InboundEvent.Status.FAILED, None)
    assert event.error == "The Messenger account shop-messenger has no page_id credential."
    assert Message.objects.count() == 0


# --- Files ---------------------------------------------------------------------------------


def test_an_image_is_downloaded_from_its_link_without_our_token(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    url = graph.add_file("crushed-box.jpg", PHOTO, "image/jpeg")

    FB.deliver(
        django_capture_on_commit_callbacks, FB.attachment("image", url, "Box arrived like this")
    )

    received = only_message()
    assert received.text == "Box arrived like this"
    attachment = received.attachments.get()
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "crushed-box.jpg",
        "image/jpeg",
        len(PHOTO),
    )
    with attachment.file.open("rb") as handle:
        assert handle.read() == PHOTO
    [download] = graph.calls("cdn")
    assert "Authorization" not in download.headers


@pytest.mark.parametrize(
    ("kind", "name", "content_type", "stored_name"),
    [
        ("file", "invoice-1001.pdf", "application/pdf", "invoice-1001.pdf"),
        ("audio", "audioclip-1767268800000-2042", "audio/mp4", "audio-1.m4a"),
        ("video", "video-01.mp4", "video/mp4", "video-01.mp4"),
    ],
)
def test_every_kind_of_file_becomes_an_attachment(
    account: ChannelAccount,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
    kind: str,
    name: str,
    content_type: str,
    stored_name: str,
) -> None:
    content = f"{kind} bytes".encode()
    url = graph.add_file(name, content, content_type)

    FB.deliver(django_capture_on_commit_callbacks, FB.attachment(kind, url))

    attachment = Attachment.objects.get()
    assert (attachment.name, attachment.content_type) == (stored_name, content_type)
    with attachment.file.open("rb") as handle:
        assert handle.read() == content
    assert only_message().text == ""


def test_a_like_sticker_is_kept_as_its_image(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    url = graph.add_file("369239263222822", b"\x89PNG thumbs up", "image/png")

    FB.deliver(
        django_capture_on_commit_callbacks,
        FB.attachment("image", url, payload={"sticker_id": 369239263222822}),
    )

    assert Attachment.objects.get().name == "sticker-1.png"


def test_a_file_over_the_limit_is_not_kept_and_the_message_says_so(
    account: ChannelAccount,
    graph: FakeGraph,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024
    url = graph.add_file("long.mp4", b"v" * 2048, "video/mp4")

    FB.deliver(django_capture_on_commit_callbacks, FB.attachment("video", url, "See this"))

    assert Attachment.objects.count() == 0
    assert only_message().text == (
        "See this\n\n[The video could not be stored. It is 2 KB, over the limit of 1 KB. Ask "
        "the customer to send it again if it is needed.]"
    )


def test_an_expired_link_leaves_a_note(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    url = graph.add_file("old.jpg", PHOTO, "image/jpeg", status=403)

    FB.deliver(django_capture_on_commit_callbacks, FB.attachment("image", url))

    assert only_message().text == (
        "[The image could not be stored. Meta's file server answered HTTP 403: the link may "
        "have expired. Ask the customer to send it again if it is needed.]"
    )


def test_a_cdn_outage_retries_the_event_and_the_retry_brings_the_file(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    url = graph.add_file("crushed-box.jpg", PHOTO, "image/jpeg")
    graph.script("cdn", 503, b"Service Unavailable", headers={"Retry-After": "30"})

    FB.deliver(django_capture_on_commit_callbacks, FB.attachment("image", url))

    [event] = events()
    assert event.status == InboundEvent.Status.FAILED
    assert event.error == ("Downloading the image failed: Meta's file server answered HTTP 503.")
    assert event.next_attempt_at is not None
    assert Message.objects.count() == 0

    InboundEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_inbound_events_task() == 1

    event.refresh_from_db()
    assert event.status == InboundEvent.Status.PROCESSED
    assert Attachment.objects.get().size == len(PHOTO)


# --- Everything else becomes text ----------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(
            FB.message("Order status", quick_reply={"payload": "ORDER_STATUS"}),
            "Order status",
            id="quick reply",
        ),
        pytest.param(
            FB.postback("Talk to a person", "TALK_TO_AGENT"), "Talk to a person", id="postback"
        ),
        pytest.param(
            FB.message(
                attachments=[
                    {
                        "type": "fallback",
                        "payload": {"url": "https://shop.test/p/mug", "title": "Blue mug"},
                    }
                ]
            ),
            "🔗 Blue mug https://shop.test/p/mug",
            id="shared link",
        ),
        pytest.param(
            FB.message(
                attachments=[
                    {
                        "type": "location",
                        "payload": {
                            "title": "Ana's location",
                            "coordinates": {"lat": -23.5505, "long": -46.6333},
                        },
                    }
                ]
            ),
            "📍 Shared a location\nAna's location\nhttps://www.openstreetmap.org/"
            "?mlat=-23.550500&mlon=-46.633300#map=17/-23.550500/-46.633300",
            id="location",
        ),
    ],
)
def test_buttons_links_and_locations_are_their_readable_text(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, event: Any, expected: str
) -> None:
    FB.deliver(django_capture_on_commit_callbacks, event)

    received = only_message()
    assert received.text == expected
    assert received.is_automated is False


def test_a_postback_without_a_mid_is_keyed_by_who_and_when(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    event = FB.postback("Get started", "GET_STARTED")
    del event["postback"]["mid"]

    FB.deliver(django_capture_on_commit_callbacks, event)
    FB.deliver(django_capture_on_commit_callbacks, event)

    assert [stored.external_id for stored in events()] == [f"postback:{FB.customer}:{T0}"]
    assert only_message().provider_message_id == f"postback:{T0}:{FB.customer}"


# --- Replies and reactions to our messages -------------------------------------------------


@pytest.fixture
def our_reply(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, agent: User
) -> Message:
    """A conversation: Ana wrote a minute ago, the agent answered through the fake Graph."""
    now = int(timezone.now().timestamp() * 1000)
    FB.deliver(django_capture_on_commit_callbacks, FB.message("Hi", timestamp=now - 60_000))
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_reply(Ticket.objects.get(), author=agent, text="It left our warehouse today.")
    reply.refresh_from_db()
    assert reply.provider_message_id == "m_FAKE0001"
    return reply


def test_a_reply_to_our_message_threads_by_its_mid(
    our_reply: Message, django_capture_on_commit_callbacks: Any
) -> None:
    FB.deliver(
        django_capture_on_commit_callbacks,
        FB.message("Thanks!", reply_to={"mid": our_reply.provider_message_id}),
    )

    answer = Message.objects.get(text="Thanks!")
    assert answer.ticket_id == our_reply.ticket_id
    assert answer.threading_reason == Message.ThreadingReason.REFERENCES


def test_a_reaction_is_recorded_on_its_ticket_without_reopening_it(
    our_reply: Message, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = our_reply.ticket
    change_status(ticket, Ticket.Status.SOLVED, actor=agent)

    FB.deliver(django_capture_on_commit_callbacks, FB.reaction(our_reply.provider_message_id))

    recorded = Message.objects.get(direction=Message.Direction.INBOUND, is_automated=True)
    assert recorded.text == "Reacted ❤️ to “It left our warehouse today.”"
    assert recorded.ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED
    activity = TicketActivity.objects.get(
        verb=TicketActivity.Verb.MESSAGE_RECEIVED, data__automated=True
    )
    assert activity.data["automated_reason"] == "reaction"


def test_a_removed_reaction_is_recorded_as_such(
    our_reply: Message, django_capture_on_commit_callbacks: Any
) -> None:
    mid = our_reply.provider_message_id
    FB.deliver(django_capture_on_commit_callbacks, FB.reaction(mid))
    FB.deliver(
        django_capture_on_commit_callbacks, FB.reaction(mid, action="unreact", timestamp=T0 + 9000)
    )

    assert list(
        Message.objects.filter(is_automated=True).order_by("pk").values_list("text", flat=True)
    ) == [
        "Reacted ❤️ to “It left our warehouse today.”",
        "Removed a reaction from “It left our warehouse today.”",
    ]


def test_a_reaction_to_nothing_we_know_opens_no_ticket(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    FB.deliver(django_capture_on_commit_callbacks, FB.reaction("m_UNKNOWN"))

    assert Ticket.objects.count() == 0
    assert events()[0].status == InboundEvent.Status.PROCESSED


def test_entries_for_another_page_are_left_out(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    FB.deliver(
        django_capture_on_commit_callbacks, FB.message("Not for us"), page_id="999999999999999"
    )

    [event] = events()
    assert event.status == InboundEvent.Status.IGNORED
    assert event.error == "Nothing to record: events for 999999999999999"
    assert Message.objects.count() == 0
