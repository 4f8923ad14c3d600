"""Reading WhatsApp Cloud API notifications: the envelope, the delivery key, and what each
message type says, as plain data. No network and no database here; the adapter downloads
the media these records point at.

Envelope: ``{"object": "whatsapp_business_account", "entry": [{"id": <WABA id>, "changes":
[{"field": "messages", "value": {"metadata": {"phone_number_id", ...}, "contacts": [...],
"messages": [...] | "statuses": [...] | "errors": [...]}}]}]}``. One post can hold several
entries, changes, messages and statuses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

WHATSAPP_OBJECT = "whatsapp_business_account"
MESSAGES_FIELD = "messages"
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
# Meta's delivery statuses, as the pipeline names them. "played" is a voice message listened
# to: as far as a delivery report goes, read.
DELIVERY_STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "played": "read",
    "failed": "failed",
}
# Longer reaction targets are cut; the agent needs a reminder, not the whole message.
REACTION_EXCERPT_LENGTH = 80


class PayloadError(ValueError):
    """The body is not a WhatsApp notification we can read."""


@dataclass(frozen=True)
class Change:
    """One ``entry[].changes[]`` item."""

    field: str
    phone_number_id: str
    # wa_id -> the profile name WhatsApp shows for the sender.
    profile_names: Mapping[str, str]
    messages: tuple[Mapping[str, Any], ...]
    statuses: tuple[Mapping[str, Any], ...]
    errors: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Notification:
    changes: tuple[Change, ...]

    def delivery_key(self, body: bytes) -> str:
        """The InboundEvent external id: what makes a redelivery recognisable.

        Built from what the post is about rather than its bytes: a message is ``m:<wamid>``
        and a status ``s:<wamid>:<status>`` (one message's sent, delivered and read are
        three separate facts). A post about one thing is keyed by it, so the admin can find
        it by wamid; a post about several by a digest of their sorted keys, so the same
        messages posted again in another order or with other envelope fields are still
        dropped as a repeat. A post about nothing we key (only errors, another field) falls
        back to a digest of the body."""
        keys = sorted(
            {f"m:{message['id']}" for change in self.changes for message in change.messages}
            | {
                f"s:{status['id']}:{status['status']}"
                for change in self.changes
                for status in change.statuses
            }
        )
        if len(keys) == 1:
            return keys[0]
        if keys:
            digest = hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()
            return f"batch:{digest}"
        return f"body:{hashlib.sha256(body).hexdigest()}"

    @property
    def phone_number_ids(self) -> frozenset[str]:
        return frozenset(
            change.phone_number_id for change in self.changes if change.phone_number_id
        )


def _list_of_objects(value: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PayloadError(f"{where} is not a list of objects.")
    return tuple(value)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def read_notification(body: bytes) -> Notification:
    """The notification in ``body``; PayloadError when it is not JSON, not a WhatsApp
    notification, or shaped so that its messages and statuses cannot be told apart (an
    item without an id). Fields we do not use are not checked: Meta adds them freely."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise PayloadError(f"Not JSON: {error}") from None
    if not isinstance(data, dict):
        raise PayloadError("Not a JSON object.")
    if data.get("object") != WHATSAPP_OBJECT:
        raise PayloadError(f"Not a WhatsApp notification (object {data.get('object')!r}).")
    changes = []
    for entry in _list_of_objects(data.get("entry"), "entry"):
        for change in _list_of_objects(entry.get("changes"), "entry[].changes"):
            value = change.get("value")
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise PayloadError("changes[].value is not an object.")
            metadata = value.get("metadata")
            metadata = metadata if isinstance(metadata, dict) else {}
            messages = _list_of_objects(value.get("messages"), "value.messages")
            statuses = _list_of_objects(value.get("statuses"), "value.statuses")
            if not all(_text(item.get("id")) for item in messages):
                raise PayloadError("A message has no id.")
            if not all(_text(item.get("id")) and _text(item.get("status")) for item in statuses):
                raise PayloadError("A status has no id or no status.")
            profile_names = {}
            for contact in _list_of_objects(value.get("contacts"), "value.contacts"):
                profile = contact.get("profile")
                name = _text(profile.get("name")) if isinstance(profile, dict) else ""
                wa_id = _text(contact.get("wa_id"))
                if wa_id and name:
                    profile_names[wa_id] = name
            changes.append(
                Change(
                    field=_text(change.get("field")),
                    phone_number_id=_text(metadata.get("phone_number_id")),
                    profile_names=profile_names,
                    messages=messages,
                    statuses=statuses,
                    errors=_list_of_objects(value.get("errors"), "value.errors"),
                )
            )
    return Notification(changes=tuple(changes))


def timestamp(value: Any) -> datetime | None:
    """A WhatsApp timestamp (Unix seconds, sent as a string) in UTC; None when unreadable."""
    try:
        seconds = int(str(value).strip())
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# --- Messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaReference:
    """An inbound file: the Graph media id to download and what the webhook says about it."""

    kind: str  # image, video, audio, document, sticker
    media_id: str
    mime_type: str
    sha256: str
    filename: str = ""
    voice: bool = False


@dataclass(frozen=True)
class MessageContent:
    """What one inbound message says, ready to become an InboundMessage."""

    text: str
    media: MediaReference | None = None
    # wamids this message points at (the message it replies to or reacts to).
    references: tuple[str, ...] = ()
    # Set for messages that must not count as the customer writing (see describe_message).
    automated_reason: str = ""
    # The wamid a reaction is about, so the adapter can quote our message.
    reacted_to: str = ""
    emoji: str = ""


def _error_summary(errors: Any) -> str:
    parts = []
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        text = _text(error.get("message")) or _text(error.get("title"))
        data = error.get("error_data")
        details = _text(data.get("details")) if isinstance(data, dict) else ""
        if details and details != text:
            text = f"{text}: {details}" if text else details
        code = error.get("code")
        parts.append(f"{text} (code {code})" if code is not None else text)
    return "; ".join(part for part in parts if part)


def map_link(latitude: Any, longitude: Any) -> str:
    """An OpenStreetMap link with a marker: neutral, free, and needs no API key."""
    lat, lon = f"{float(latitude):.6f}", f"{float(longitude):.6f}"
    query = urlencode({"mlat": lat, "mlon": lon})
    return f"https://www.openstreetmap.org/?{query}#map=17/{lat}/{lon}"


def _location_text(location: Mapping[str, Any]) -> str:
    lines = ["📍 Shared a location"]
    for key in ("name", "address"):
        if _text(location.get(key)):
            lines.append(_text(location.get(key)))
    try:
        lines.append(map_link(location.get("latitude"), location.get("longitude")))
    except (TypeError, ValueError):
        lines.append("(no coordinates)")
    if _text(location.get("url")):
        lines.append(_text(location.get("url")))
    return "\n".join(lines)


def _contact_lines(contact: Mapping[str, Any]) -> list[str]:
    name = contact.get("name")
    formatted = _text(name.get("formatted_name")) if isinstance(name, dict) else ""
    if not formatted and isinstance(name, dict):
        formatted = " ".join(
            _text(name.get(part)) for part in ("first_name", "last_name") if _text(name.get(part))
        )
    lines = [f"👤 {formatted or 'Unnamed contact'}"]
    for phone in contact.get("phones") or []:
        if isinstance(phone, dict) and _text(phone.get("phone")):
            kind = _text(phone.get("type"))
            lines.append(f"Phone: {_text(phone.get('phone'))}" + (f" ({kind})" if kind else ""))
    for address in contact.get("emails") or []:
        if isinstance(address, dict) and _text(address.get("email")):
            lines.append(f"Email: {_text(address.get('email'))}")
    org = contact.get("org")
    if isinstance(org, dict) and _text(org.get("company")):
        lines.append(f"Company: {_text(org.get('company'))}")
    for url in contact.get("urls") or []:
        if isinstance(url, dict) and _text(url.get("url")):
            lines.append(f"Web: {_text(url.get('url'))}")
    return lines


def _contacts_text(contacts: Any) -> str:
    cards = [
        "\n".join(_contact_lines(contact))
        for contact in (contacts if isinstance(contacts, list) else [])
        if isinstance(contact, dict)
    ]
    heading = "Shared a contact" if len(cards) == 1 else f"Shared {len(cards)} contacts"
    return "\n\n".join([heading, *cards])


def _order_text(order: Mapping[str, Any]) -> str:
    lines = ["🛒 Sent an order from the catalog"]
    for item in order.get("product_items") or []:
        if not isinstance(item, dict):
            continue
        line = f"{item.get('quantity', '?')} × {_text(item.get('product_retailer_id')) or '?'}"
        if item.get("item_price") is not None:
            line += f" at {item.get('item_price')} {_text(item.get('currency'))}".rstrip()
        lines.append(line)
    if _text(order.get("text")):
        lines.append(_text(order.get("text")))
    return "\n".join(lines)


def _interactive_text(interactive: Mapping[str, Any]) -> str:
    kind = _text(interactive.get("type"))
    reply = interactive.get(kind)
    reply = reply if isinstance(reply, dict) else {}
    if kind in ("button_reply", "list_reply"):
        title = _text(reply.get("title"))
        description = _text(reply.get("description"))
        return "\n".join(part for part in (title, description) if part)
    if kind == "nfm_reply":
        return _text(reply.get("body")) or f"Submitted the form {_text(reply.get('name'))}".strip()
    return ""


def _referral_note(referral: Any) -> str:
    if not isinstance(referral, dict):
        return ""
    parts = [_text(referral.get("headline")), _text(referral.get("source_url"))]
    described = " – ".join(part for part in parts if part)
    return f"(Came from an ad{': ' + described if described else ''})"


def unsupported_text(kind: str, errors: Any = None) -> str:
    """What an agent sees for a message we cannot show: the customer did write something,
    so it is stored and says so, rather than disappearing."""
    summary = _error_summary(errors)
    text = (
        f"[The customer sent a WhatsApp message of type {kind or 'unknown'!r}, "
        "which cannot be shown here"
    )
    text += f": {summary}.]" if summary else ".]"
    return text + " Ask them to send it again as text or a photo if it matters."


def describe_message(message: Mapping[str, Any]) -> MessageContent:
    """What ``message`` (one ``messages[]`` item) says.

    Every type becomes text an agent can read; files become a MediaReference. Reactions are
    automated: a thumbs-up is worth recording on the ticket it is about, but it must not
    reopen a solved ticket, open a new one, or be answered (the pipeline records automated
    messages on their ticket only; see ``tickets.services.record_automated_message``). A
    removed reaction is recorded the same way. Types we do not know become a message saying
    so (``unsupported_text``)."""
    kind = _text(message.get("type"))
    body = message.get(kind)
    body = body if isinstance(body, dict) else {}
    context = message.get("context")
    replied_to = _text(context.get("id")) if isinstance(context, dict) else ""
    references = (replied_to,) if replied_to else ()
    referral = _referral_note(message.get("referral"))

    def content(text: str, **extra: Any) -> MessageContent:
        if referral:
            text = f"{text}\n\n{referral}" if text else referral
        return MessageContent(text=text, references=references, **extra)

    if kind == "text":
        return content(_text(body.get("body")))
    if kind in MEDIA_TYPES:
        media_id = _text(body.get("id"))
        if not media_id:
            return content(unsupported_text(kind, [{"message": "the file has no media id"}]))
        media = MediaReference(
            kind=kind,
            media_id=media_id,
            mime_type=_text(body.get("mime_type")),
            sha256=_text(body.get("sha256")),
            filename=_text(body.get("filename")),
            voice=body.get("voice") is True,
        )
        return content(_text(body.get("caption")), media=media)
    if kind == "location":
        return content(_location_text(body))
    if kind == "contacts":
        return content(_contacts_text(message.get("contacts")))
    if kind == "button":
        return content(_text(body.get("text")) or _text(body.get("payload")))
    if kind == "interactive":
        text = _interactive_text(body)
        return content(text or unsupported_text(f"interactive {_text(body.get('type'))}".strip()))
    if kind == "order":
        return content(_order_text(body))
    if kind == "reaction":
        target = _text(body.get("message_id"))
        emoji = _text(body.get("emoji"))
        return MessageContent(
            text="",  # worded by the adapter, which can quote the message reacted to
            references=(target,) if target else references,
            automated_reason="reaction",
            reacted_to=target,
            emoji=emoji,
        )
    if kind == "system":
        text = _text(body.get("body")) or f"WhatsApp system notice ({_text(body.get('type'))})"
        return MessageContent(text=text, references=references, automated_reason="system notice")
    return content(unsupported_text(kind, message.get("errors") or body.get("errors")))


def reaction_text(emoji: str, quoted: str) -> str:
    """ "Reacted 👍 to “It ships today.”" — or "Removed a reaction" when ``emoji`` is empty
    (WhatsApp sends a reaction without emoji when the customer takes one back)."""
    target = "a message"
    if quoted:
        excerpt = " ".join(quoted.split())
        if len(excerpt) > REACTION_EXCERPT_LENGTH:
            excerpt = excerpt[: REACTION_EXCERPT_LENGTH - 1].rstrip() + "…"
        target = f"“{excerpt}”"
    if not emoji:
        return f"Removed a reaction from {target}"
    return f"Reacted {emoji} to {target}"


# --- Statuses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusReport:
    provider_message_id: str
    status: str  # a pipeline delivery status
    error: str = ""
    occurred_at: datetime | None = None


def read_status(status: Mapping[str, Any]) -> StatusReport | None:
    """A ``statuses[]`` item as a delivery report; None for a status the pipeline has no
    place for (Meta adds some, such as "deleted" or "warning")."""
    mapped = DELIVERY_STATUSES.get(_text(status.get("status")).lower())
    if mapped is None:
        return None
    error = _error_summary(status.get("errors")) if mapped == "failed" else ""
    return StatusReport(
        provider_message_id=_text(status.get("id")),
        status=mapped,
        error=error or ("WhatsApp reported the message as failed." if mapped == "failed" else ""),
        occurred_at=timestamp(status.get("timestamp")),
    )
