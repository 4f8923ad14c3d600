"""What customers send on Instagram, through the real pipeline: the name from the profile
endpoint, story replies and mentions with their link, shared posts and reels, photos,
unsent and unsupported messages, reactions, echoes and "seen" receipts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from customers.models import Identity
from helpdesk.models import User
from tests.channels_inbox.meta_messaging.fake_graph import VERSION, FakeGraph
from tests.channels_inbox.meta_messaging.notifications import INSTAGRAM as IG
from tickets.models import Message, Ticket
from tickets.services import add_reply

pytestmark = pytest.mark.django_db

STORY = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17900000000000001&signature=abc"


def only_message() -> Message:
    return Message.objects.get()


def now_ms(ago: timedelta = timedelta()) -> int:
    return int((timezone.now() - ago).timestamp() * 1000)


def test_the_sender_is_the_igsid_named_by_name_and_username(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    IG.deliver(django_capture_on_commit_callbacks, IG.message("Oi! Do you ship to Lisbon?"))

    identity = Identity.objects.get()
    assert (identity.kind, identity.address, identity.display_name) == (
        "instagram",
        IG.customer,
        "Ana Souza",
    )
    [lookup] = graph.calls("profile")
    assert lookup.path == f"/{VERSION}/{IG.customer}?fields=name,username"


def test_someone_without_a_name_is_known_by_their_username(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    graph.profiles[IG.customer] = {"username": "ana.souza"}

    IG.deliver(django_capture_on_commit_callbacks, IG.message("Hi"))

    assert Identity.objects.get().display_name == "@ana.souza"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(
            IG.message(
                "Is this one still available?", reply_to={"story": {"url": STORY, "id": "1790"}}
            ),
            f"Is this one still available?\n\n(Replied to your story: {STORY})",
            id="story reply",
        ),
        pytest.param(
            IG.message(attachments=[{"type": "story_mention", "payload": {"url": STORY}}]),
            f"📣 Mentioned you in their story: {STORY}",
            id="story mention",
        ),
        pytest.param(
            IG.message(
                attachments=[
                    {"type": "share", "payload": {"url": "https://www.instagram.com/p/C1a2b3/"}}
                ]
            ),
            "🔗 Shared a post: https://www.instagram.com/p/C1a2b3/",
            id="shared post",
        ),
        pytest.param(
            IG.message(
                attachments=[
                    {
                        "type": "ig_reel",
                        "payload": {
                            "reel_video_id": "1790000",
                            "title": "Unboxing the blue mug",
                            "url": "https://www.instagram.com/reel/C9x8y7/",
                        },
                    }
                ]
            ),
            "🎬 Shared a reel: Unboxing the blue mug https://www.instagram.com/reel/C9x8y7/",
            id="reel",
        ),
        pytest.param(
            IG.message(is_unsupported=True),
            "[The customer sent Instagram content of type 'unsupported', which cannot be shown "
            "here.] Ask them to send it again as text or a photo if it matters.",
            id="unsupported",
        ),
    ],
)
def test_stories_posts_and_reels_are_readable_text_with_their_link(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, event: Any, expected: str
) -> None:
    IG.deliver(django_capture_on_commit_callbacks, event)

    assert only_message().text == expected


def test_a_photo_is_downloaded_into_an_attachment(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    url = graph.add_file("ig-photo", b"\xff\xd8\xff photo", "image/jpeg")

    IG.deliver(django_capture_on_commit_callbacks, IG.attachment("image", url))

    attachment = only_message().attachments.get()
    assert (attachment.name, attachment.content_type) == ("image-1.jpg", "image/jpeg")


# --- Our conversation ----------------------------------------------------------------------


@pytest.fixture
def our_reply(
    account: ChannelAccount, agent: User, django_capture_on_commit_callbacks: Any
) -> Message:
    """Ana wrote a minute ago and the agent answered through the fake Graph."""
    IG.deliver(
        django_capture_on_commit_callbacks,
        IG.message("Do you have it in blue?", timestamp=now_ms(timedelta(minutes=1))),
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_reply(Ticket.objects.get(), author=agent, text="Yes, size M and L.")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    return reply


def test_an_unsent_message_is_recorded_on_its_ticket_quoting_it(
    our_reply: Message, django_capture_on_commit_callbacks: Any
) -> None:
    original = Message.objects.get(text="Do you have it in blue?")

    IG.deliver(
        django_capture_on_commit_callbacks,
        IG.message(mid=original.provider_message_id, is_deleted=True, timestamp=now_ms()),
    )

    recorded = Message.objects.get(is_automated=True)
    assert recorded.text == "Unsent “Do you have it in blue?”"
    assert recorded.ticket_id == original.ticket_id
    assert recorded.provider_message_id == f"deleted:{original.provider_message_id}"
    assert Message.objects.filter(pk=original.pk).exists()


def test_a_reaction_to_our_reply_is_recorded_as_automated(
    our_reply: Message, django_capture_on_commit_callbacks: Any
) -> None:
    IG.deliver(
        django_capture_on_commit_callbacks,
        IG.reaction(our_reply.provider_message_id, timestamp=now_ms()),
    )

    recorded = Message.objects.get(is_automated=True)
    assert (recorded.text, recorded.ticket_id) == (
        "Reacted ❤️ to “Yes, size M and L.”",
        our_reply.ticket_id,
    )


def test_seeing_a_message_reads_it_and_everything_we_sent_before(
    our_reply: Message, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Instagram's read receipt names the message seen: every reply sent before the moment
    it was seen was on screen too."""
    with django_capture_on_commit_callbacks(execute=True):
        later = add_reply(our_reply.ticket, author=agent, text="Shall I reserve one?")
    later.refresh_from_db()

    IG.deliver(
        django_capture_on_commit_callbacks,
        IG.read(mid=later.provider_message_id, timestamp=now_ms() + 1000),
    )

    our_reply.refresh_from_db()
    later.refresh_from_db()
    assert (our_reply.delivery_status, later.delivery_status) == ("read", "read")


def test_a_reply_from_the_instagram_app_is_recorded_as_sent(
    our_reply: Message, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    sent_from_phone = IG.echo("We also have it in green!", timestamp=now_ms())

    IG.deliver(django_capture_on_commit_callbacks, sent_from_phone)

    echoed = Message.objects.get(provider_message_id=sent_from_phone["message"]["mid"])
    assert (echoed.direction, echoed.kind, echoed.delivery_status) == ("outbound", "reply", "sent")
    assert echoed.ticket_id == our_reply.ticket_id
    assert len(graph.calls("send")) == 1  # our own reply only
