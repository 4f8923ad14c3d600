"""Reading Messenger and Instagram notifications: the envelope, the delivery key, and what
each event says, as plain data. No network and no database here; the adapter downloads the
files these records point at and looks up what the events refer to.

Envelope: ``{"object": "page" | "instagram", "entry": [{"id": <Page id or Instagram
account id>, "time": ..., "messaging": [event, ...], "standby": [event, ...]}]}``. An event
is ``{"sender": {"id"}, "recipient": {"id"}, "timestamp", <one of message | reaction |
postback | delivery | read | ...>}``; ``standby`` holds the events of conversations another
app of the Page controls (Handover Protocol), which are still the customer's messages. One
post can hold several entries and events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

# The event types an adapter reads; anything else (referral, optin, account linking,
# handover notices, edits) is left out with the reason.
MESSAGE, REACTION, POSTBACK, DELIVERY, READ = "message", "reaction", "postback", "delivery", "read"
EVENT_TYPES = (MESSAGE, REACTION, POSTBACK, DELIVERY, READ)
FILE_TYPES = ("image", "video", "audio", "file")
# Meta's named reactions, for the rare reaction that comes without its emoji.
REACTION_EMOJI = {
    "love": "❤️",
    "like": "👍",
    "smile": "😆",
    "wow": "😮",
    "sad": "😢",
    "angry": "😠",
    "dislike": "👎",
}
# Longer quotes are cut; the agent needs a reminder, not the whole message.
QUOTE_LENGTH = 80
# A Unix time above this is in milliseconds (Messenger's), below in seconds: 10^11 seconds
# is the year 5138, 10^11 milliseconds is 1973.
MILLISECONDS_FROM = 10**11


class PayloadError(ValueError):
    """The body is not a notification of the product we can read."""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _id(value: Any) -> str:
    """An id as Meta writes it: a string, or a number in older payloads."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return _text(value)


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def timestamp(value: Any) -> datetime | None:
    """A Meta timestamp (Unix milliseconds, or seconds in some Instagram payloads) in UTC;
    None when unreadable."""
    try:
        number = int(str(value).strip())
        seconds = number / 1000 if number >= MILLISECONDS_FROM else number
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# --- The envelope --------------------------------------------------------------------------


def event_type(event: Mapping[str, Any]) -> str:
    """Which of EVENT_TYPES ``event`` is, else the name of its first other field."""
    for name in EVENT_TYPES:
        if name in event:
            return name
    others = [key for key in event if key not in ("sender", "recipient", "timestamp")]
    return others[0] if others else "empty"


def sender_id(event: Mapping[str, Any]) -> str:
    return _id(_object(event.get("sender")).get("id"))


def recipient_id(event: Mapping[str, Any]) -> str:
    return _id(_object(event.get("recipient")).get("id"))


def is_echo(event: Mapping[str, Any]) -> bool:
    return _object(event.get(MESSAGE)).get("is_echo") is True


def customer_id(event: Mapping[str, Any]) -> str:
    """The customer's PSID or IGSID: the recipient of an echo, the sender of anything else."""
    return recipient_id(event) if is_echo(event) else sender_id(event)


def event_key(event: Mapping[str, Any]) -> str:
    """What makes one event recognisable when Meta posts it again: a message by its mid (an
    echo too: it has its own), a deletion, reaction or read receipt by who, what and when.
    "" for events nothing is recorded from."""
    kind = event_type(event)
    body = _object(event.get(kind))
    who = sender_id(event)
    when = _id(event.get("timestamp"))
    if kind == MESSAGE:
        mid = _text(body.get("mid"))
        return f"deleted:{mid}" if body.get("is_deleted") is True else f"m:{mid}"
    if kind == REACTION:
        return (
            f"reaction:{who}:{_text(body.get('mid'))}:{_text(body.get('action'))}:"
            f"{_text(body.get('emoji')) or _text(body.get('reaction'))}:{when}"
        )
    if kind == POSTBACK:
        mid = _text(body.get("mid"))
        return f"postback:{mid}" if mid else f"postback:{who}:{when}"
    if kind in (DELIVERY, READ):
        mark = _id(body.get("watermark")) or _text(body.get("mid"))
        if not mark:
            mids = body.get("mids")
            mark = ",".join(sorted(_text(mid) for mid in mids)) if isinstance(mids, list) else ""
        return f"{kind}:{who}:{mark or when}"
    return ""


@dataclass(frozen=True)
class Entry:
    """One ``entry[]`` item: the Page (Messenger) or Instagram account it is about, its
    events, and the fields of any other kind of change it holds (comments, mentions)."""

    id: str
    events: tuple[Mapping[str, Any], ...]
    other_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notification:
    entries: tuple[Entry, ...]

    def delivery_key(self, body: bytes) -> str:
        """The InboundEvent external id: a post about one event is keyed by it (so the
        admin finds a message by its mid); a post about several by a digest of their sorted
        keys, so the same events posted again in another order or with other envelope fields
        are still a repeat; a post with no keyed event by a digest of the body."""
        keys = sorted(
            {
                f"{entry.id}/{key}"
                for entry in self.entries
                for event in entry.events
                if (key := event_key(event))
            }
        )
        if len(keys) == 1:
            return keys[0].split("/", 1)[1]
        if keys:
            return f"batch:{hashlib.sha256(chr(10).join(keys).encode('utf-8')).hexdigest()}"
        return f"body:{hashlib.sha256(body).hexdigest()}"

    @property
    def account_ids(self) -> frozenset[str]:
        """The Pages or Instagram accounts the post is about."""
        return frozenset(entry.id for entry in self.entries if entry.id)


def _list_of_objects(value: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PayloadError(f"{where} is not a list of objects.")
    return tuple(value)


def _check_event(event: Mapping[str, Any]) -> None:
    kind = event_type(event)
    if kind not in EVENT_TYPES:
        return
    if not isinstance(event.get(kind), dict):
        raise PayloadError(f"A {kind} event's {kind} is not an object.")
    if not sender_id(event):
        raise PayloadError(f"A {kind} event has no sender id.")
    if kind == MESSAGE and not _text(event[kind].get("mid")):
        raise PayloadError("A message has no mid.")
    if kind == MESSAGE and is_echo(event) and not recipient_id(event):
        raise PayloadError("An echo has no recipient id.")


def read_notification(body: bytes, webhook_object: str) -> Notification:
    """The notification in ``body``; PayloadError when it is not JSON, not a notification
    with ``object`` ``webhook_object``, or shaped so that its events cannot be told apart
    (a message without a mid, an event without a sender). Fields we do not use are not
    checked: Meta adds them freely."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise PayloadError(f"Not JSON: {error}") from None
    if not isinstance(data, dict):
        raise PayloadError("Not a JSON object.")
    if data.get("object") != webhook_object:
        raise PayloadError(
            f"Not a notification with object {webhook_object!r} "
            f"(object {str(data.get('object'))[:40]!r})."
        )
    entries = []
    for entry in _list_of_objects(data.get("entry"), "entry"):
        events = _list_of_objects(entry.get("messaging"), "entry[].messaging") + _list_of_objects(
            entry.get("standby"), "entry[].standby"
        )
        for event in events:
            _check_event(event)
        changes = _list_of_objects(entry.get("changes"), "entry[].changes")
        entries.append(
            Entry(
                id=_id(entry.get("id")),
                events=events,
                other_fields=tuple(_text(change.get("field")) or "unnamed" for change in changes),
            )
        )
    return Notification(entries=tuple(entries))


# --- Messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileReference:
    """An attachment to download: its type and the signed CDN link Meta gave for it."""

    kind: str  # image, video, audio, file
    url: str
    position: int  # 1-based among the message's attachments, for names and notes
    sticker: bool = False


@dataclass(frozen=True)
class MessageContent:
    """What one message says, ready to become an InboundMessage."""

    text: str
    files: tuple[FileReference, ...] = ()
    # mids this message points at (the message it replies to).
    references: tuple[str, ...] = ()


def map_link(latitude: Any, longitude: Any) -> str:
    """An OpenStreetMap link with a marker: neutral, free, and needs no API key."""
    lat, lon = f"{float(latitude):.6f}", f"{float(longitude):.6f}"
    return (
        f"https://www.openstreetmap.org/?{urlencode({'mlat': lat, 'mlon': lon})}#map=17/{lat}/{lon}"
    )


def _template_text(payload: Mapping[str, Any]) -> str:
    """A template (usually in an echo: buttons or cards the Page sent) as its visible words."""
    lines = [_text(payload.get("text"))]
    for element in payload.get("elements") or []:
        if isinstance(element, dict):
            lines.append(
                " – ".join(
                    part
                    for part in (_text(element.get("title")), _text(element.get("subtitle")))
                    if part
                )
            )
    for button in payload.get("buttons") or []:
        if isinstance(button, dict) and _text(button.get("title")):
            lines.append(f"[{_text(button.get('title'))}]")
    shown = "\n".join(line for line in lines if line)
    return shown or "[A template message.]"


def unsupported_text(label: str, kind: str) -> str:
    """What an agent sees for something we cannot show: the customer did send something, so
    it is stored and says so, rather than disappearing."""
    return (
        f"[The customer sent {label} content of type {kind or 'unknown'!r}, which cannot be "
        "shown here.] Ask them to send it again as text or a photo if it matters."
    )


def _attachment_line(label: str, kind: str, payload: Mapping[str, Any]) -> str:
    """A shared link, post, story, reel or location as one readable line."""
    url = _text(payload.get("url"))
    title = _text(payload.get("title"))
    if kind == "story_mention":
        return (
            f"📣 Mentioned you in their story: {url}" if url else "📣 Mentioned you in their story"
        )
    if kind == "share":
        return f"🔗 Shared a post: {url}" if url else "🔗 Shared a post"
    if kind in ("ig_reel", "reel"):
        shown = " ".join(part for part in (title, url) if part)
        return f"🎬 Shared a reel: {shown}" if shown else "🎬 Shared a reel"
    if kind == "fallback":
        shown = " ".join(part for part in (title, url) if part)
        return f"🔗 {shown}" if shown else "🔗 Shared a link"
    if kind == "template":
        return _template_text(payload)
    if kind == "location":
        coordinates = _object(payload.get("coordinates"))
        try:
            link = map_link(coordinates.get("lat"), coordinates.get("long"))
        except (TypeError, ValueError):
            link = "(no coordinates)"
        return "\n".join(part for part in ("📍 Shared a location", title, link) if part)
    return unsupported_text(label, kind)


def describe_message(message: Mapping[str, Any], label: str) -> MessageContent:
    """What ``message`` (an event's ``message``, sent by the customer or echoed) says.

    Text as written (a quick reply's text is the title of the button tapped); images,
    videos, audio and files become FileReferences; shared posts, reels, links, story
    mentions and locations become lines of text with their link; a reply to one of our
    messages points at its mid; a reply to an Instagram story names the story's link.
    Content we do not know becomes a line saying so (``unsupported_text``)."""
    lines = [_text(message.get("text"))]
    quick_reply = _object(message.get("quick_reply"))
    if not lines[0] and _text(quick_reply.get("payload")):
        lines[0] = _text(quick_reply.get("payload"))
    files: list[FileReference] = []
    attachments = message.get("attachments")
    for position, attachment in enumerate(attachments if isinstance(attachments, list) else [], 1):
        if not isinstance(attachment, dict):
            continue
        kind = _text(attachment.get("type"))
        payload = _object(attachment.get("payload"))
        url = _text(payload.get("url"))
        if kind in FILE_TYPES and url:
            sticker = payload.get("sticker_id") is not None
            files.append(FileReference(kind=kind, url=url, position=position, sticker=sticker))
        else:
            lines.append(_attachment_line(label, kind, payload))
    if message.get("is_unsupported") is True:
        lines.append(unsupported_text(label, "unsupported"))
    reply_to = _object(message.get("reply_to"))
    story = _object(reply_to.get("story"))
    if story:
        url = _text(story.get("url"))
        lines.append(f"(Replied to your story: {url})" if url else "(Replied to your story)")
    replied_to = _text(reply_to.get("mid"))
    return MessageContent(
        text="\n\n".join(line for line in lines if line),
        files=tuple(files),
        references=(replied_to,) if replied_to else (),
    )


def _quote(quoted: str) -> str:
    if not quoted:
        return "a message"
    excerpt = " ".join(quoted.split())
    if len(excerpt) > QUOTE_LENGTH:
        excerpt = excerpt[: QUOTE_LENGTH - 1].rstrip() + "…"
    return f"“{excerpt}”"


def reaction_text(reaction: Mapping[str, Any], quoted: str) -> str:
    """ "Reacted ❤️ to “It ships today.”", or "Removed a reaction from …" for an unreact."""
    if _text(reaction.get("action")) == "unreact":
        return f"Removed a reaction from {_quote(quoted)}"
    named = _text(reaction.get("reaction"))
    emoji = _text(reaction.get("emoji")) or REACTION_EMOJI.get(named, named or "a reaction")
    return f"Reacted {emoji} to {_quote(quoted)}"


def deletion_text(quoted: str) -> str:
    return f"Unsent {_quote(quoted)}"


def postback_text(postback: Mapping[str, Any]) -> str:
    """The title of the button the customer tapped (its payload when it has none)."""
    return _text(postback.get("title")) or _text(postback.get("payload")) or "[Tapped a button.]"


# --- Delivery and read receipts ------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """A delivery or read receipt: everything we sent up to ``up_to`` reached ``status``,
    and so did the messages named in ``mids``."""

    status: str  # "delivered" or "read"
    mids: tuple[str, ...]
    up_to: datetime | None


def read_receipt(event: Mapping[str, Any]) -> Receipt:
    """A ``delivery`` (Messenger: ``mids`` when known, and a ``watermark``) or ``read``
    (Messenger: a ``watermark``; Instagram: the ``mid`` seen, everything before it having
    been on screen when the event happened) event as a Receipt."""
    kind = event_type(event)
    body = _object(event.get(kind))
    mids = [_text(mid) for mid in body.get("mids") or [] if _text(mid)]
    if _text(body.get("mid")):
        mids.append(_text(body.get("mid")))
    up_to = timestamp(body.get("watermark"))
    if up_to is None and _text(body.get("mid")):
        up_to = timestamp(event.get("timestamp"))
    return Receipt(
        status="delivered" if kind == DELIVERY else "read", mids=tuple(mids), up_to=up_to
    )
