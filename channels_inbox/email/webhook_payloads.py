"""Hosted providers' inbound payloads turned back into one raw MIME message each.

The provider's own raw copy is kept byte for byte when it sends one (Mailgun ``body-mime``,
Postmark ``RawEmail``, SendGrid ``email``). Otherwise the message is rebuilt: the original
header lines as the provider gave them (minus those that described the old body), over a
body built with ``EmailMessage`` from the text, the HTML and the files. The rebuilt bytes
depend only on the post (fixed MIME boundaries), so a repeated post of a mail without a
Message-ID gets the same digest key and is dropped.

Anything that cannot be read raises PayloadError, and nothing else: the endpoint answers
400 rather than 500, which would have the provider post it again and again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import formataddr, getaddresses
from typing import Any
from urllib.parse import parse_qsl

MAX_FORM_FIELDS = 1000

# The headers that describe the body: the rebuilt message supplies its own.
BODY_HEADERS = frozenset(
    {
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "content-length",
        "content-id",
        "mime-version",
    }
)
ADDRESS_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to"}
)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
_LINE_BREAKS = re.compile(r"[\r\n]+[ \t]*")
_TOKEN = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+$")
_NUMBERED_ATTACHMENT = re.compile(r"^attachment-?(\d+)$")

MIME_POLICY = policy.default.clone(linesep="\r\n")


class PayloadError(ValueError):
    """The body cannot be read as the provider's payload: answered 400."""


@dataclass(frozen=True)
class FormValue:
    content: bytes
    filename: str | None = None
    content_type: str = ""

    def text(self, charset: str = "utf-8") -> str:
        try:
            return self.content.decode(charset or "utf-8", errors="replace")
        except LookupError:  # a charset name nobody knows
            return self.content.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    content: bytes
    content_id: str = ""  # without <>


@dataclass(frozen=True)
class Delivery:
    """One received mail as the SMTP ingress would have stored it."""

    raw: bytes
    recipients: str
    # None when the provider does not say: an empty envelope sender means a bounce.
    mail_from: str | None = None


@dataclass
class RebuiltMail:
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw_header_block: bytes = b""
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


# --- Reading the body -----------------------------------------------------------------------


def read_form(body: bytes, content_type: str) -> dict[str, FormValue]:
    """The fields of a url-encoded or multipart/form-data body, as the bytes sent (file
    fields with their name and type). The first of repeated names wins."""
    kind = content_type.split(";", 1)[0].strip().lower()
    pairs: Iterable[tuple[str, FormValue]]
    if kind == "application/x-www-form-urlencoded":
        pairs = _urlencoded_fields(body)
    elif kind == "multipart/form-data":
        pairs = _multipart_fields(body, content_type)
    else:
        raise PayloadError(f"expected form data, not {kind or 'no content type'}")
    fields: dict[str, FormValue] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def _urlencoded_fields(body: bytes) -> list[tuple[str, FormValue]]:
    try:
        # Latin-1 maps each byte to one character and back, so the values keep their bytes
        # whatever charset the provider used.
        pairs = parse_qsl(
            body.decode("latin-1"),
            keep_blank_values=True,
            encoding="latin-1",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError as error:
        raise PayloadError(str(error)) from None
    return [
        (name.encode("latin-1").decode("utf-8", "replace"), FormValue(value.encode("latin-1")))
        for name, value in pairs
    ]


def _multipart_fields(body: bytes, content_type: str) -> list[tuple[str, FormValue]]:
    # multipart/form-data is MIME (RFC 7578): the mail parser reads it byte for byte,
    # without the size limits Django applies to form fields.
    try:
        head = f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n".encode("latin-1")
    except UnicodeEncodeError:
        raise PayloadError("the content type is not ASCII") from None
    form = BytesParser(policy=policy.compat32).parsebytes(head + body)
    parts = form.get_payload()
    if not form.is_multipart() or not isinstance(parts, list) or not parts:
        raise PayloadError("the multipart body has no parts")
    if len(parts) > MAX_FORM_FIELDS:
        raise PayloadError("too many fields")
    fields: list[tuple[str, FormValue]] = []
    for part in parts:
        if not isinstance(part, Message):
            continue
        name, filename = _disposition(part)
        if not name:
            continue
        content = part.get_payload(decode=True)
        fields.append(
            (
                name,
                FormValue(
                    content=content if isinstance(content, bytes) else b"",
                    filename=filename,
                    content_type=part.get_content_type() if part.get("Content-Type") else "",
                ),
            )
        )
    return fields


def _disposition(part: Message) -> tuple[str, str | None]:
    """The field name and file name of a form part. Providers write non-ASCII file names
    as raw UTF-8, which the parser keeps escaped in the raw header (reading it through the
    parser would replace them): the header is read again as text."""
    raw = next(
        (str(value) for key, value in part.raw_items() if key.lower() == "content-disposition"),
        "",
    )
    header = Message()
    header["Content-Disposition"] = raw.encode("utf-8", "surrogateescape").decode(
        "utf-8", "replace"
    )
    name = header.get_param("name", header="content-disposition")
    filename = header.get_filename()
    return (name if isinstance(name, str) else ""), filename


def field_text(fields: dict[str, FormValue], name: str, charset: str = "utf-8") -> str:
    value = fields.get(name)
    return value.text(charset) if value is not None else ""


def _json_field(fields: dict[str, FormValue], name: str, expected: type) -> Any:
    value = fields.get(name)
    if value is None or not value.content.strip():
        return expected()
    try:
        parsed = json.loads(value.content)
    except ValueError:
        raise PayloadError(f"{name} is not JSON") from None
    if not isinstance(parsed, expected):
        raise PayloadError(f"{name} is not a JSON {expected.__name__}")
    return parsed


def _numbered_files(fields: dict[str, FormValue]) -> list[tuple[str, FormValue]]:
    """``attachment-1``, ``attachment-2``... (Mailgun) or ``attachment1``... (SendGrid), in
    their order."""
    numbered = []
    for name, value in fields.items():
        match = _NUMBERED_ATTACHMENT.match(name)
        if match and value.filename is not None:
            numbered.append((int(match.group(1)), name, value))
    return [(name, value) for _, name, value in sorted(numbered)]


# --- Mailgun --------------------------------------------------------------------------------


def mailgun_delivery(fields: dict[str, FormValue]) -> Delivery:
    recipient = field_text(fields, "recipient").strip()
    if not recipient:
        raise PayloadError("recipient missing")
    mail_from = field_text(fields, "sender").strip() if "sender" in fields else None
    raw_mime = fields.get("body-mime")
    if raw_mime is not None and raw_mime.content.strip():
        return Delivery(raw=raw_mime.content, recipients=recipient, mail_from=mail_from)

    mail = RebuiltMail()
    for item in _json_field(fields, "message-headers", list):
        if not (
            isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item)
        ):
            raise PayloadError("message-headers is not a list of [name, value] pairs")
        mail.headers.append((item[0], item[1]))
    if not mail.headers:
        if "from" not in fields:
            raise PayloadError("neither message-headers nor from")
        mail.headers = [
            (name, field_text(fields, key))
            for name, key in (
                ("From", "from"),
                ("To", "To"),
                ("Subject", "subject"),
                ("Message-Id", "Message-Id"),
                ("In-Reply-To", "In-Reply-To"),
                ("References", "References"),
            )
            if key in fields
        ]
        if "To" not in fields:
            mail.headers.append(("To", recipient))
    if "body-plain" in fields:
        mail.text = field_text(fields, "body-plain")
    if "body-html" in fields:
        mail.html = field_text(fields, "body-html")
    content_ids: dict[str, str] = {}
    for content_id, field_name in _json_field(fields, "content-id-map", dict).items():
        if isinstance(field_name, str):
            content_ids[field_name] = content_id.strip().strip("<>")
    for name, value in _numbered_files(fields):
        mail.attachments.append(_attachment(value, content_id=content_ids.get(name, "")))
    return Delivery(
        raw=build_mime(mail, seed=_seed(fields)), recipients=recipient, mail_from=mail_from
    )


def _attachment(value: FormValue, *, content_id: str = "", name: str = "") -> Attachment:
    return Attachment(
        name=name or value.filename or "attachment",
        content_type=value.content_type or "application/octet-stream",
        content=value.content,
        content_id=content_id,
    )


def _seed(fields: dict[str, FormValue]) -> bytes:
    """What the rebuilt message's MIME boundaries derive from, so the same post always
    rebuilds the same bytes (a mail without a Message-ID is keyed by its digest)."""
    digest = hashlib.sha256()
    for name in sorted(fields):
        if name in ("timestamp", "token", "signature"):  # differ on each of Mailgun's posts
            continue
        digest.update(name.encode("utf-8") + b"\0" + fields[name].content + b"\0")
    return digest.digest()


# --- Postmark -------------------------------------------------------------------------------


def postmark_delivery(body: bytes) -> Delivery:
    try:
        data = json.loads(body)
    except ValueError:
        raise PayloadError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("the body is not a JSON object")
    headers = _postmark_headers(data)
    recipient = _json_str(data, "OriginalRecipient").strip() or ", ".join(
        _full_addresses(data, "ToFull")
    )
    if not recipient:
        recipient = _json_str(data, "To").strip()
    if not recipient:
        raise PayloadError("no recipient (OriginalRecipient, ToFull or To)")
    return_path = next((value for name, value in headers if name.lower() == "return-path"), None)
    mail_from = _address_of(return_path) if return_path is not None else None

    raw_email = _json_str(data, "RawEmail")
    if raw_email.strip():
        return Delivery(
            raw=raw_email.encode("utf-8", "replace"), recipients=recipient, mail_from=mail_from
        )

    sender = _postmark_from(data)
    if not sender:
        raise PayloadError("From missing")
    mail = RebuiltMail(headers=[("From", sender)])
    for name, key, full in (("To", "To", "ToFull"), ("Cc", "Cc", "CcFull")):
        value = _json_str(data, key).strip() or ", ".join(_full_addresses(data, full))
        if value:
            mail.headers.append((name, value))
    for name, key in (("Reply-To", "ReplyTo"), ("Subject", "Subject"), ("Date", "Date")):
        value = _json_str(data, key)
        if value.strip():
            mail.headers.append((name, value))
    given = {name.lower() for name, _ in mail.headers}
    mail.headers.extend((name, value) for name, value in headers if name.lower() not in given)
    if "TextBody" in data:
        mail.text = _json_str(data, "TextBody")
    if "HtmlBody" in data:
        mail.html = _json_str(data, "HtmlBody") or None
    attachments = data.get("Attachments") or []
    if not isinstance(attachments, list):
        raise PayloadError("Attachments is not a list")
    for index, item in enumerate(attachments, start=1):
        if not isinstance(item, dict):
            raise PayloadError(f"attachment {index} is not an object")
        try:
            content = base64.b64decode(_json_str(item, "Content"), validate=True)
        except (binascii.Error, ValueError):
            raise PayloadError(f"attachment {index} is not base64") from None
        mail.attachments.append(
            Attachment(
                name=_json_str(item, "Name") or f"attachment-{index}",
                content_type=_json_str(item, "ContentType") or "application/octet-stream",
                content=content,
                content_id=_json_str(item, "ContentID").strip().strip("<>"),
            )
        )
    seed = hashlib.sha256(body).digest()
    return Delivery(raw=build_mime(mail, seed=seed), recipients=recipient, mail_from=mail_from)


def _json_str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{key} is not a string")
    return value


def _postmark_headers(data: dict[str, Any]) -> list[tuple[str, str]]:
    items = data.get("Headers") or []
    if not isinstance(items, list):
        raise PayloadError("Headers is not a list")
    headers = []
    for item in items:
        if not isinstance(item, dict):
            raise PayloadError("Headers holds something other than {Name, Value}")
        name, value = _json_str(item, "Name"), _json_str(item, "Value")
        if name:
            headers.append((name, value))
    return headers


def _full_addresses(data: dict[str, Any], key: str) -> list[str]:
    items = data.get(key) or []
    if not isinstance(items, list):
        raise PayloadError(f"{key} is not a list")
    addresses = []
    for item in items:
        if not isinstance(item, dict):
            raise PayloadError(f"{key} holds something other than {{Email, Name}}")
        email = _json_str(item, "Email").strip()
        if email:
            addresses.append(address_text(_json_str(item, "Name").strip(), email))
    return addresses


def _postmark_from(data: dict[str, Any]) -> str:
    full = data.get("FromFull")
    if full is not None and not isinstance(full, dict):
        raise PayloadError("FromFull is not an object")
    email = _json_str(full, "Email").strip() if full else ""
    name = _json_str(full, "Name").strip() if full else ""
    email = email or _json_str(data, "From").strip()
    name = name or _json_str(data, "FromName").strip()
    if not email:
        return ""
    if "<" in email:  # already "Name <address>"
        return email
    return address_text(name, email)


def address_text(name: str, address: str) -> str:
    """``Name <address>`` with the name quoted or encoded as needed. An address with
    non-ASCII characters (RFC 6532), which formataddr refuses, stays as it is."""
    try:
        return formataddr((name, address), charset="utf-8")
    except UnicodeError:
        pass
    if not name:
        return address
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    return f"{Header(name, 'utf-8').encode()} <{address}>"


def _address_of(value: str) -> str:
    """``<bounce@x>`` → ``bounce@x``; ``<>`` → "" (the null sender of bounces)."""
    addresses = getaddresses([value])
    return addresses[0][1] if addresses else ""


# --- SendGrid -------------------------------------------------------------------------------


def sendgrid_delivery(fields: dict[str, FormValue]) -> Delivery:
    envelope = _json_field(fields, "envelope", dict)
    to = envelope.get("to") or []
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not all(isinstance(item, str) for item in to):
        raise PayloadError("envelope.to is not a list of addresses")
    envelope_from = envelope.get("from")
    if envelope_from is not None and not isinstance(envelope_from, str):
        raise PayloadError("envelope.from is not an address")
    charsets = {
        str(name): str(value) for name, value in _json_field(fields, "charsets", dict).items()
    }
    recipients = ", ".join(item.strip() for item in to if item.strip())
    if not recipients:
        recipients = field_text(fields, "to", charsets.get("to", "utf-8")).strip()
    if not recipients:
        raise PayloadError("no recipient (envelope or to)")

    raw_mime = fields.get("email")
    if raw_mime is not None and raw_mime.content.strip():
        return Delivery(raw=raw_mime.content, recipients=recipients, mail_from=envelope_from)

    mail = RebuiltMail()
    header_block = fields.get("headers")
    if header_block is not None and header_block.content.strip():
        mail.raw_header_block = header_block.content
    elif "from" in fields:
        mail.headers = [
            (name, field_text(fields, key, charsets.get(key, "utf-8")))
            for name, key in (("From", "from"), ("To", "to"), ("Cc", "cc"), ("Subject", "subject"))
            if key in fields
        ]
    else:
        raise PayloadError("neither email, headers nor from")
    if "text" in fields:
        mail.text = field_text(fields, "text", charsets.get("text", "utf-8"))
    if "html" in fields:
        mail.html = field_text(fields, "html", charsets.get("html", "utf-8"))
    info = _json_field(fields, "attachment-info", dict)
    content_ids = {
        str(field_name): str(content_id)
        for content_id, field_name in _json_field(fields, "content-ids", dict).items()
    }
    for name, value in _numbered_files(fields):
        details = info.get(name) if isinstance(info.get(name), dict) else {}
        content_id = content_ids.get(name) or str(details.get("content-id") or "")
        filename = details.get("filename") or details.get("name") or ""
        attachment = _attachment(
            value, content_id=content_id.strip().strip("<>"), name=str(filename)
        )
        if details.get("type") and not value.content_type:
            attachment = Attachment(
                attachment.name, str(details["type"]), attachment.content, attachment.content_id
            )
        mail.attachments.append(attachment)
    return Delivery(
        raw=build_mime(mail, seed=_seed(fields)), recipients=recipients, mail_from=envelope_from
    )


# --- Rebuilding the message -----------------------------------------------------------------


def build_mime(mail: RebuiltMail, *, seed: bytes) -> bytes:
    """One raw message: the original headers as they came (minus those describing the old
    body) over a body built from the provider's text, HTML and files."""
    body = EmailMessage(policy=MIME_POLICY)
    text, html = mail.text or None, mail.html or None
    inline = [item for item in mail.attachments if item.content_id and html]
    files = [item for item in mail.attachments if item not in inline]
    html_part: EmailMessage | None = None
    if html is not None and text is not None:
        body.set_content(text)
        body.add_alternative(html, subtype="html")
        parts = body.get_payload()
        last = parts[-1] if isinstance(parts, list) and parts else None
        html_part = last if isinstance(last, EmailMessage) else None
    elif html is not None:
        body.set_content(html, subtype="html")
        html_part = body
    else:
        body.set_content(text or "")
    for item in inline:
        assert html_part is not None  # inline parts exist only with HTML
        maintype, subtype = _content_type(item.content_type)
        html_part.add_related(
            item.content,
            maintype,
            subtype,
            cid=_content_id(item.content_id),
            filename=_file_name(item.name),
            disposition="inline",
        )
    for item in files:
        maintype, subtype = _content_type(item.content_type)
        body.add_attachment(
            item.content,
            maintype,
            subtype,
            filename=_file_name(item.name),
            cid=_content_id(item.content_id),
        )
    # Fixed boundaries: the same post must give the same bytes (see _seed).
    digest = hashlib.sha256(seed).hexdigest()[:32]
    for index, part in enumerate(part for part in body.walk() if part.is_multipart()):
        part.set_boundary(f"=_switchboard_{digest}_{index}")
    header_block = _strip_body_headers(mail.raw_header_block) + header_lines(mail.headers)
    return header_block + body.as_bytes(policy=MIME_POLICY)


def _file_name(name: str) -> str:
    # Control characters and line separators cannot go into a header.
    return "".join(ch if ch.isprintable() else " " for ch in name).strip() or "attachment"


def _content_id(content_id: str) -> str | None:
    cleaned = "".join(ch for ch in content_id if "!" <= ch <= "~" and ch not in "<>")
    return f"<{cleaned}>" if cleaned else None


def _content_type(value: str) -> tuple[str, str]:
    maintype, _, subtype = value.split(";", 1)[0].strip().lower().partition("/")
    if not (_TOKEN.match(maintype) and _TOKEN.match(subtype)) or maintype in (
        "multipart",
        "message",
    ):
        # A message or multipart part would have to be rebuilt, not carried as bytes; the
        # file keeps its name and content.
        return "application", "octet-stream"
    return maintype, subtype


def header_lines(headers: Iterable[tuple[str, str]]) -> bytes:
    """Header fields as they go on the wire; ASCII values are kept as they came (encoded
    words and all), others are encoded per RFC 2047. Line breaks inside a value cannot
    start a header of their own."""
    lines = []
    for name, value in headers:
        name = name.strip()
        if not _HEADER_NAME.match(name) or name.lower() in BODY_HEADERS:
            continue
        value = _LINE_BREAKS.sub(" ", value).strip()
        if value.isascii():
            lines.append(f"{name}: {value}\r\n".encode("ascii"))
            continue
        if name.lower() in ADDRESS_HEADERS:
            encoded = ", ".join(
                address_text(display, address)
                for display, address in getaddresses([value])
                if address or display
            )
            lines.append(f"{name}: {encoded}\r\n".encode("utf-8", "replace"))
        else:
            encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
            lines.append(f"{name}: {encoded}\r\n".encode("ascii", "replace"))
    return b"".join(lines)


def _strip_body_headers(block: bytes) -> bytes:
    """A raw header block without the fields that describe the old body, unfolded lines
    kept as they were, ending in CRLF."""
    fields: list[list[bytes]] = []
    for line in block.replace(b"\r\n", b"\n").split(b"\n"):
        if not line.strip():
            continue
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    kept = []
    for lines in fields:
        name = lines[0].split(b":", 1)[0].strip().lower()
        if b":" not in lines[0] or name.decode("latin-1") in BODY_HEADERS:
            continue
        kept.append(b"\r\n".join(lines) + b"\r\n")
    return b"".join(kept)
