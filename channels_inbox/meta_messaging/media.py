"""Files in and out of Messenger and Instagram.

In: an attachment's ``payload.url`` is a signed link to Meta's CDN that expires within days.
It is fetched at once, without our token (the link itself is the permission; the token must
never reach a CDN host), and never more than the attachment size limit is read.

Out: a file is uploaded with the message that carries it (``filedata`` in a multipart Send
API request), so it needs no public URL of ours. Only what the product takes is sent;
anything else is refused before any request, saying what it takes.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from channels_inbox.adapters import transport
from channels_inbox.adapters.base import ChannelError
from channels_inbox.adapters.transport import ResponseTooLarge, format_size
from channels_inbox.meta.graph import graph_timeout, retry_after_seconds
from channels_inbox.meta_messaging.payloads import FileReference
from channels_inbox.meta_messaging.products import Product
from tickets.services import InboundAttachment, OutboundAttachment

CDN = "Meta's file server"
# The usual types, named the same on every machine (mimetypes reads the system's tables).
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/ogg": ".ogg",
    "audio/wav": ".wav",
    "application/pdf": ".pdf",
}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
AUDIO_TYPES = frozenset(
    {"audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/aac", "audio/wav", "audio/x-wav", "audio/ogg"}
)


NOUNS = {"image": "an image", "video": "a video", "audio": "audio", "file": "a file"}


class FileRefusedError(Exception):
    """An inbound file that will never download or that we must not keep (gone, too large).
    Its message is shown on the ticket in place of the file; the message itself is kept."""


# --- Inbound -------------------------------------------------------------------------------


def _base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def file_name(reference: FileReference, content_type: str) -> str:
    """The name in the link when it has one with an extension (Messenger's file links end
    in the original name), else the attachment's type and position with an extension."""
    last = unquote(urlsplit(reference.url).path.rstrip("/").rsplit("/", 1)[-1])
    if "." in last.strip(".") and len(last) <= 200:
        return last
    base_type = _base_type(content_type)
    extension = EXTENSIONS.get(base_type) or mimetypes.guess_extension(base_type) or ""
    label = "sticker" if reference.sticker else reference.kind
    return f"{label}-{reference.position}{extension}"


def download_file(reference: FileReference, *, max_bytes: int) -> InboundAttachment:
    """The file behind ``reference``. FileRefusedError for a file that cannot be kept (too
    large, gone, a link that is not http(s)); a transient ChannelError when Meta's server
    does not answer or asks to wait, which retries the whole event."""
    try:
        answer = transport.request(
            reference.url, provider=CDN, timeout=graph_timeout(), max_bytes=max_bytes
        )
    except ResponseTooLarge as error:
        size = f"It is {format_size(error.size)}" if error.size else "It is larger than that"
        raise FileRefusedError(f"{size}, over the limit of {format_size(max_bytes)}.") from None
    except ChannelError as error:
        if error.permanent:
            raise FileRefusedError(str(error)) from error
        raise
    if answer.status == 429 or answer.status >= 500:
        raise ChannelError(
            f"Downloading the {reference.kind} failed: {CDN} answered HTTP {answer.status}.",
            permanent=False,
            retry_after=retry_after_seconds(answer.header("Retry-After")),
        )
    if not answer.ok:
        raise FileRefusedError(f"{CDN} answered HTTP {answer.status}: the link may have expired.")
    content_type = _base_type(answer.header("Content-Type"))
    if not content_type or content_type == "application/octet-stream":
        guessed, _encoding = mimetypes.guess_type(file_name(reference, ""))
        content_type = guessed or content_type or "application/octet-stream"
    return InboundAttachment(
        name=file_name(reference, content_type), content_type=content_type, content=answer.body
    )


def refusal_note(reference: FileReference, reason: str) -> str:
    """What the message says in place of a file it could not keep."""
    noun = "sticker" if reference.sticker else reference.kind
    return (
        f"[The {noun} could not be stored. {reason} Ask the customer to send it again if it "
        "is needed.]"
    )


# --- Outbound ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundFile:
    kind: str  # image, video, audio, file
    attachment: OutboundAttachment
    content_type: str


def outbound_file(attachment: OutboundAttachment, product: Product) -> OutboundFile:
    """The Send API attachment type for ``attachment``; a permanent ChannelError when the
    product does not take its type or size."""
    content_type = _base_type(attachment.content_type)
    if not content_type or content_type == "application/octet-stream":
        guessed, _encoding = mimetypes.guess_type(attachment.name)
        content_type = (guessed or content_type or "application/octet-stream").lower()
    kind = (
        "image"
        if content_type in IMAGE_TYPES
        else "video"
        if content_type in VIDEO_TYPES
        else "audio"
        if content_type in AUDIO_TYPES
        else "file"
    )
    limit = product.send_limits.get(kind)
    if limit is None or (kind == "file" and not product.sends_any_file):
        raise ChannelError(
            f"{product.label} cannot carry {attachment.name} ({content_type}): "
            f"{product.accepted_description}.",
            permanent=True,
        )
    if len(attachment.content) > limit:
        raise ChannelError(
            f"{attachment.name} is {len(attachment.content)} bytes, over {product.label}'s "
            f"limit of {format_size(limit)} for {NOUNS[kind]}.",
            permanent=True,
        )
    return OutboundFile(kind=kind, attachment=attachment, content_type=content_type)
