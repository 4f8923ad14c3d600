"""Telegram messages through the real pipeline: media fetched from the fake Bot API with
getFile and the file download, threading, and what happens when a download fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.tasks import sweep_inbound_events_task
from tests.channels_inbox.telegram.conftest import (
    LENA,
    FakeTelegram,
    events,
    message_update,
    post_update,
    telegram_error,
)
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

PHOTO = b"\xff\xd8\xff\xe0 the large photo"
THUMBNAIL = b"\xff\xd8\xff\xe0 tiny"


def photo_sizes() -> list[dict[str, Any]]:
    return [
        {
            "file_id": "ph-small",
            "file_unique_id": "AQADcr4xG1",
            "file_size": 1402,
            "width": 90,
            "height": 67,
        },
        {
            "file_id": "ph-large",
            "file_unique_id": "AQADcr4xG1x",
            "file_size": 88713,
            "width": 1280,
            "height": 960,
        },
    ]


def attachments_of(message: Message) -> list[tuple[str, str, int, bytes]]:
    result = []
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            result.append(
                (attachment.name, attachment.content_type, attachment.size, handle.read())
            )
    return result


def test_a_photo_with_a_caption_arrives_with_its_largest_size(
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    telegram.add_file("ph-small", "photos/file_11.jpg", THUMBNAIL)
    telegram.add_file("ph-large", "photos/file_12.jpg", PHOTO)
    update = message_update(caption="Wrong size delivered", photo=photo_sizes())

    response = post_update(django_capture_on_commit_callbacks, update)

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.text == "Wrong size delivered"
    message_id = update["message"]["message_id"]
    assert attachments_of(message) == [(f"photo-{message_id}.jpg", "image/jpeg", len(PHOTO), PHOTO)]
    assert [call.params for call in telegram.called("getFile")] == [{"file_id": "ph-large"}]
    assert [call.params["path"] for call in telegram.called("file")] == ["photos/file_12.jpg"]
    assert message.created_at is not None
    ticket = Ticket.objects.get()
    assert ticket.subject == "Wrong size delivered"


def test_a_document_keeps_its_name_and_type(
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    telegram.add_file("doc-1", "documents/file_3.pdf", b"%PDF-1.7 invoice")
    document = {
        "file_id": "doc-1",
        "file_unique_id": "u-doc-1",
        "file_name": "Rechnung 1001.pdf",
        "mime_type": "application/pdf",
        "file_size": 16,
    }

    post_update(django_capture_on_commit_callbacks, message_update(document=document))

    message = Message.objects.get()
    assert message.text == ""
    [(name, content_type, size, content)] = attachments_of(message)
    assert (name, content_type, size, content) == (
        "Rechnung_1001.pdf",
        "application/pdf",
        16,
        b"%PDF-1.7 invoice",
    )


def test_a_voice_note_arrives_as_an_ogg_file(
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    telegram.add_file("voice-1", "voice/file_7.oga", b"OggS voice")
    update = message_update(
        voice={
            "file_id": "voice-1",
            "file_unique_id": "u-v",
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": 10,
        }
    )

    post_update(django_capture_on_commit_callbacks, update)

    message_id = update["message"]["message_id"]
    assert attachments_of(Message.objects.get()) == [
        (f"voice-{message_id}.ogg", "audio/ogg", 10, b"OggS voice")
    ]


def test_location_and_contact_become_text(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    post_update(
        django_capture_on_commit_callbacks,
        message_update(location={"latitude": 52.52, "longitude": 13.405}),
    )
    post_update(
        django_capture_on_commit_callbacks,
        message_update(contact={"phone_number": "+4915112345678", "first_name": "Jonas"}),
    )

    assert [message.text for message in Message.objects.order_by("pk")] == [
        "Location: 52.52, 13.405",
        "Contact: Jonas, +4915112345678",
    ]


def test_messages_of_one_chat_continue_one_ticket_and_keep_telegrams_time(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    post_update(django_capture_on_commit_callbacks, message_update(text="My parcel is late"))
    post_update(
        django_capture_on_commit_callbacks, message_update(text="Order #1001", date=1767272400)
    )

    ticket = Ticket.objects.get()
    messages = list(ticket.messages.order_by("pk"))
    assert [message.text for message in messages] == ["My parcel is late", "Order #1001"]
    assert messages[1].threading_reason == "active_conversation"
    assert ticket.last_message_at == datetime(2026, 1, 1, 13, 0, tzinfo=UTC)


def test_a_sender_without_a_name_is_known_by_the_username(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    update = message_update(
        text="hi", **{"from": {"id": LENA, "is_bot": False, "first_name": "", "username": "lena_k"}}
    )

    post_update(django_capture_on_commit_callbacks, update)

    identity = Ticket.objects.get().customer.identities.get()
    assert identity.display_name == "@lena_k"


def test_a_file_over_the_attachment_limit_is_not_downloaded_and_the_message_says_so(
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
    big = {
        "file_id": "big",
        "file_name": "video.mov",
        "mime_type": "video/quicktime",
        "file_size": 30 * 1024 * 1024,
    }
    telegram.add_file("big", "documents/big.mov", b"never fetched")

    post_update(
        django_capture_on_commit_callbacks, message_update(caption="See this", document=big)
    )

    message = Message.objects.get()
    assert message.text == (
        "See this\n\n[video.mov (30.0 MB) was not downloaded: larger than the 2.0 MB limit.]"
    )
    assert attachments_of(message) == []
    assert telegram.calls == []


def test_a_file_larger_than_announced_is_cut_off_at_the_limit(
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The message says 1 KB, the file turns out to be more: the download stops there."""
    settings.MAX_ATTACHMENT_BYTES = 1024
    telegram.add_file("doc", "documents/d.bin", b"x" * 5000)
    document = {"file_id": "doc", "file_name": "d.bin", "file_size": 100}
    # getFile reports the true size; answer it with the announced one instead.
    telegram.answer(
        "getFile",
        200,
        {
            "ok": True,
            "result": {"file_id": "doc", "file_size": 100, "file_path": "documents/d.bin"},
        },
    )

    post_update(django_capture_on_commit_callbacks, message_update(document=document))

    message = Message.objects.get()
    assert message.text == "[d.bin (5 KB) was not downloaded: larger than the 1 KB limit.]"
    assert attachments_of(message) == []


def test_a_file_telegram_will_not_hand_over_is_noted_and_the_message_kept(
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    telegram.answer("getFile", 400, telegram_error(400, "Bad Request: file is too big"))
    document = {"file_id": "huge", "file_name": "scan.pdf", "mime_type": "application/pdf"}

    post_update(
        django_capture_on_commit_callbacks,
        message_update(caption="Scan attached", document=document),
    )

    message = Message.objects.get()
    assert message.text == (
        "Scan attached\n\n[scan.pdf could not be downloaded: Telegram refused getFile (400): "
        "Bad Request: file is too big]"
    )
    [event] = events()
    assert event.status == "processed"


def test_a_failing_download_is_retried_and_then_delivers_the_message_once(
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    telegram.add_file("ph-large", "photos/file_12.jpg", PHOTO)
    telegram.answer("file", 502, b"<html>Bad Gateway</html>")
    update = message_update(caption="Broken mug", photo=photo_sizes())

    post_update(django_capture_on_commit_callbacks, update)

    [event] = events()
    assert (event.status, event.attempts) == ("failed", 1)
    assert event.error == "Telegram server error on the file download (502): no description"
    assert event.next_attempt_at is not None
    assert not Message.objects.exists()

    InboundEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert sweep_inbound_events_task() == 1

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)
    message = Message.objects.get()
    assert [item[3] for item in attachments_of(message)] == [PHOTO]


def test_a_revoked_bot_token_is_noted_and_the_token_never_shown(
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ChannelAccount.objects.filter(pk=telegram_account.pk).update(
        credentials={
            "bot_token": "1:revoked",
            "secret_token": telegram_account.credentials["secret_token"],
        }
    )
    document = {"file_id": "doc-1", "file_name": "a.pdf"}

    post_update(django_capture_on_commit_callbacks, message_update(document=document))

    [event] = events()
    assert event.status == "processed"
    message = Message.objects.get()
    assert message.text == (
        "[a.pdf could not be downloaded: Telegram refused getFile (401): Unauthorized; "
        "check the account's bot_token]"
    )
    assert "1:revoked" not in message.text
