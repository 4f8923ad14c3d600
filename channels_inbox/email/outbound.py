"""Build the email for one outbound reply (the sending is in ``adapter.py``).

What every header is for:

- ``Message-ID`` is derived from our Message pk (``<sb.m<pk>.<sig>@<mailbox domain>>``), so a
  retried send carries the same id and the customer's mail client shows one message, and a
  reply to it threads back by ``In-Reply-To`` without any lookup table.
- ``In-Reply-To`` is the newest message of the thread; ``References`` the first plus the last
  ten (RFC 5322 keeps the root; long threads must not grow headers without bound).
- ``Reply-To`` is the signed ``+t<number>`` address, for clients that drop ``In-Reply-To``.
- The subject carries ``[#<number>]``, the last fallback when both of those are lost.
- ``X-Loop`` marks our own mail, so it is dropped if it ever comes back in.
- ``Auto-Submitted``/``X-Auto-Response-Suppress`` only on automatic mail (RFC 3834): an
  agent's reply is a human message and must get vacation replies like any other.
- The reply marker line at the top of both parts is where the parser cuts the customer's
  answer from our quoted text.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.html import escape, linebreaks

from channels_inbox.email.tokens import make_reply_address, split_address

if TYPE_CHECKING:
    from channels_inbox.adapters.base import OutboundMessage

REPLY_MARKER = "##- Please type your reply above this line -##"
MESSAGE_ID_SALT = "switchboard.email.message-id"
MAX_REFERENCES = 11  # the first id and the last ten

_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|antwort|r|ref|réf|rif|odp|ynt)\s*(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)
_MESSAGE_ID = re.compile(r"[^\s<>@]+@[^\s<>@]+")


def _one_line(value: str) -> str:
    """Header values from agents and customers; a line break would end the header."""
    return " ".join(value.split())


def _address(display_name: str, addr_spec: str) -> Address:
    addr_spec = addr_spec.strip()
    split_address(addr_spec)
    try:
        return Address(display_name=_one_line(display_name), addr_spec=addr_spec)
    except (ValueError, IndexError, HeaderParseError) as error:
        raise ValueError(f"Not an email address: {addr_spec!r}") from error


def outbound_message_id(account: Any, message_id: int) -> str:
    """The Message-ID of our Message ``message_id`` sent from ``account``, without ``<>``:
    the normalized form stored as the message's ``provider_message_id``."""
    _, domain = split_address(account.address)
    digest = salted_hmac(
        MESSAGE_ID_SALT, f"{message_id}:{account.address.strip().lower()}", algorithm="sha256"
    ).digest()
    signature = base64.b32encode(digest).decode("ascii").lower()[:8]
    return f"sb.m{message_id}.{signature}@{domain.lower()}"


def reply_subject(subject: str, ticket_number: int, *, is_reply: bool) -> str:
    """``Re: <subject> [#<number>]``: one ``Re:`` (the customer's ``AW:``/``SV:`` replaced),
    one ticket tag."""
    subject = _one_line(subject)
    tag = f"[#{ticket_number}]"
    base = _REPLY_PREFIX.sub("", subject).strip()
    if tag not in base:
        base = f"{base} {tag}".strip()
    return f"Re: {base}" if is_reply else base


def thread_headers(thread_provider_ids: tuple[str, ...]) -> tuple[str, str]:
    """``(In-Reply-To, References)`` for a thread, oldest id first; ids that are not email
    Message-IDs (another channel's ids on a merged ticket) are left out."""
    ids: list[str] = []
    for value in thread_provider_ids:
        value = value.strip().strip("<>")
        # ".invalid" ids stand in for mail that came without a Message-ID (RFC 2606: they
        # name nothing), so no mail client knows them.
        if _MESSAGE_ID.fullmatch(value) and not value.endswith(".invalid") and value not in ids:
            ids.append(value)
    if not ids:
        return "", ""
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return f"<{ids[-1]}>", " ".join(f"<{value}>" for value in ids)


def _html_body(outbound: OutboundMessage) -> str:
    body = outbound.html.strip() or linebreaks(escape(outbound.text))
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        f'<div style="color:#999999;font-size:12px">{escape(REPLY_MARKER)}</div>\n'
        f"{body}\n</body></html>\n"
    )


def _add_attachment(email: EmailMessage, name: str, content_type: str, content: bytes) -> None:
    maintype, _, subtype = (content_type or "").lower().partition("/")
    filename = _one_line(name) or "attachment"
    if maintype == "message" and subtype == "rfc822":
        # A message part must stay 7bit/8bit (RFC 2046 §5.2.1), so it is attached as a message.
        attached = BytesParser(policy=policy.SMTP).parsebytes(content)
        email.add_attachment(attached, filename=filename)
        return
    if not maintype or not subtype or maintype in ("message", "multipart"):
        maintype, subtype = "application", "octet-stream"
    email.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)


def build_email(
    account: Any, outbound: OutboundMessage, *, now: datetime | None = None
) -> EmailMessage:
    """The complete email for ``outbound`` from the email ``account``.

    Raises ValueError when the account's or the customer's address is not usable.
    """
    sender = _address(account.name, account.address)
    recipient = _address(outbound.to_name, outbound.to_address)
    email = EmailMessage(policy=policy.SMTP)
    email["From"] = sender
    email["Reply-To"] = _address("", make_reply_address(account.address, outbound.ticket_number))
    email["To"] = recipient
    in_reply_to, references = thread_headers(outbound.thread_provider_ids)
    email["Subject"] = reply_subject(
        outbound.subject, outbound.ticket_number, is_reply=bool(in_reply_to)
    )
    email["Date"] = format_datetime((now or timezone.now()).astimezone(UTC))
    email["Message-ID"] = f"<{outbound_message_id(account, outbound.message_id)}>"
    if in_reply_to:
        email["In-Reply-To"] = in_reply_to
        email["References"] = references
    email["X-Loop"] = account.address.strip()
    if outbound.is_automatic:
        email["Auto-Submitted"] = "auto-replied"
        email["X-Auto-Response-Suppress"] = "All"
    email.set_content(f"{REPLY_MARKER}\n\n{outbound.text}")
    email.add_alternative(_html_body(outbound), subtype="html")
    for attachment in outbound.attachments:
        _add_attachment(email, attachment.name, attachment.content_type, attachment.content)
    return email
