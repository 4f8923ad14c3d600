"""The WhatsApp Business Cloud API channel.

Credentials (write-only, in ``ChannelAccount.credentials``): ``app_secret`` (the Meta app's
App Secret, which signs every notification), ``verify_token`` (our answer to Meta's
subscription handshake), ``access_token`` (a system-user token for the Graph API) and
``phone_number_id`` (the business number's id, which sends and which notifications name).
The account takes no options. The Graph API base and version are the setting
``META_GRAPH_API_URL`` (``channels_inbox.meta.graph``).

Reading (``parse``): one stored notification can hold several entries, changes, messages
and statuses; every one of them is read.

- Changes for another ``phone_number_id`` than the account's are left out (the webhook
  stores a post for each account whose number it names), as are fields other than
  ``messages`` (template reviews, account updates). An account without its
  ``phone_number_id`` fails its events until the credential is set and they are reprocessed.
- The sender is ``from`` (the wa_id, digits without ``+``) in E.164, named after
  ``contacts[].profile.name``. Chat threading: the customer's active conversation on the
  account continues (``starts_conversation`` False); a reply to one of our messages or a
  reaction to it points at its wamid (``references``), which finds its ticket first.
- Text, captions, locations (with a map link), shared contacts, button and list replies,
  orders are text; images, videos, audio, voice messages, documents and stickers are
  downloaded into attachments (``media.download_media``). A file that cannot be kept (gone,
  too large, not matching its sha256) leaves a note in the message in its place. Reactions
  and system notices are recorded as automated messages (see ``payloads.describe_message``).
  Types we do not know become a message saying so.
- Statuses become delivery reports: sent, delivered, read (and "played", a voice message
  listened to, as read), failed with WhatsApp's reason. The pipeline only moves them forward.

Sending (``send``): free text only inside the 24-hour customer service window
(``can_send_free_text``), refused before any request outside it; attachments are uploaded
and sent one message each, the text going as the caption of the first file that shows one
(or as its own message first). Outside the window only an approved template can be sent:
``send_template``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import unescape
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from django.utils.html import strip_tags

from channels_inbox.adapters.base import (
    ChannelAdapter,
    ChannelError,
    OutboundMessage,
    OutboundTemplate,
    ParseResult,
    SendCheck,
    SendResult,
    StatusUpdate,
    TemplateChoice,
    payload_bytes,
)
from channels_inbox.adapters.inbound import credential
from channels_inbox.meta.graph import GraphClient, GraphError
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.whatsapp.media import (
    CAPTIONED_TYPES,
    MAX_CAPTION_LENGTH,
    MediaRefusedError,
    OutboundMedia,
    download_media,
    outbound_media,
    refusal_note,
    upload_media,
)
from channels_inbox.whatsapp.models import WhatsAppTemplate
from channels_inbox.whatsapp.payloads import (
    MESSAGES_FIELD,
    Change,
    PayloadError,
    describe_message,
    reaction_text,
    read_notification,
    read_status,
    timestamp,
)
from channels_inbox.whatsapp.templates import parameter_count, parameter_problem
from customers.identities import normalize_address
from helpdesk.channel_kinds import ChannelKind
from tickets.models import Message, Ticket
from tickets.services import InboundAttachment, InboundMessage

logger = logging.getLogger(__name__)

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
MAX_TEXT_LENGTH = 4096
# Parts of a reply already sent, kept so a retry after a failure half-way (a pair rate limit
# on the third photo) sends only the rest. Longer than all of a reply's retries.
PROGRESS_TTL_SECONDS = 24 * 3600
# Meta's pair rate limit (131056) allows about one message per six seconds to one user.
PAIR_RATE_LIMIT_WAIT_SECONDS = 6.0

# Graph error codes WhatsApp answers with, and what they mean for sending (providers.md 1.4).
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})
RETRYABLE_CODES = frozenset({1, 2, 131000, 131016}) | RATE_LIMIT_CODES
PERMANENT_REASONS = {
    131047: (
        "The 24-hour customer service window has closed; only an approved template message "
        "can reach the customer now"
    ),
    131026: (
        "The message cannot be delivered to this number (not on WhatsApp, an old app, or "
        "WhatsApp's terms not accepted)"
    ),
    131021: "The recipient is the business number itself",
    131030: "The recipient is not in the account's allowed list of test numbers",
    131048: "WhatsApp's spam limit was reached for this number; wait before sending again",
    131049: "WhatsApp did not deliver the message to keep the ecosystem healthy",
    131051: "WhatsApp does not support this message type",
    131052: "WhatsApp could not download the media",
    131053: "WhatsApp could not take the uploaded media",
    132000: "The number of template parameters does not match the approved template",
    132001: "The template does not exist in this language or is not approved",
    132012: "A template parameter has the wrong format",
    131009: "A parameter of the message is not valid (often the recipient's number)",
    100: "WhatsApp refused a parameter of the message (often the recipient's number)",
    190: "The account's access_token has expired or was revoked; update its credentials",
}


# --- The customer service window -----------------------------------------------------------


def customer_service_window_closes_at(last_customer_message_at: datetime | None) -> datetime | None:
    """When free text stops being allowed: 24 hours after the customer's latest message on
    the number; None when the customer never wrote."""
    if last_customer_message_at is None:
        return None
    return last_customer_message_at + CUSTOMER_SERVICE_WINDOW


def can_send_free_text(
    account: ChannelAccount, last_customer_message_at: datetime | None, now: datetime
) -> tuple[bool, str]:
    """Whether an agent may send free text (anything but a template) through ``account`` to
    a customer whose latest message on it arrived at ``last_customer_message_at``, and why.

    WhatsApp allows free text for 24 hours after each customer message; outside that window
    only an approved template may be sent (``send_template``), and WhatsApp itself refuses
    free text with error 131047. Pure: the caller says when the customer last wrote (for a
    ticket, ``last_customer_message_at_on``) and what time it is. The reason is a sentence
    fit for the agent, also when the answer is yes (when the window closes)."""
    if not account.is_active:
        return False, f"The WhatsApp account {account.name} is deactivated."
    closes_at = customer_service_window_closes_at(last_customer_message_at)
    if closes_at is None:
        return False, (
            "The customer has not written to this WhatsApp number yet: only an approved "
            "template message can start the conversation."
        )
    if now >= closes_at:
        return False, (
            f"The 24-hour customer service window closed at {closes_at:%Y-%m-%d %H:%M} UTC "
            "(24 hours after the customer's last message): only an approved template message "
            "can be sent until the customer writes again."
        )
    return True, f"Free text can be sent until {closes_at:%Y-%m-%d %H:%M} UTC."


def last_customer_message_at_on(account: ChannelAccount, ticket_id: int) -> datetime | None:
    """When the customer of ticket ``ticket_id`` last wrote to ``account``, on any of their
    tickets there: WhatsApp's window belongs to the number and the person, not to a ticket."""
    customer_id = Ticket.objects.filter(pk=ticket_id).values_list("customer_id", flat=True).first()
    if customer_id is None:
        return None
    latest: datetime | None = Ticket.objects.filter(
        customer_id=customer_id, channel_account=account
    ).aggregate(latest=Max("last_customer_message_at"))["latest"]
    return latest


# --- Errors --------------------------------------------------------------------------------


def sending_error(error: GraphError) -> ChannelError:
    """A Graph failure while sending, as the pipeline's ChannelError: rate limits, 5xx,
    WhatsApp's "try again" codes and requests that got no answer are retried (after the
    provider's Retry-After when it gave one); everything else is final, with WhatsApp's own
    words and what they mean."""
    detail = error.describe()
    if error.code in PERMANENT_REASONS:
        return ChannelError(f"{PERMANENT_REASONS[error.code]} ({detail}).", permanent=True)
    if error.transient or error.code in RETRYABLE_CODES:
        retry_after = error.retry_after
        if retry_after is None and error.code == 131056:
            retry_after = PAIR_RATE_LIMIT_WAIT_SECONDS
        prefix = (
            "WhatsApp rate limit"
            if error.http_status == 429 or error.code in RATE_LIMIT_CODES
            else "WhatsApp did not take the message this time"
        )
        return ChannelError(f"{prefix}: {detail}", permanent=False, retry_after=retry_after)
    return ChannelError(f"WhatsApp refused the message: {detail}", permanent=True)


# --- The adapter ---------------------------------------------------------------------------


def _sender_address(wa_id: str) -> str:
    """The wa_id (digits, no "+") in E.164; ValidationError when it is not a number."""
    return normalize_address(ChannelKind.WHATSAPP, f"+{wa_id.lstrip('+')}")


def _sent_at(item: Any) -> float:
    sent_at = timestamp(item.get("timestamp"))
    return sent_at.timestamp() if sent_at is not None else 0.0


def _split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """``text`` in pieces WhatsApp takes, cut at a line break or a space where one is near."""
    pieces = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


class WhatsAppAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.WHATSAPP

    # --- Reading ---------------------------------------------------------------------------

    def parse(self, account: ChannelAccount, event: InboundEvent) -> ParseResult:
        try:
            notification = read_notification(payload_bytes(event))
        except PayloadError as error:
            raise ChannelError(
                f"Unreadable WhatsApp notification: {error}", permanent=True
            ) from error
        # Without it the account cannot tell its own number's messages from those of the
        # app's other numbers; failed, the event waits for the credential and a reprocess.
        own_number = self._phone_number_id(account)
        messages: list[InboundMessage] = []
        statuses: list[StatusUpdate] = []
        left_out: list[str] = []
        for change in notification.changes:
            if change.field != MESSAGES_FIELD:
                left_out.append(f"a {change.field or 'unnamed'} notification")
                continue
            if change.phone_number_id != own_number:
                left_out.append(f"notifications for phone number id {change.phone_number_id}")
                continue
            for problem in change.errors:
                logger.warning("WhatsApp reported an error to %s: %r", account.slug, problem)
                left_out.append(f"an error report ({problem.get('code')}: {problem.get('title')})")
            # A batch may list messages out of order; the ticket shows them as written.
            for item in sorted(change.messages, key=_sent_at):
                inbound = self._read_message(account, change, item, left_out)
                if inbound is not None:
                    messages.append(inbound)
            for item in change.statuses:
                report = read_status(item)
                if report is None:
                    left_out.append(f"a {item.get('status')!r} status")
                    continue
                statuses.append(
                    StatusUpdate(
                        provider_message_id=report.provider_message_id,
                        status=report.status,
                        error=report.error,
                        occurred_at=report.occurred_at,
                    )
                )
        reason = ""
        if not (messages or statuses):
            reason = "Nothing to record: " + ("; ".join(left_out) if left_out else "no messages")
        return ParseResult(
            messages=tuple(messages), statuses=tuple(statuses), ignored_reason=reason
        )

    def _read_message(
        self,
        account: ChannelAccount,
        change: Change,
        item: Any,
        left_out: list[str],
    ) -> InboundMessage | None:
        wamid = str(item.get("id"))
        wa_id = str(item.get("from") or "").strip()
        if not wa_id:
            # Users with a WhatsApp username may arrive with a business-scoped id only; a
            # phone identity cannot hold them yet.
            logger.warning("WhatsApp message %s has no sender number; left out", wamid)
            left_out.append(f"message {wamid} without a sender number")
            return None
        try:
            sender = _sender_address(wa_id)
        except ValidationError:
            logger.warning("WhatsApp message %s comes from %r, not a phone number", wamid, wa_id)
            left_out.append(f"message {wamid} from {wa_id!r}, not a phone number")
            return None
        content = describe_message(item)
        text = content.text
        attachments: tuple[InboundAttachment, ...] = ()
        if content.media is not None:
            client = self._client(account, purpose="download media")
            try:
                attachments = (
                    download_media(client, content.media, max_bytes=settings.MAX_ATTACHMENT_BYTES),
                )
            except MediaRefusedError as refusal:
                logger.warning("WhatsApp message %s: file not kept: %s", wamid, refusal)
                note = refusal_note(content.media, str(refusal))
                text = f"{text}\n\n{note}" if text else note
        if content.automated_reason == "reaction":
            text = reaction_text(content.emoji, self._quoted(account, content.reacted_to))
        if not (text.strip() or attachments):
            # Stored all the same: a message the tickets refuse would fail the whole batch.
            text = f"[An empty WhatsApp {item.get('type') or 'message'} message.]"
        return InboundMessage(
            channel=ChannelKind.WHATSAPP,
            sender_address=sender,
            sender_name=change.profile_names.get(wa_id, ""),
            text=text,
            attachments=attachments,
            provider_message_id=wamid,
            references=content.references,
            starts_conversation=False,
            received_at=timestamp(item.get("timestamp")),
            is_automated=bool(content.automated_reason),
            automated_reason=content.automated_reason,
        )

    def _quoted(self, account: ChannelAccount, wamid: str) -> str:
        """The text of the message a reaction is about, when it is one we know."""
        if not wamid:
            return ""
        text = (
            Message.objects.filter(channel_account=account, provider_message_id=wamid)
            .values_list("text", flat=True)
            .first()
        )
        return text or ""

    def _client(self, account: ChannelAccount, *, purpose: str) -> GraphClient:
        token = credential(account, "access_token")
        if not token:
            raise ChannelError(
                f"The WhatsApp account {account.slug} has no access_token credential to "
                f"{purpose} with.",
                permanent=True,
            )
        return GraphClient(token)

    def _phone_number_id(self, account: ChannelAccount) -> str:
        phone_number_id = credential(account, "phone_number_id")
        if not phone_number_id:
            raise ChannelError(
                f"The WhatsApp account {account.slug} has no phone_number_id credential.",
                permanent=True,
            )
        return phone_number_id

    # --- Sending ---------------------------------------------------------------------------

    def can_send(self, account: ChannelAccount, ticket: Ticket) -> SendCheck:
        """The customer service window; outside it, the account's approved templates."""
        allowed, reason = can_send_free_text(
            account, last_customer_message_at_on(account, ticket.pk), timezone.now()
        )
        if allowed:
            return SendCheck(allowed=True, reason=reason)
        templates = tuple(
            TemplateChoice(
                name=template.name,
                language=template.language,
                body=template.body,
                parameter_count=parameter_count(template),
            )
            for template in WhatsAppTemplate.objects.filter(channel_account=account)
        )
        return SendCheck(allowed=False, reason=reason, templates=templates)

    def send(self, account: ChannelAccount, outbound: OutboundMessage) -> SendResult:
        """Send a reply as free text and files. Refused (permanently, before any request)
        outside the customer service window; a reply the agent chose as a template
        (``outbound.template``) goes by ``send_template``, in or out of the window."""
        if outbound.template is not None:
            return self._send_template_reply(account, outbound, outbound.template)
        allowed, reason = can_send_free_text(
            account, last_customer_message_at_on(account, outbound.ticket_id), timezone.now()
        )
        if not allowed:
            raise ChannelError(reason, permanent=True)
        phone_number_id = self._phone_number_id(account)
        media = [outbound_media(attachment) for attachment in outbound.attachments]
        # WhatsApp shows plain text only; a reply written as HTML alone goes as its text.
        body_text = outbound.text if outbound.text.strip() else unescape(strip_tags(outbound.html))
        parts = self._parts(body_text, media)
        if not parts:
            raise ChannelError("The reply has no text and no files to send.", permanent=True)
        client = self._client(account, purpose="send")
        to = outbound.to_address.lstrip("+")
        callback = f"switchboard-message-{outbound.message_id}"
        if len(parts) == 1:
            body = self._part_body(client, phone_number_id, parts[0])
            return SendResult(self._post_message(client, phone_number_id, to, body, callback))
        # Several WhatsApp messages for one reply. Sends are not idempotent, so each one sent
        # is remembered: a retry after a failure half-way sends only the rest.
        progress_key = f"whatsapp-reply-progress:{account.pk}:{outbound.message_id}"
        sent: dict[str, str] = dict(cache.get(progress_key) or {})
        for index, part in enumerate(parts):
            if str(index) in sent:
                continue
            body = self._part_body(client, phone_number_id, part)
            sent[str(index)] = self._post_message(client, phone_number_id, to, body, callback)
            cache.set(progress_key, sent, PROGRESS_TTL_SECONDS)
        cache.delete(progress_key)
        # Reports for the last part stand for the reply: it is the last one to arrive.
        return SendResult(sent[str(len(parts) - 1)])

    def _send_template_reply(
        self, account: ChannelAccount, outbound: OutboundMessage, chosen: OutboundTemplate
    ) -> SendResult:
        template = WhatsAppTemplate.objects.filter(
            channel_account=account, name=chosen.name, language=chosen.language
        ).first()
        if template is None:
            raise ChannelError(
                f"The template {chosen.name} ({chosen.language}) is no longer among the "
                "account's approved templates.",
                permanent=True,
            )
        return self.send_template(
            account,
            to_address=outbound.to_address,
            template=template,
            parameters=chosen.parameters,
            message_id=outbound.message_id,
        )

    def send_template(
        self,
        account: ChannelAccount,
        *,
        to_address: str,
        template: WhatsAppTemplate,
        parameters: Sequence[str],
        message_id: int | None = None,
    ) -> SendResult:
        """Send an approved template with its body parameters, in or out of the customer
        service window. A permanent ChannelError before any request when the template is
        another account's or the parameters do not fit it (``templates.parameter_problem``);
        Graph failures are classified like ``send``'s. ``message_id`` (our outbound
        Message) is echoed back in status reports as ``biz_opaque_callback_data``."""
        if template.channel_account_id != account.pk:
            raise ChannelError(
                f"The template {template.name} belongs to another account.", permanent=True
            )
        problem = parameter_problem(template, parameters)
        if problem:
            raise ChannelError(problem, permanent=True)
        phone_number_id = self._phone_number_id(account)
        client = self._client(account, purpose="send")
        body: dict[str, Any] = {
            "type": "template",
            "template": {"name": template.name, "language": {"code": template.language}},
        }
        if parameters:
            body["template"]["components"] = [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": value} for value in parameters],
                }
            ]
        callback = f"switchboard-message-{message_id}" if message_id is not None else ""
        return SendResult(
            self._post_message(client, phone_number_id, to_address.lstrip("+"), body, callback)
        )

    def _parts(self, text: str, media: list[OutboundMedia]) -> list[tuple[str, Any]]:
        """The WhatsApp messages a reply becomes: ("text", body) or ("media", (file,
        caption)). The text rides as the caption of the first file that shows one when it
        fits; otherwise it goes first, as text."""
        text = text.strip()
        caption_index = None
        if text and len(text) <= MAX_CAPTION_LENGTH:
            caption_index = next(
                (index for index, item in enumerate(media) if item.kind in CAPTIONED_TYPES), None
            )
        parts: list[tuple[str, Any]] = []
        if text and caption_index is None:
            parts.extend(("text", piece) for piece in _split_text(text))
        for index, item in enumerate(media):
            parts.append(("media", (item, text if index == caption_index else "")))
        return parts

    def _part_body(
        self, client: GraphClient, phone_number_id: str, part: tuple[str, Any]
    ) -> dict[str, Any]:
        kind, value = part
        if kind == "text":
            return {"type": "text", "text": {"preview_url": False, "body": value}}
        item, caption = value
        try:
            media_id = upload_media(client, phone_number_id, item)
        except GraphError as error:
            raise sending_error(error) from error
        payload: dict[str, Any] = {"id": media_id}
        if caption:
            payload["caption"] = caption
        if item.kind == "document":
            payload["filename"] = item.attachment.name
        return {"type": item.kind, item.kind: payload}

    def _post_message(
        self,
        client: GraphClient,
        phone_number_id: str,
        to: str,
        body: dict[str, Any],
        callback: str,
    ) -> str:
        request = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            **body,
        }
        if callback:
            request["biz_opaque_callback_data"] = callback
        try:
            answer = client.post_json(f"{phone_number_id}/messages", request)
        except GraphError as error:
            raise sending_error(error) from error
        sent = answer.get("messages")
        first = sent[0] if isinstance(sent, list) and sent else None
        wamid = first.get("id") if isinstance(first, dict) else None
        if not isinstance(wamid, str) or not wamid:
            # Accepted, but we cannot tell which message it became: sending again could
            # duplicate it, so this is final.
            raise ChannelError(
                "WhatsApp accepted the message without giving its id; it may have been sent.",
                permanent=True,
            )
        return wamid
