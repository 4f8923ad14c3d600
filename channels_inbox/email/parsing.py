"""Reading an inbound email: ``parse_email(raw) -> ParsedEmail``, pure and never raising.

Real mail is messy (mislabelled charsets, encoded words in the wrong places, truncated
multiparts), so every step falls back to something readable, and a message that cannot be
understood at all still comes back as a ParsedEmail that says so with the raw mail attached:
an inbound email is never an exception and never lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import mimetypes
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value

from tickets.html import sanitize_html

from .automation import BounceReport, automation_reason, find_bounce
from .charsets import decode_bytes, decode_undeclared, repair_header_bytes
from .headers import (
    decode_words,
    header_text,
    message_ids,
    normalize_message_id,
    parse_addresses,
    raw_header,
    raw_header_index,
    single_line,
)
from .htmltext import html_to_text
from .quotes import reply_text as extract_reply_text
from .subjects import normalize_subject, subject_ticket_number

__all__ = [
    "BounceReport",
    "ParsedAttachment",
    "ParsedEmail",
    "normalize_message_id",
    "normalize_subject",
    "parse_email",
    "subject_ticket_number",
]

# compat32 keeps header values as the raw text, which the decoders here read; the typed
# header objects of policy.default raise on some of the broken headers real mail carries.
PARSER_POLICY = policy.compat32
EML_POLICY = policy.compat32.clone(linesep="\r\n", max_line_length=0)
KNOWN_HEADERS = {
    "from", "to", "cc", "subject", "date", "message-id", "received", "return-path", "sender",
    "reply-to", "mime-version", "content-type", "delivered-to", "in-reply-to", "references",
    "x-mailer", "user-agent", "dkim-signature", "x-original-to",
}  # fmt: skip
USEFUL_HEADERS = (
    "return-path", "delivered-to", "x-original-to", "sender", "x-original-from",
    "auto-submitted", "precedence", "list-id", "x-loop", "x-failed-recipients", "thread-index",
    "thread-topic", "x-mailer", "user-agent", "x-auto-response-suppress",
)  # fmt: skip
NAMED_PARTS = {
    "text/calendar": "invite.ics",
    "application/ics": "invite.ics",
    "application/ms-tnef": "winmail.dat",
    "message/delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "message/feedback-report": "feedback-report.txt",
    "text/rfc822-headers": "original-headers.txt",
}
EMBEDDED_MESSAGES = {"message/rfc822", "message/global"}
FILENAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
SURROGATES = re.compile(r"[\ud800-\udfff]")
MAX_DEPTH = 30
MAX_PARTS = 500
MAX_NAME = 180


@dataclass(frozen=True)
class ParsedAttachment:
    name: str
    content_type: str
    content: bytes
    content_id: str = ""  # without <>; the HTML refers to it as cid:<content_id>
    inline: bool = False  # shown inside the HTML body rather than listed as a file


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str  # normalized (no <>, domain lower-cased); "" when missing
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_address: str
    from_name: str
    reply_to: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    text: str  # full plain text (derived from the HTML when there is no text part)
    html: str  # sanitized; cid: URLs kept for the adapter to rewrite
    reply_text: str  # text without the quoted reply and the signature
    attachments: tuple[ParsedAttachment, ...]
    automated: bool
    automated_reason: str
    bounce: BounceReport | None
    loop_marker: str  # the X-Loop values, comma-separated, "" when absent
    headers: dict[str, str]  # a few useful raw headers, decoded, lower-case names
    parse_error: str = ""  # set when the mail could not be understood; text then says so


class UnreadableEmail(Exception):
    """The mail has no structure to read; the message is said to the agent as is."""


@dataclass
class Body:
    texts: list[str] = dataclasses.field(default_factory=list)
    htmls: list[str] = dataclasses.field(default_factory=list)
    attachments: list[ParsedAttachment] = dataclasses.field(default_factory=list)
    parts_seen: int = 0


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one raw RFC 5322 message. Never raises: what cannot be read comes back with
    ``parse_error`` set, a text saying so and the raw mail attached as original.eml."""
    try:
        raw = bytes(raw)
    except (TypeError, ValueError):
        raw = str(raw).encode("utf-8", errors="surrogateescape")
    try:
        return read_email(raw)
    except UnreadableEmail as error:
        return unreadable(raw, str(error))
    except Exception as error:  # the promise: no mail ever turns into an exception
        return unreadable(raw, f"unexpected {type(error).__name__}", detail=str(error))


def read_email(raw: bytes) -> ParsedEmail:
    if not raw.strip():
        raise UnreadableEmail("the message is empty")
    message = BytesParser(policy=PARSER_POLICY).parsebytes(raw)
    names = {str(name).strip().lower() for name, _ in message.raw_items()}
    if not names & KNOWN_HEADERS:
        raise UnreadableEmail("no email headers were found")
    fields = header_fields(message)
    body = Body()
    collect(message, body, depth=0)
    html_source = "\n".join(body.htmls)
    text = "\n\n".join(part.strip("\n") for part in body.texts if part.strip())
    if not text.strip() and html_source:
        text = html_to_text(html_source)
    text = clean_text(text)
    subject = fields["subject"]
    bounce = find_bounce(message, from_address=fields["from_address"], subject=subject)
    reason = automation_reason(
        message,
        from_address=fields["from_address"],
        reply_to=fields["reply_to"],
        subject=subject,
        bounce=bounce,
    )
    return ParsedEmail(
        **fields,
        text=text,
        html=clean_text(sanitize_html(html_source)) if html_source.strip() else "",
        reply_text=clean_text(extract_reply_text(text, html_source, subject)),
        attachments=tuple(mark_inline(body.attachments, html_source)),
        automated=bool(reason),
        automated_reason=reason,
        bounce=bounce,
    )


def header_fields(message: Message) -> dict:
    """The header-derived fields of ParsedEmail."""
    index = raw_header_index(message)

    def first(name: str) -> str | None:
        values = index.get(name)
        return values[0] if values else None

    senders = parse_addresses(first("from")) or parse_addresses(first("sender"))
    from_name, from_address = senders[0] if senders else ("", "")
    reply_to = [address for _, address in parse_addresses(first("reply-to"))]
    headers: dict[str, str] = {}
    for name in USEFUL_HEADERS:
        value = first(name)
        if value is not None:
            headers[name] = clean_text(single_line(decode_words(value)))[:1000]
    subject = first("subject")
    return {
        "message_id": clean_text(normalize_message_id(first("message-id") or "")),
        "in_reply_to": message_ids(first("in-reply-to")),
        "references": message_ids(" ".join(index.get("references", []))),
        "subject": clean_text(single_line(decode_words(subject) if subject else ""))[:2000],
        "from_address": clean_text(from_address),
        "from_name": clean_text(from_name),
        "reply_to": clean_text(next((address for address in reply_to if "@" in address), "")),
        "to": address_list(index.get("to", [])),
        "cc": address_list(index.get("cc", [])),
        "date": parse_date(first("date")),
        "loop_marker": clean_text(
            ", ".join(single_line(decode_words(value)) for value in index.get("x-loop", []))
        ),
        "headers": headers,
    }


def address_list(values: list[str]) -> tuple[str, ...]:
    addresses: list[str] = []
    for value in values:
        for _, address in parse_addresses(value):
            if "@" in address and address not in addresses:
                addresses.append(clean_text(address))
    return tuple(addresses)


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(repair_header_bytes(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def collect(part: Message, body: Body, *, depth: int) -> None:
    """Walk the MIME tree: text and HTML bodies into ``body``, everything else an attachment.

    An attached message is one attachment (its own parts are not walked), and in a
    multipart/alternative only one rendering of each kind is taken.
    """
    body.parts_seen += 1
    if depth > MAX_DEPTH or body.parts_seen > MAX_PARTS:
        return
    content_type = part.get_content_type()
    if content_type.startswith("multipart/"):
        payload = part.get_payload()
        if not isinstance(payload, list):
            raise UnreadableEmail("its multipart body has no readable parts (boundary not found)")
        children = [child for child in payload if isinstance(child, Message)]
        if content_type == "multipart/alternative":
            collect_alternative(children, body, depth=depth)
        else:
            for child in children:
                collect(child, body, depth=depth + 1)
        return
    disposition = (part.get_content_disposition() or "").lower()
    filename = part_filename(part)
    payload = part.get_payload()
    if (
        content_type in EMBEDDED_MESSAGES
        and isinstance(payload, list)
        and payload
        and isinstance(payload[0], Message)
    ):
        body.attachments.append(embedded_message(payload[0], filename))
        return
    if content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = decode_text(part, content_type)
        (body.htmls if content_type == "text/html" else body.texts).append(text)
        return
    body.attachments.append(attachment(part, content_type, filename, len(body.attachments) + 1))


def collect_alternative(children: list[Message], body: Body, *, depth: int) -> None:
    """The first plain-text rendering and the last (richest) HTML one; attachments from all."""
    renderings: list[Body] = []
    for child in children:
        rendering = Body(parts_seen=body.parts_seen)
        rendering.attachments = body.attachments
        collect(child, rendering, depth=depth + 1)
        body.parts_seen = rendering.parts_seen
        renderings.append(rendering)
    texts = next((rendering.texts for rendering in renderings if rendering.texts), [])
    htmls = next((rendering.htmls for rendering in reversed(renderings) if rendering.htmls), [])
    body.texts.extend(texts)
    body.htmls.extend(htmls)


def decode_text(part: Message, content_type: str) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = str(part.get_payload() or "").encode("utf-8", errors="surrogateescape")
    charset = param(part, "charset")
    if charset:
        text = decode_bytes(data, charset)
    else:
        text = decode_undeclared(data, html=content_type == "text/html")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if content_type == "text/plain" and param(part, "format").lower() == "flowed":
        text = unflow(text, delsp=param(part, "delsp").lower() == "yes")
    return text


def param(part: Message, name: str, header: str = "content-type") -> str:
    value = part.get_param(name, header=header)
    if value is None or value is True:
        return ""
    if isinstance(value, tuple):
        value = collapse_rfc2231_value(value)
    return repair_header_bytes(str(value)).strip()


def unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676): a line ending in a space
    continues on the next line of the same quote depth."""
    output: list[str] = []
    paragraph: str | None = None
    paragraph_depth = 0

    def flush() -> None:
        nonlocal paragraph
        if paragraph is not None:
            prefix = ">" * paragraph_depth + (" " if paragraph_depth and paragraph else "")
            output.append(prefix + paragraph)
        paragraph = None

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if paragraph is not None and depth != paragraph_depth:
            flush()
        if paragraph is None:
            paragraph, paragraph_depth = content, depth
        else:
            paragraph += content
        if not flowed:
            flush()
    flush()
    return "\n".join(output)


def part_filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except (TypeError, ValueError, LookupError):
        name = ""
    if not name:
        return ""
    name = decode_words(repair_header_bytes(str(name)))
    name = re.split(r"[/\\]", name)[-1]
    name = FILENAME_UNSAFE.sub("_", name).strip(" ._") or ""
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: MAX_NAME - 10] + dot + extension[:9]) if dot else name[:MAX_NAME]
    return clean_text(name)


def attachment(part: Message, content_type: str, filename: str, number: int) -> ParsedAttachment:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        payload = part.get_payload()
        if isinstance(payload, list):
            data = b"".join(serialize(child) for child in payload if isinstance(child, Message))
        else:
            data = str(payload or "").encode("utf-8", errors="surrogateescape")
    name = filename or NAMED_PARTS.get(content_type) or generated_name(content_type, number)
    content_id = (raw_header(part, "Content-ID") or "").strip().strip("<>").strip()
    return ParsedAttachment(
        name=name,
        content_type=content_type,
        content=data,
        content_id=clean_text(single_line(content_id))[:250],
    )


def generated_name(content_type: str, number: int) -> str:
    extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    stem = "image" if content_type.startswith("image/") else "attachment"
    return f"{stem}-{number}{extension}"


def embedded_message(inner: Message, filename: str) -> ParsedAttachment:
    """An attached or forwarded-as-attachment mail, kept whole as "<its subject>.eml"."""
    if not filename:
        subject = single_line(header_text(inner, "Subject"))
        filename = FILENAME_UNSAFE.sub("_", subject).strip(" ._")[:MAX_NAME] or "message"
        filename = clean_text(filename) + ".eml"
    return ParsedAttachment(name=filename, content_type="message/rfc822", content=serialize(inner))


def serialize(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=EML_POLICY)
    except Exception:  # generators trip on some broken headers; the text is still worth keeping
        return message.as_string(policy=EML_POLICY).encode("utf-8", errors="surrogateescape")


def mark_inline(attachments: list[ParsedAttachment], html: str) -> list[ParsedAttachment]:
    """An attachment is inline when the HTML shows it through its Content-ID."""
    lowered = html.lower()
    return [
        dataclasses.replace(item, inline=True)
        if item.content_id and f"cid:{item.content_id.lower()}" in lowered
        else item
        for item in attachments
    ]


def clean_text(value: str) -> str:
    """Text the database can store: no NUL characters, no lone surrogates."""
    return SURROGATES.sub("\ufffd", value.replace("\x00", ""))


def unreadable(raw: bytes, reason: str, *, detail: str = "") -> ParsedEmail:
    """The ParsedEmail of a mail that could not be understood: it says so, in plain words, and
    carries the raw mail; headers are kept when they at least were readable."""
    fields: dict = {
        "message_id": "",
        "in_reply_to": (),
        "references": (),
        "subject": "",
        "from_address": "",
        "from_name": "",
        "reply_to": "",
        "to": (),
        "cc": (),
        "date": None,
        "loop_marker": "",
        "headers": {},
    }
    if reason != "no email headers were found":
        # The headers are a bonus (threading, the sender); the raw mail is attached regardless.
        with contextlib.suppress(Exception):
            headers_only = BytesParser(policy=PARSER_POLICY).parsebytes(raw, headersonly=True)
            fields = header_fields(headers_only)
    text = f"This email could not be read: {reason}. The original is attached."
    error = f"{reason}: {detail}" if detail else reason
    return ParsedEmail(
        **fields,
        text=text,
        html="",
        reply_text=text,
        attachments=(ParsedAttachment("original.eml", "message/rfc822", raw),),
        automated=False,
        automated_reason="",
        bounce=None,
        parse_error=clean_text(error)[:1000],
    )
