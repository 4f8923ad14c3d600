"""The Telegram channel: a bot's updates in, Bot API messages out.

Reading (``parse``) takes one stored ``Update`` (``channels_inbox.telegram.views`` stored it):

- Only ``message`` updates from private chats with the bot become customer messages. Edits,
  channel posts, button presses, reactions and every other update type, messages in groups
  (where one chat id is many people) and messages from bots are ignored with the reason.
  So is ``/start`` (with a deep link's parameter, if any): Telegram sends it when someone
  opens the bot, before they write.
- The sender's address is the chat id (the same as the user id in a private chat); the name
  is their first and last name, else their @username.
- Text is ``text`` or a media message's ``caption``; a location, venue or contact becomes
  a line of text. Photos (the largest size), documents, voice notes, audio, video and video
  notes are downloaded through ``getFile`` into attachments. A file over the attachment size
  limit (``MAX_ATTACHMENT_BYTES``), or one Telegram will not hand over, is not downloaded and
  the message says so; a download that fails for a while fails the event, which the
  pipeline retries.
- Message ids are unique per chat only, so the provider id is ``<chat id>:<message id>``,
  and a reply to one of our messages (``reply_to_message``) names it the same way in
  ``references``. Otherwise the customer's active conversation on the account continues.

Sending (``send``): text with ``sendMessage`` (at most 4,096 characters); a file with
``sendPhoto`` (JPEG or PNG up to 10 MB) or ``sendDocument`` (anything up to 50 MB), as
multipart uploads, the text going along as the caption of the first file when it fits in
1,024 characters. A message that needs several calls is only retried when the first one
fails: once part of it is out, sending it again would repeat that part, so a later failure
fails the message, saying what went out and what did not. Telegram sends no delivery
receipts, so a sent message stays "sent".

Credentials: ``bot_token`` and ``secret_token`` (the webhook's shared secret). Telegram
accounts take no options.
"""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeGuard

from django.conf import settings

from channels_inbox.adapters.base import (
    ChannelAdapter,
    ChannelError,
    OutboundMessage,
    ParseResult,
    SendResult,
    payload_bytes,
)
from channels_inbox.adapters.inbound import credential
from channels_inbox.adapters.transport import FilePart, format_size
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.telegram.api import BotApi, FileTooLarge
from helpdesk.channel_kinds import ChannelKind
from tickets.services import InboundAttachment, InboundMessage, OutboundAttachment

MAX_TEXT_CHARACTERS = 4096
MAX_CAPTION_CHARACTERS = 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
# What opening the bot sends: /start, with a deep link's parameter when the link had one.
START_COMMAND = re.compile(r"/start(?:@\w+)?(?:\s+[A-Za-z0-9_-]{1,64})?")

# Content of a message that we read; anything else alone makes the message ignored.
OTHER_CONTENT = (
    "sticker",
    "poll",
    "dice",
    "game",
    "story",
    "invoice",
    "paid_media",
    "giveaway",
    "checklist",
)


@dataclass(frozen=True)
class Media:
    """A file a customer sent, as the message describes it."""

    file_id: str
    name: str
    content_type: str
    size: int | None


def provider_id(chat_id: int | str, message_id: int | str) -> str:
    return f"{chat_id}:{message_id}"


def display_name(user: dict[str, Any]) -> str:
    parts = [user.get("first_name"), user.get("last_name")]
    name = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    if name:
        return name
    username = user.get("username")
    return f"@{username}" if isinstance(username, str) and username else ""


class TelegramAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.TELEGRAM

    # --- Reading -------------------------------------------------------------------------

    def parse(self, account: ChannelAccount, event: InboundEvent) -> ParseResult:
        update = _load_update(payload_bytes(event))
        message = update.get("message")
        if not isinstance(message, dict):
            kinds = [key for key in update if key != "update_id"] or ["empty"]
            return ParseResult(
                ignored_reason=f"Telegram {', '.join(kinds)} updates are not taken in."
            )
        return self._message(account, message)

    def _message(self, account: ChannelAccount, message: dict[str, Any]) -> ParseResult:
        chat = message.get("chat")
        message_id = message.get("message_id")
        if not isinstance(chat, dict) or not _is_id(chat.get("id")) or not _is_id(message_id):
            raise ChannelError("The Telegram message has no chat id or message id.", permanent=True)
        chat_id = chat["id"]
        if chat.get("type") != "private":
            return ParseResult(
                ignored_reason=(
                    f"A message in a Telegram {chat.get('type') or 'unknown'} chat: only "
                    "private chats with the bot are taken in."
                )
            )
        sender = message.get("from") if isinstance(message.get("from"), dict) else chat
        assert isinstance(sender, dict)
        if sender.get("is_bot") is True:
            return ParseResult(ignored_reason="A message from a Telegram bot.")

        text = _text_of(message)
        media = _media_of(message)
        if not media and START_COMMAND.fullmatch(text):
            return ParseResult(
                ignored_reason="The customer opened the bot (/start); nothing to answer yet."
            )
        if not text.strip() and not media:
            present = [key for key in OTHER_CONTENT if key in message]
            what = f" ({', '.join(present)})" if present else ""
            return ParseResult(ignored_reason=f"A Telegram message with nothing we take in{what}.")

        attachments, notes = self._download(account, media)
        reply_to = message.get("reply_to_message")
        references: tuple[str, ...] = ()
        if isinstance(reply_to, dict) and _is_id(reply_to.get("message_id")):
            references = (provider_id(chat_id, reply_to["message_id"]),)
        date = message.get("date")
        return ParseResult(
            messages=(
                InboundMessage(
                    channel=ChannelKind.TELEGRAM,
                    sender_address=str(chat_id),
                    sender_name=display_name(sender),
                    text="\n\n".join(part for part in (text, *notes) if part),
                    attachments=tuple(attachments),
                    provider_message_id=provider_id(chat_id, message_id),
                    references=references,
                    starts_conversation=False,
                    received_at=(datetime.fromtimestamp(date, tz=UTC) if _is_id(date) else None),
                ),
            )
        )

    def _download(
        self, account: ChannelAccount, media: list[Media]
    ) -> tuple[list[InboundAttachment], list[str]]:
        """The files' contents, and a note for each file that is not among them. A
        transient failure propagates: the event is tried again."""
        if not media:
            return [], []
        api = BotApi(credential(account, "bot_token"))
        limit = int(settings.MAX_ATTACHMENT_BYTES)
        attachments: list[InboundAttachment] = []
        notes: list[str] = []
        for item in media:
            if item.size is not None and item.size > limit:
                notes.append(_too_large_note(item.name, item.size, limit))
                continue
            try:
                content = api.download(item.file_id, max_bytes=limit)
            except FileTooLarge as error:
                notes.append(_too_large_note(item.name, error.size, limit))
                continue
            except ChannelError as error:
                if not error.permanent:
                    raise
                notes.append(f"[{item.name} could not be downloaded: {error}]")
                continue
            attachments.append(InboundAttachment(item.name, item.content_type, content))
        return attachments, notes

    # --- Sending -------------------------------------------------------------------------

    def send(self, account: ChannelAccount, outbound: OutboundMessage) -> SendResult:
        chat_id = outbound.to_address.strip()
        text = outbound.text.strip()
        _check_sendable(text, outbound.attachments)
        api = BotApi(credential(account, "bot_token"))
        caption = ""
        if outbound.attachments and len(text) <= MAX_CAPTION_CHARACTERS:
            caption, text = text, ""
        calls: list[tuple[str, dict[str, Any], tuple[FilePart, ...], str]] = []
        if text:
            calls.append(
                ("sendMessage", {"chat_id": _chat_id(chat_id), "text": text}, (), "the text")
            )
        for index, attachment in enumerate(outbound.attachments):
            method, field = _file_method(attachment)
            params: dict[str, Any] = {"chat_id": chat_id}
            if index == 0 and caption:
                params["caption"] = caption
            part = FilePart(field, attachment.name, attachment.content_type, attachment.content)
            calls.append((method, params, (part,), attachment.name))

        sent: list[str] = []
        first_id = ""
        for method, params, files, label in calls:
            try:
                result = api.call(method, params, files=files)
            except ChannelError as error:
                if not sent:
                    raise
                left = [name for *_, name in calls[len(sent) :]]
                raise ChannelError(
                    f"Sent {', '.join(sent)} to Telegram, then: {error}. Not sent: "
                    f"{', '.join(left)}. Sending again would repeat what went out.",
                    permanent=True,
                ) from error
            message_id = result.get("message_id") if isinstance(result, dict) else None
            if not _is_id(message_id):
                raise ChannelError(
                    f"Telegram accepted {method} but its answer has no message_id.",
                    permanent=True,
                )
            first_id = first_id or provider_id(chat_id, message_id)
            sent.append(label)
        return SendResult(provider_message_id=first_id)


# --- Helpers ---------------------------------------------------------------------------------


def _is_id(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _load_update(raw: bytes) -> dict[str, Any]:
    try:
        update = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ChannelError(f"The Telegram update is not JSON: {error}", permanent=True) from None
    if not isinstance(update, dict):
        raise ChannelError("The Telegram update is not a JSON object.", permanent=True)
    return update


def _text_of(message: dict[str, Any]) -> str:
    lines = []
    for key in ("text", "caption"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            lines.append(value.strip())
            break
    venue, location, contact = (message.get(key) for key in ("venue", "location", "contact"))
    if isinstance(venue, dict):
        place = ", ".join(
            str(venue[key]) for key in ("title", "address") if isinstance(venue.get(key), str)
        )
        lines.append(f"Venue: {place}{_coordinates(venue.get('location'))}")
    elif isinstance(location, dict):
        lines.append(f"Location:{_coordinates(location)}")
    if isinstance(contact, dict):
        name = display_name(contact)
        phone = contact.get("phone_number") if isinstance(contact.get("phone_number"), str) else ""
        lines.append("Contact: " + ", ".join(part for part in (name, phone) if part))
    return "\n".join(lines)


def _coordinates(location: Any) -> str:
    if not isinstance(location, dict):
        return ""
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if isinstance(latitude, int | float) and isinstance(longitude, int | float):
        return f" {latitude}, {longitude}"
    return ""


def _media_of(message: dict[str, Any]) -> list[Media]:
    message_id = message.get("message_id")
    found: list[Media] = []
    photo = message.get("photo")
    if isinstance(photo, list):
        # Sizes come smallest first; the last is the original.
        sizes = [item for item in photo if isinstance(item, dict) and item.get("file_id")]
        if sizes:
            found.append(_media(sizes[-1], f"photo-{message_id}", "image/jpeg"))
    defaults = {
        "document": (f"document-{message_id}", "application/octet-stream"),
        "voice": (f"voice-{message_id}", "audio/ogg"),
        "audio": (f"audio-{message_id}", "audio/mpeg"),
        "video": (f"video-{message_id}", "video/mp4"),
        "video_note": (f"video-note-{message_id}", "video/mp4"),
    }
    for key, (stem, content_type) in defaults.items():
        item = message.get(key)
        if isinstance(item, dict) and isinstance(item.get("file_id"), str) and item["file_id"]:
            found.append(_media(item, stem, content_type))
    return found


def _media(item: dict[str, Any], stem: str, default_type: str) -> Media:
    content_type = item.get("mime_type")
    if not isinstance(content_type, str) or "/" not in content_type:
        content_type = default_type
    name = item.get("file_name")
    if not isinstance(name, str) or not name.strip():
        extension = (
            ".ogg" if content_type == "audio/ogg" else mimetypes.guess_extension(content_type)
        )
        name = stem + (extension or "")
    size = item.get("file_size")
    return Media(
        file_id=str(item["file_id"]),
        name=name.strip(),
        content_type=content_type,
        size=size if _is_id(size) else None,
    )


def _too_large_note(name: str, size: int | None, limit: int) -> str:
    sized = f" ({format_size(size)})" if size else ""
    return f"[{name}{sized} was not downloaded: larger than the {format_size(limit)} limit.]"


def _chat_id(address: str) -> int | str:
    """Numeric chat ids go as numbers; an @channel name stays a string."""
    digits = address[1:] if address.startswith("-") else address
    return int(address) if digits.isdigit() else address


def _file_method(attachment: OutboundAttachment) -> tuple[str, str]:
    if attachment.content_type in PHOTO_TYPES and len(attachment.content) <= MAX_PHOTO_BYTES:
        return "sendPhoto", "photo"
    return "sendDocument", "document"


def _check_sendable(text: str, attachments: tuple[OutboundAttachment, ...]) -> None:
    """Refuse, before any request, what Telegram would refuse."""
    if not text and not attachments:
        raise ChannelError("The message has no text and no files.", permanent=True)
    if len(text) > MAX_TEXT_CHARACTERS:
        raise ChannelError(
            f"The message has {len(text)} characters; Telegram takes at most "
            f"{MAX_TEXT_CHARACTERS}.",
            permanent=True,
        )
    too_big = [item.name for item in attachments if len(item.content) > MAX_DOCUMENT_BYTES]
    if too_big:
        raise ChannelError(
            f"Telegram takes files up to {format_size(MAX_DOCUMENT_BYTES)}: "
            f"{', '.join(too_big)} is larger.",
            permanent=True,
        )
