"""Files in and out of WhatsApp through the Graph media endpoints.

In: a webhook names a media id; ``GET /{media-id}`` answers a short-lived URL, which is
fetched with the same bearer token. The bytes are checked against the sha256 the webhook
gave (base64 there, hex at the media endpoint: compared as bytes) and against the size
limit before and while downloading.

Out: ``POST /{phone-number-id}/media`` (multipart: ``file``, ``type``,
``messaging_product``) answers the id a message then refers to. Only the types and sizes
WhatsApp documents are sent; anything else is refused before any request, saying what
WhatsApp takes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import mimetypes
from dataclasses import dataclass

from channels_inbox.adapters.base import ChannelError
from channels_inbox.adapters.transport import FilePart, ResponseTooLarge
from channels_inbox.meta.graph import GraphClient, GraphError
from channels_inbox.whatsapp.payloads import MediaReference
from tickets.services import InboundAttachment, OutboundAttachment

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# WhatsApp's media types for sending, by message type, with its size limit for each.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
VIDEO_TYPES = frozenset({"video/mp4", "video/3gpp"})
AUDIO_TYPES = frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"})
DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
SEND_LIMITS = {"image": 5 * MB, "video": 16 * MB, "audio": 16 * MB, "document": 100 * MB}
ACCEPTED_DESCRIPTION = (
    "WhatsApp takes images (JPEG, PNG, up to 5 MB), videos (MP4, 3GP, up to 16 MB), audio "
    "(AAC, AMR, MP3, M4A, OGG, up to 16 MB) and documents (PDF, TXT, Word, Excel, "
    "PowerPoint, up to 100 MB)"
)
# The message types that show a caption under the file.
CAPTIONED_TYPES = frozenset({"image", "video", "document"})
MAX_CAPTION_LENGTH = 1024


class MediaRefusedError(Exception):
    """An inbound file that will never download or that we must not keep (gone, too large,
    not the bytes WhatsApp announced). Its message is shown on the ticket in place of the
    file; the customer's message itself is kept."""


# --- Inbound -------------------------------------------------------------------------------


def digest_bytes(value: str) -> bytes | None:
    """A sha256 as WhatsApp writes it, hex or base64, as the 32 bytes; None when it is
    neither."""
    text = value.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == hashlib.sha256().digest_size:
            return raw
    return None


# WhatsApp's own types, named the same on every machine (mimetypes reads the system's
# tables, which differ: audio/ogg is .oga on one and unknown on another).
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/ogg": ".ogg",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}


def _attachment_name(reference: MediaReference, content_type: str) -> str:
    if reference.filename:
        return reference.filename
    base_type = content_type.split(";", 1)[0].strip().lower()
    extension = EXTENSIONS.get(base_type) or mimetypes.guess_extension(base_type) or ""
    label = "voice-message" if reference.voice else reference.kind
    return f"{label}-{reference.media_id}{extension}"


def _inbound_error(error: GraphError, what: str) -> Exception:
    """A 429 or 5xx retries the whole event; a refused token stops it for an admin to fix
    (then ``reprocess_inbound``); anything else refuses this one file."""
    if error.transient:
        return ChannelError(
            f"Downloading {what} failed: {error.describe()}",
            permanent=False,
            retry_after=error.retry_after,
        )
    if error.code == 190 or error.http_status == 401:
        return ChannelError(
            f"The account's access_token was refused while downloading {what}: {error.describe()}",
            permanent=True,
        )
    return MediaRefusedError(f"WhatsApp would not hand it over: {error.describe()}.")


def _too_large(max_bytes: int, size: int | None = None) -> MediaRefusedError:
    described = f"It is {size} bytes" if size is not None else "It is larger than that"
    return MediaRefusedError(f"{described}, over the limit of {max_bytes} bytes.")


def download_media(
    client: GraphClient, reference: MediaReference, *, max_bytes: int
) -> InboundAttachment:
    """The file behind ``reference``. Raises MediaRefusedError for a file that cannot be
    kept, ChannelError for a failure of the whole event (transient: no answer, 429, 5xx; or
    a refused token)."""
    what = f"{reference.kind} {reference.media_id}"
    content = b""
    info: dict[str, object] = {}
    # The download URL expires after about five minutes: on 401/403/404 it is looked up
    # again, once.
    for attempt in (1, 2):
        try:
            info = client.get_json(reference.media_id)
        except GraphError as error:
            raise _inbound_error(error, what) from error
        url = info.get("url")
        if not isinstance(url, str) or not url:
            raise MediaRefusedError("WhatsApp's media lookup gave no download URL.")
        declared = str(info.get("file_size") or "").strip()
        if declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(max_bytes, int(declared))
        try:
            content = client.download(url, max_bytes=max_bytes)
            break
        except ResponseTooLarge as error:
            raise _too_large(max_bytes, error.size) from error
        except GraphError as error:
            if attempt == 1 and error.http_status in (401, 403, 404):
                continue
            raise _inbound_error(error, what) from error
    actual = hashlib.sha256(content).digest()
    for source, announced in (("webhook", reference.sha256), ("media lookup", info.get("sha256"))):
        if not isinstance(announced, str) or not announced.strip():
            continue
        if digest_bytes(announced) != actual:
            logger.warning(
                "WhatsApp %s does not match the sha256 of the %s (%s, got %s)",
                what,
                source,
                announced,
                actual.hex(),
            )
            raise MediaRefusedError(
                f"Its content does not match the sha256 WhatsApp announced in the {source} "
                f"(expected {announced.strip()}, got {actual.hex()})."
            )
    content_type = reference.mime_type or str(info.get("mime_type") or "")
    content_type = content_type or "application/octet-stream"
    return InboundAttachment(
        name=_attachment_name(reference, content_type),
        content_type=content_type,
        content=content,
    )


def refusal_note(reference: MediaReference, reason: str) -> str:
    """What the message says in place of a file it could not keep."""
    noun = "voice message" if reference.voice else reference.kind
    name = f" {reference.filename}" if reference.filename else ""
    return (
        f"[The {noun}{name} could not be stored. {reason} Ask the customer to send it again "
        "if it is needed.]"
    )


# --- Outbound ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundMedia:
    kind: str  # image, video, audio, document
    attachment: OutboundAttachment
    content_type: str


def outbound_media(attachment: OutboundAttachment) -> OutboundMedia:
    """The WhatsApp message type for ``attachment``; a permanent ChannelError when WhatsApp
    does not take its type or size."""
    content_type = attachment.content_type.split(";", 1)[0].strip().lower()
    if not content_type or content_type == "application/octet-stream":
        guessed, _encoding = mimetypes.guess_type(attachment.name)
        content_type = (guessed or content_type).lower()
    kind = (
        "image"
        if content_type in IMAGE_TYPES
        else "video"
        if content_type in VIDEO_TYPES
        else "audio"
        if content_type in AUDIO_TYPES
        else "document"
        if content_type in DOCUMENT_TYPES
        else ""
    )
    if not kind:
        raise ChannelError(
            f"WhatsApp cannot carry {attachment.name} ({content_type or 'unknown type'}): "
            f"{ACCEPTED_DESCRIPTION}.",
            permanent=True,
        )
    if len(attachment.content) > SEND_LIMITS[kind]:
        raise ChannelError(
            f"{attachment.name} is {len(attachment.content)} bytes, over WhatsApp's limit "
            f"for a {kind} ({SEND_LIMITS[kind] // MB} MB).",
            permanent=True,
        )
    return OutboundMedia(kind=kind, attachment=attachment, content_type=content_type)


def upload_media(client: GraphClient, phone_number_id: str, media: OutboundMedia) -> str:
    """Upload one file; the media id to send it by. GraphError on failure."""
    answer = client.post_multipart(
        f"{phone_number_id}/media",
        [("messaging_product", "whatsapp"), ("type", media.content_type)],
        [
            FilePart(
                field="file",
                filename=media.attachment.name,
                content_type=media.content_type,
                content=media.attachment.content,
            )
        ],
    )
    media_id = answer.get("id")
    if not isinstance(media_id, str) or not media_id:
        raise GraphError("The media upload answered without an id.", http_status=200)
    return media_id
