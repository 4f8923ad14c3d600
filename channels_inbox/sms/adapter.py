"""The SMS channel through Twilio: form posts in, the Messages API out.

Reading (``parse``) takes one stored form post (``channels_inbox.sms.views`` stored it and
noted in its headers which webhook it came to):

- A message (``MessageSid``, ``From``, ``Body``, ``NumMedia``, ``MediaUrl{N}``,
  ``MediaContentType{N}``) becomes a customer message from ``From`` in E.164, its provider
  id the ``MessageSid``. The customer's active conversation on the account continues. MMS
  files are downloaded with the account's credentials (Twilio redirects to its CDN); a file
  over ``MAX_ATTACHMENT_BYTES``, or one Twilio no longer has, is left out and the message
  says so, while a download failing for a while fails the event for the pipeline to retry.
  A sender that is not a phone number (a short code, an alphanumeric sender, a
  ``whatsapp:`` address) and an empty message are ignored with the reason.
- Opt-out keywords (STOP ...) are recorded by the webhook when it stores the post, so they
  hold from the moment Twilio has its answer; the message itself reaches the ticket like any
  other, so the agent sees what the customer wrote.
- A status callback becomes a delivery report for our message ``MessageSid``: ``sent``,
  ``delivered`` and ``read`` as they are; ``failed``, ``undelivered`` and ``canceled`` as
  failed, with Twilio's ``ErrorCode`` explained. Statuses before "sent" (accepted, queued,
  scheduled, sending) say nothing the message does not show already and are ignored, as is
  a status we do not know.

Sending (``send``) posts ``To``, ``Body`` and a ``StatusCallback`` to our status webhook,
from the account's number (its ``address``) or, when the option ``messaging_service_sid``
is set, through that Messaging Service. Refused before any request: a number that opted
out of the account's messages (with when and how), an empty text, more than 1,600
characters, and files (an MMS needs the files at a public URL, which replies do not have).

Credentials: ``account_sid`` and ``auth_token``.
"""

from __future__ import annotations

import mimetypes
from datetime import datetime
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from channels_inbox.adapters.base import (
    ChannelAdapter,
    ChannelError,
    OutboundMessage,
    ParseResult,
    SendCheck,
    SendResult,
    StatusUpdate,
    payload_bytes,
)
from channels_inbox.adapters.inbound import credential
from channels_inbox.adapters.transport import format_size
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.pipeline import RecipientMissingError, recipient_of
from channels_inbox.sms.api import MediaTooLarge, TwilioApi, explain
from channels_inbox.sms.models import OptOut
from channels_inbox.sms.services import opt_out_of
from customers.identities import normalize_address
from helpdesk.channel_kinds import ChannelKind
from tickets.models import Message, Ticket
from tickets.services import InboundAttachment, InboundMessage

# Which webhook a stored post came to, in InboundEvent.headers["webhook"].
MESSAGE_WEBHOOK = "message"
STATUS_WEBHOOK = "status"
MAX_BODY_CHARACTERS = 1600
MAX_MEDIA = 10
MAX_FORM_FIELDS = 1000

DELIVERY_STATUSES = {
    "sent": Message.DeliveryStatus.SENT,
    "delivered": Message.DeliveryStatus.DELIVERED,
    "read": Message.DeliveryStatus.READ,
    "failed": Message.DeliveryStatus.FAILED,
    "undelivered": Message.DeliveryStatus.FAILED,
    "canceled": Message.DeliveryStatus.FAILED,
}
BEFORE_SENT = frozenset({"accepted", "scheduled", "queued", "sending"})


def status_callback_url(account: ChannelAccount) -> str:
    return f"{account.webhook_url}status/"


def parse_form(body: bytes) -> dict[str, list[str]]:
    """A form post's fields, each with its values in order. ValueError when the body is
    not UTF-8 form data."""
    text = body.decode("utf-8")
    return parse_qs(
        text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FORM_FIELDS
    )


def field(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name)
    return values[0] if values else ""


def opted_out_reason(address: str, opt_out: OptOut) -> str:
    return (
        f"{address} opted out of messages from this number: they sent {opt_out.keyword} "
        f"on {opt_out.opted_out_at:%Y-%m-%d %H:%M} UTC. Nothing is sent until they "
        "send START."
    )


class SmsAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.SMS

    # --- Reading -------------------------------------------------------------------------

    def parse(self, account: ChannelAccount, event: InboundEvent) -> ParseResult:
        try:
            fields = parse_form(payload_bytes(event))
        except (UnicodeDecodeError, ValueError) as error:
            raise ChannelError(
                f"The Twilio post is not form data: {error}", permanent=True
            ) from None
        headers = event.headers if isinstance(event.headers, dict) else {}
        if headers.get("webhook") == STATUS_WEBHOOK:
            return _status(fields)
        return self._message(account, fields, received_at=event.received_at)

    def _message(
        self, account: ChannelAccount, fields: dict[str, list[str]], *, received_at: datetime
    ) -> ParseResult:
        sid = field(fields, "MessageSid")
        sender = field(fields, "From").strip()
        if not sid:
            raise ChannelError("The Twilio post has no MessageSid.", permanent=True)
        prefix, colon, _rest = sender.partition(":")
        if colon and prefix.lower() != "tel":
            return ParseResult(
                ignored_reason=f"A {prefix} message reached an SMS account; it is not taken in."
            )
        try:
            address = normalize_address(ChannelKind.SMS, sender)
        except ValidationError:
            return ParseResult(
                ignored_reason=(
                    f"The sender {sender!r} is not a phone number (a short code or an "
                    "alphanumeric sender); it cannot be answered."
                )
            )
        text = field(fields, "Body").strip()
        attachments, notes = self._download(account, fields)
        if not text and not attachments and not notes:
            return ParseResult(ignored_reason="An empty message.")
        return ParseResult(
            messages=(
                InboundMessage(
                    channel=ChannelKind.SMS,
                    sender_address=address,
                    text="\n\n".join(part for part in (text, *notes) if part),
                    attachments=tuple(attachments),
                    provider_message_id=sid,
                    starts_conversation=False,
                    received_at=received_at,
                ),
            )
        )

    def _download(
        self, account: ChannelAccount, fields: dict[str, list[str]]
    ) -> tuple[list[InboundAttachment], list[str]]:
        count_text = field(fields, "NumMedia").strip()
        count = min(int(count_text), MAX_MEDIA) if count_text.isdigit() else 0
        if not count:
            return [], []
        api = TwilioApi(credential(account, "account_sid"), credential(account, "auth_token"))
        limit = int(settings.MAX_ATTACHMENT_BYTES)
        attachments: list[InboundAttachment] = []
        notes: list[str] = []
        for index in range(count):
            url = field(fields, f"MediaUrl{index}").strip()
            if not url:
                continue
            declared_type = field(fields, f"MediaContentType{index}").strip()
            try:
                content, served_type = api.download_media(url, max_bytes=limit)
            except MediaTooLarge as error:
                name = _media_name(url, declared_type, index)
                size = f" ({format_size(error.size)})" if error.size else ""
                limit_text = format_size(limit)
                notes.append(
                    f"[{name}{size} was not downloaded: larger than the {limit_text} limit.]"
                )
                continue
            except ChannelError as error:
                if not error.permanent:
                    raise
                notes.append(
                    f"[{_media_name(url, declared_type, index)} could not be downloaded: {error}]"
                )
                continue
            content_type = declared_type or served_type
            attachments.append(
                InboundAttachment(_media_name(url, content_type, index), content_type, content)
            )
        return attachments, notes

    # --- Sending -------------------------------------------------------------------------

    def can_send(self, account: ChannelAccount, ticket: Ticket) -> SendCheck:
        """Refused when the customer's number opted out of the account's messages."""
        try:
            address, _name = recipient_of(ticket)
            to = normalize_address(ChannelKind.SMS, address)
        except RecipientMissingError as error:
            return SendCheck(allowed=False, reason=str(error))
        except ValidationError:
            return SendCheck(allowed=False, reason=f"{address!r} is not a phone number.")
        opt_out = opt_out_of(account, to)
        if opt_out is not None:
            return SendCheck(allowed=False, reason=opted_out_reason(to, opt_out))
        return SendCheck(allowed=True)

    def send(self, account: ChannelAccount, outbound: OutboundMessage) -> SendResult:
        try:
            to = normalize_address(ChannelKind.SMS, outbound.to_address)
        except ValidationError:
            raise ChannelError(
                f"{outbound.to_address!r} is not a phone number.", permanent=True
            ) from None
        opt_out = opt_out_of(account, to)
        if opt_out is not None:
            raise ChannelError(opted_out_reason(to, opt_out), permanent=True)
        text = outbound.text.strip()
        if outbound.attachments:
            names = ", ".join(item.name for item in outbound.attachments)
            raise ChannelError(
                f"SMS replies cannot carry files ({names}); send the text alone.", permanent=True
            )
        if not text:
            raise ChannelError("The message has no text.", permanent=True)
        if len(text) > MAX_BODY_CHARACTERS:
            raise ChannelError(
                f"The message has {len(text)} characters; an SMS takes at most "
                f"{MAX_BODY_CHARACTERS}.",
                permanent=True,
            )
        form = [("To", to), ("Body", text), ("StatusCallback", status_callback_url(account))]
        service = account.option("messaging_service_sid")
        if isinstance(service, str) and service.strip():
            form.append(("MessagingServiceSid", service.strip()))
        elif account.address:
            form.append(("From", account.address))
        else:
            raise ChannelError(
                "The account has no number (address) and no messaging_service_sid to send from.",
                permanent=True,
            )
        api = TwilioApi(credential(account, "account_sid"), credential(account, "auth_token"))
        return SendResult(provider_message_id=api.create_message(form))


# --- Helpers ---------------------------------------------------------------------------------


def _status(fields: dict[str, list[str]]) -> ParseResult:
    sid = field(fields, "MessageSid")
    reported = field(fields, "MessageStatus").strip().lower()
    if not sid or not reported:
        raise ChannelError(
            "The Twilio status callback has no MessageSid or status.", permanent=True
        )
    if reported in BEFORE_SENT:
        return ParseResult(
            ignored_reason=f"Twilio status {reported}: nothing the message does not show."
        )
    status = DELIVERY_STATUSES.get(reported)
    if status is None:
        return ParseResult(ignored_reason=f"Unknown Twilio status {reported!r}.")
    error = ""
    if status == Message.DeliveryStatus.FAILED:
        code = field(fields, "ErrorCode").strip()
        reason = explain(code, field(fields, "ErrorMessage").strip()) if code else ""
        error = f"Twilio reports the message {reported}" + (f": {reason}" if reason else ".")
    return ParseResult(
        statuses=(StatusUpdate(provider_message_id=sid, status=status, error=error),)
    )


def _media_name(url: str, content_type: str, index: int) -> str:
    stem = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or f"media-{index + 1}"
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    return stem if stem.endswith(extension) else stem + extension
