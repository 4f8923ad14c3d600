"""Every kind of WhatsApp message, posted signed to the webhook and followed through the
real pipeline (eager Celery) to the ticket: text, files downloaded from the fake Graph API
and checked against their sha256, locations, contacts, replies, reactions."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.tasks import sweep_inbound_events_task
from customers.models import Identity
from tests.channels_inbox.whatsapp.conftest import (
    ACCESS_TOKEN,
    ANA,
    APP_SECRET,
    PHONE_NUMBER_ID,
    T0,
    VERIFY_TOKEN,
    change_value,
    deliver,
    events,
    make_account,
    message,
    new_wamid,
    text,
)
from tests.channels_inbox.whatsapp.fake_graph import VERSION, FakeGraph
from tickets.models import Attachment, Message, Ticket, TicketActivity
from tickets.services import add_reply, change_status

pytestmark = pytest.mark.django_db

PHOTO = b"\xff\xd8\xff\xe0 a JPEG of a crushed box"


def only_message() -> Message:
    return Message.objects.get()


def media_message(kind: str, media_id: str, sha256: str, mime_type: str, **fields: Any) -> Any:
    return message(kind, {"id": media_id, "mime_type": mime_type, "sha256": sha256, **fields})


# --- Text and the sender -------------------------------------------------------------------


def test_a_text_opens_a_ticket_for_the_sender_in_e164_with_their_profile_name(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    wamid = new_wamid()

    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[text("Where is #1001?", wamid=wamid)]),
    )

    received = only_message()
    assert (received.text, received.provider_message_id) == ("Where is #1001?", wamid)
    assert received.direction == Message.Direction.INBOUND
    assert received.is_automated is False
    identity = Identity.objects.get(kind="whatsapp")
    assert (identity.address, identity.display_name) == (ANA, "Ana Souza")
    assert identity.customer.name == "Ana Souza"
    ticket = received.ticket
    assert (ticket.channel, ticket.channel_account) == ("whatsapp", account)
    assert ticket.last_customer_message_at == datetime.fromtimestamp(T0, tz=UTC)


def test_a_second_message_continues_the_conversation(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    deliver(django_capture_on_commit_callbacks, change_value(messages=[text("Hi")]))
    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[text("Any news?", timestamp=T0 + 5)]),
    )

    assert Ticket.objects.count() == 1
    later = Message.objects.get(text="Any news?")
    assert later.threading_reason == Message.ThreadingReason.ACTIVE_CONVERSATION


def test_a_batch_is_saved_in_the_order_it_was_written(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[text("second", timestamp=T0 + 30), text("first", timestamp=T0 + 2)]),
    )

    assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == [
        "first",
        "second",
    ]


def test_a_message_without_a_sender_number_is_left_out_with_the_reason(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Users with a WhatsApp username may come with a business-scoped id only."""
    item = text("Hello from a username")
    del item["from"]
    item["from_user_id"] = "US.13491208655302741918"

    deliver(django_capture_on_commit_callbacks, change_value(messages=[item]))

    [event] = events()
    assert event.status == InboundEvent.Status.IGNORED
    assert event.error == f"Nothing to record: message {item['id']} without a sender number"
    assert Message.objects.count() == 0


def test_a_text_without_a_body_is_stored_as_empty_rather_than_failing_the_batch(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[message("text", {}), text("Still there?", timestamp=T0 + 1)]),
    )

    assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == [
        "[An empty WhatsApp text message.]",
        "Still there?",
    ]


def test_an_account_without_its_phone_number_id_fails_the_event_until_it_is_set(
    support_team: Any, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    """It could not tell its own number's messages from those of the app's other numbers."""
    make_account(support_team, credentials={"app_secret": APP_SECRET})

    deliver(django_capture_on_commit_callbacks, change_value(messages=[text("Hello")]))

    [event] = events()
    assert (event.status, event.next_attempt_at) == (InboundEvent.Status.FAILED, None)
    assert event.error == "The WhatsApp account shop-whatsapp has no phone_number_id credential."
    assert Message.objects.count() == 0


# --- Files ---------------------------------------------------------------------------------


def test_an_image_is_downloaded_checked_and_attached_with_its_caption(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    sha256 = graph.add_media("1003383421387256", PHOTO, "image/jpeg")
    item = media_message(
        "image", "1003383421387256", sha256, "image/jpeg", caption="Box arrived damaged"
    )

    deliver(django_capture_on_commit_callbacks, change_value(messages=[item]))

    received = only_message()
    assert received.text == "Box arrived damaged"
    attachment = received.attachments.get()
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "image-1003383421387256.jpg",
        "image/jpeg",
        len(PHOTO),
    )
    with attachment.file.open("rb") as handle:
        assert handle.read() == PHOTO
    lookup, download = graph.requests
    assert (lookup.method, lookup.path) == ("GET", f"/{VERSION}/1003383421387256")
    assert download.path.startswith("/lookaside/1003383421387256?mid=")
    assert {lookup.headers["Authorization"], download.headers["Authorization"]} == {
        f"Bearer {ACCESS_TOKEN}"
    }


@pytest.mark.parametrize(
    ("kind", "mime_type", "fields", "name"),
    [
        ("document", "application/pdf", {"filename": "invoice-1001.pdf"}, "invoice-1001.pdf"),
        ("audio", "audio/ogg; codecs=opus", {"voice": True}, "voice-message-77.ogg"),
        ("audio", "audio/mpeg", {}, "audio-77.mp3"),
        ("video", "video/mp4", {}, "video-77.mp4"),
        ("sticker", "image/webp", {"animated": False}, "sticker-77.webp"),
    ],
)
def test_every_kind_of_file_becomes_an_attachment(
    account: ChannelAccount,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
    kind: str,
    mime_type: str,
    fields: dict[str, Any],
    name: str,
) -> None:
    content = f"{kind} bytes".encode()
    sha256 = graph.add_media("77", content, mime_type)

    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[media_message(kind, "77", sha256, mime_type, **fields)]),
    )

    attachment = Attachment.objects.get()
    assert (attachment.name, attachment.content_type) == (name, mime_type)
    with attachment.file.open("rb") as handle:
        assert handle.read() == content
    assert only_message().text == ""


def test_a_hex_sha256_is_checked_as_well(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    graph.add_media("55", PHOTO, "image/png")
    item = media_message("image", "55", hashlib.sha256(PHOTO).hexdigest(), "image/png")

    deliver(django_capture_on_commit_callbacks, change_value(messages=[item]))

    assert Attachment.objects.get().size == len(PHOTO)


def test_a_file_that_does_not_match_its_sha256_is_not_kept_and_the_message_says_so(
    account: ChannelAccount,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What we downloaded is not what the customer sent: never shown to an agent. The
    message and its caption are kept, with the reason in place of the file."""
    graph.add_media("66", PHOTO, "image/jpeg", sha256=hashlib.sha256(PHOTO).hexdigest())
    announced = base64.b64encode(hashlib.sha256(b"the real photo").digest()).decode()
    item = media_message("image", "66", announced, "image/jpeg", caption="See the photo")

    deliver(django_capture_on_commit_callbacks, change_value(messages=[item]))

    received = only_message()
    assert Attachment.objects.count() == 0
    assert received.text == (
        "See the photo\n\n[The image could not be stored. Its content does not match the "
        f"sha256 WhatsApp announced in the webhook (expected {announced}, got "
        f"{hashlib.sha256(PHOTO).hexdigest()}). Ask the customer to send it again if it is "
        "needed.]"
    )
    assert events()[0].status == InboundEvent.Status.PROCESSED
    assert "does not match the sha256 of the webhook" in caplog.text


def test_a_download_that_differs_from_the_media_lookups_sha256_is_not_kept(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    graph.add_media("67", PHOTO, "image/jpeg", sha256="ab" * 32)
    item = message("image", {"id": "67", "mime_type": "image/jpeg"})

    deliver(django_capture_on_commit_callbacks, change_value(messages=[item]))

    assert Attachment.objects.count() == 0
    assert "announced in the media lookup (expected " + "ab" * 32 in only_message().text


def test_a_file_announced_over_the_limit_is_not_downloaded(
    account: ChannelAccount,
    graph: FakeGraph,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024
    sha256 = graph.add_media("88", b"v" * 2048, "video/mp4")

    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[media_message("video", "88", sha256, "video/mp4")]),
    )

    assert only_message().text == (
        "[The video could not be stored. It is 2048 bytes, over the limit of 1024 bytes. "
        "Ask the customer to send it again if it is needed.]"
    )
    assert [request.path for request in graph.requests] == [f"/{VERSION}/88"]


def test_a_file_larger_than_announced_is_cut_off_at_the_limit(
    account: ChannelAccount,
    graph: FakeGraph,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024
    sha256 = graph.add_media("89", b"d" * 4096, "application/pdf", file_size="100")

    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[media_message("document", "89", sha256, "application/pdf")]),
    )

    assert Attachment.objects.count() == 0
    assert "over the limit of 1024 bytes" in only_message().text


def test_an_expired_download_url_is_looked_up_again_once(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    sha256 = graph.add_media("90", PHOTO, "image/jpeg", expired_urls=1)

    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[media_message("image", "90", sha256, "image/jpeg")]),
    )

    assert Attachment.objects.get().size == len(PHOTO)
    assert [request.method for request in graph.requests] == ["GET"] * 4


def test_media_whatsapp_no_longer_has_leaves_a_note(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    item = media_message("document", "404", "", "application/pdf", filename="label.pdf")

    deliver(django_capture_on_commit_callbacks, change_value(messages=[item]))

    assert only_message().text == (
        "[The document label.pdf could not be stored. WhatsApp would not hand it over: "
        "Unsupported get request. (code 100). Ask the customer to send it again if it is "
        "needed.]"
    )


def test_a_graph_outage_retries_the_event_and_the_retry_brings_the_file(
    account: ChannelAccount, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    sha256 = graph.add_media("91", PHOTO, "image/jpeg")
    graph.script("lookup", 500, {"error": {"message": "An unknown error occurred", "code": 1}})

    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[media_message("image", "91", sha256, "image/jpeg")]),
    )

    [event] = events()
    assert event.status == InboundEvent.Status.FAILED
    assert event.error == ("Downloading image 91 failed: An unknown error occurred (code 1)")
    assert event.next_attempt_at is not None
    assert Message.objects.count() == 0

    InboundEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_inbound_events_task() == 1

    event.refresh_from_db()
    assert event.status == InboundEvent.Status.PROCESSED
    assert Attachment.objects.get().size == len(PHOTO)


def test_a_refused_access_token_fails_the_event_for_an_admin_to_fix(
    support_team: Any, graph: FakeGraph, django_capture_on_commit_callbacks: Any
) -> None:
    make_account(
        support_team,
        credentials={
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": "expired-token",
            "phone_number_id": PHONE_NUMBER_ID,
        },
    )
    sha256 = graph.add_media("92", PHOTO, "image/jpeg")

    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[media_message("image", "92", sha256, "image/jpeg")]),
    )

    [event] = events()
    assert (event.status, event.next_attempt_at) == (InboundEvent.Status.FAILED, None)
    assert event.error == (
        "The account's access_token was refused while downloading image 92: Error validating "
        "access token: Session expired (code 190)"
    )
    assert Message.objects.count() == 0


# --- Everything else becomes text ----------------------------------------------------------


def test_a_location_is_text_with_a_map_link(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    location = {
        "latitude": -23.5505,
        "longitude": -46.6333,
        "name": "Casa da Ana",
        "address": "Rua A 10, São Paulo",
    }

    deliver(
        django_capture_on_commit_callbacks, change_value(messages=[message("location", location)])
    )

    assert only_message().text == (
        "📍 Shared a location\nCasa da Ana\nRua A 10, São Paulo\n"
        "https://www.openstreetmap.org/?mlat=-23.550500&mlon=-46.633300"
        "#map=17/-23.550500/-46.633300"
    )


def test_shared_contacts_are_readable_text(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    contacts = [
        {
            "name": {"formatted_name": "Bruno Lima", "first_name": "Bruno"},
            "phones": [{"phone": "+55 11 91234-5678", "wa_id": "5511912345678", "type": "CELL"}],
            "emails": [{"email": "bruno@example.com", "type": "WORK"}],
            "org": {"company": "Lima Transportes"},
        },
        {"name": {"first_name": "Carla", "last_name": "Dias"}, "phones": []},
    ]

    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[message("contacts", contacts=contacts)]),
    )

    assert only_message().text == (
        "Shared 2 contacts\n\n"
        "👤 Bruno Lima\nPhone: +55 11 91234-5678 (CELL)\nEmail: bruno@example.com\n"
        "Company: Lima Transportes\n\n"
        "👤 Carla Dias"
    )


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param(
            message("button", {"payload": "TRACK_ORDER", "text": "Track my order"}),
            "Track my order",
            id="template quick reply",
        ),
        pytest.param(
            message(
                "interactive",
                {"type": "button_reply", "button_reply": {"id": "yes-1", "title": "Yes, refund"}},
            ),
            "Yes, refund",
            id="button reply",
        ),
        pytest.param(
            message(
                "interactive",
                {
                    "type": "list_reply",
                    "list_reply": {
                        "id": "size-m",
                        "title": "Size M",
                        "description": "Exchange for size M",
                    },
                },
            ),
            "Size M\nExchange for size M",
            id="list reply",
        ),
        pytest.param(
            message(
                "order",
                {
                    "catalog_id": "1",
                    "text": "Gift wrap please",
                    "product_items": [
                        {
                            "product_retailer_id": "MUG-BL",
                            "quantity": 2,
                            "item_price": 19.95,
                            "currency": "USD",
                        }
                    ],
                },
            ),
            "🛒 Sent an order from the catalog\n2 × MUG-BL at 19.95 USD\nGift wrap please",
            id="catalog order",
        ),
        pytest.param(
            text(
                "Is this still on sale?",
                referral={"headline": "Mugs -20%", "source_url": "https://fb.me/ad1"},
            ),
            "Is this still on sale?\n\n(Came from an ad: Mugs -20% – https://fb.me/ad1)",
            id="click-to-WhatsApp ad",
        ),
    ],
)
def test_replies_and_orders_are_their_readable_text(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, item: Any, expected: str
) -> None:
    deliver(django_capture_on_commit_callbacks, change_value(messages=[item]))

    assert only_message().text == expected


# --- Replies and reactions to our messages -------------------------------------------------


@pytest.fixture
def our_reply(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, agent: Any
) -> Message:
    """A conversation: Ana wrote a minute ago, the agent answered through the fake Graph."""
    now = int(timezone.now().timestamp())
    deliver(
        django_capture_on_commit_callbacks, change_value(messages=[text("Hi", timestamp=now - 60)])
    )
    ticket = Ticket.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_reply(ticket, author=agent, text="It left our warehouse today.")
    reply.refresh_from_db()
    assert reply.provider_message_id == "wamid.FAKE0001"
    return reply


def test_a_reply_to_our_message_threads_by_its_wamid(
    our_reply: Message, django_capture_on_commit_callbacks: Any
) -> None:
    context = {"from": "15550783881", "id": our_reply.provider_message_id}

    deliver(
        django_capture_on_commit_callbacks,
        change_value(messages=[text("Thanks!", context=context)]),
    )

    answer = Message.objects.get(text="Thanks!")
    assert answer.ticket_id == our_reply.ticket_id
    assert answer.threading_reason == Message.ThreadingReason.REFERENCES


def test_a_reaction_is_recorded_on_its_ticket_without_reopening_it(
    our_reply: Message, agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = our_reply.ticket
    change_status(ticket, Ticket.Status.SOLVED, actor=agent)
    reaction = {"message_id": our_reply.provider_message_id, "emoji": "👍"}

    deliver(
        django_capture_on_commit_callbacks, change_value(messages=[message("reaction", reaction)])
    )

    recorded = Message.objects.get(direction=Message.Direction.INBOUND, is_automated=True)
    assert recorded.text == "Reacted 👍 to “It left our warehouse today.”"
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
    reaction = {"message_id": our_reply.provider_message_id, "emoji": ""}

    deliver(
        django_capture_on_commit_callbacks, change_value(messages=[message("reaction", reaction)])
    )

    assert Message.objects.get(is_automated=True).text == (
        "Removed a reaction from “It left our warehouse today.”"
    )


def test_a_reaction_to_nothing_we_know_opens_no_ticket(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    reaction = {"message_id": "wamid.UNKNOWN", "emoji": "❤️"}

    deliver(
        django_capture_on_commit_callbacks, change_value(messages=[message("reaction", reaction)])
    )

    assert Ticket.objects.count() == 0
    assert events()[0].status == InboundEvent.Status.PROCESSED
