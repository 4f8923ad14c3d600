"""The Messenger and Instagram adapters: one implementation, two products
(``channels_inbox.meta_messaging.products``).

Reading (``parse``): one stored notification can hold several entries and events; every one
is read, oldest first.

- Entries for another Page or Instagram account than the account's ``page_id`` are left
  out (the webhook stores a post for each account it names). An account without its
  ``page_id`` fails its events until the credential is set and they are reprocessed.
- The customer is the PSID (Messenger) or IGSID (Instagram): the sender of what they send,
  the recipient of an echo. A new customer is named through the Graph user profile endpoint
  (cached; a failed lookup leaves the name empty and never fails the event).
- Text, quick replies (their text), postbacks (the button's title), shared posts, reels,
  links, locations, story mentions and replies to stories (with the story's link) are text;
  images, videos, audio and files are downloaded from their CDN links into attachments, a
  file that cannot be kept leaving a note in its place. Content we do not know becomes a
  line saying so. Chat threading: the customer's active conversation on the account
  continues; a reply to one of our messages points at its mid.
- Reactions and unsent (deleted) Instagram messages are automated messages, recorded on the
  ticket of the message they are about and never reopening it.
- Echoes (``is_echo``: what the Page sent, from Meta Business Suite or another tool) become
  outbound replies through ``tickets.services.record_sent_elsewhere``, which drops any whose
  mid one of our messages already has. The mids of the parts of our own replies are also
  remembered for a week (``_remember_sent``), so the echo of a part whose mid the reply row
  does not hold (a reply sent as text and files) is not imported either.
- Delivery and read receipts cover every message up to their watermark (Instagram's read
  receipt: the message seen and everything before it): each covered message of ours gets a
  delivery report (``watermarks.outbound_ids_up_to``). The pipeline only moves them forward.

Sending (``send``): through the Send API, ``POST /me/messages`` with the account's
``page_access_token``. Within 24 hours of the customer's last message anything may be sent
(``messaging_type`` RESPONSE); after that, only an account allowed the ``HUMAN_AGENT`` tag
(option ``human_agent_tag``) may reply, for up to 7 days, with ``messaging_type``
MESSAGE_TAG and that tag. Otherwise the reply is refused before any request
(``can_send_free_text`` says so beforehand). Text goes first, in pieces the product takes;
each file follows as its own message, uploaded with it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from typing import Any, ClassVar
from urllib.parse import quote

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
    ParseResult,
    SendCheck,
    SendResult,
    StatusUpdate,
    payload_bytes,
)
from channels_inbox.adapters.inbound import credential
from channels_inbox.adapters.transport import FilePart
from channels_inbox.meta.graph import GraphClient, GraphError, graph_timeout
from channels_inbox.meta_messaging.media import (
    FileRefusedError,
    OutboundFile,
    download_file,
    outbound_file,
    refusal_note,
)
from channels_inbox.meta_messaging.payloads import (
    DELIVERY,
    MESSAGE,
    POSTBACK,
    REACTION,
    READ,
    PayloadError,
    customer_id,
    deletion_text,
    describe_message,
    event_type,
    is_echo,
    postback_text,
    reaction_text,
    read_notification,
    read_receipt,
    sender_id,
    timestamp,
)
from channels_inbox.meta_messaging.products import INSTAGRAM, MESSENGER, PRODUCTS, Product
from channels_inbox.meta_messaging.watermarks import outbound_ids_up_to
from channels_inbox.models import ChannelAccount, InboundEvent
from customers.identities import normalize_address
from tickets.models import Message, Ticket
from tickets.services import InboundAttachment, InboundMessage

logger = logging.getLogger(__name__)

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
HUMAN_AGENT_TAG = "HUMAN_AGENT"
SEND_PATH = "me/messages"
# A name lookup must not hold up a conversation: shorter than the Graph timeout for sends.
PROFILE_TIMEOUT_SECONDS = 5.0
PROFILE_TTL_SECONDS = 24 * 3600
# A failed lookup is not repeated for every message while Graph is down.
PROFILE_FAILURE_TTL_SECONDS = 5 * 60
# Meta posts an echo within seconds and retries a webhook for about a day and a half.
SENT_BY_US_TTL_SECONDS = 7 * 24 * 3600
# Parts of a reply already sent, kept so a retry after a failure half-way sends only the
# rest. Longer than all of a reply's retries.
PROGRESS_TTL_SECONDS = 24 * 3600

# Graph error codes of the Send API and what they mean for sending (providers.md 2).
RATE_LIMIT_CODES = frozenset({4, 32, 613})
RETRYABLE_CODES = frozenset({1, 2, 1200}) | RATE_LIMIT_CODES
OUTSIDE_WINDOW = (
    "the message is outside the messaging window (24 hours after the customer's last "
    "message, or 7 days with the HUMAN_AGENT tag)"
)
# (code, subcode) first, then (code, None).
PERMANENT_REASONS: dict[tuple[int, int | None], str] = {
    (10, 2018278): f"{{label}} refused to deliver it: {OUTSIDE_WINDOW}",
    (10, None): (
        "The page is not allowed to send this message (a reply after 24 hours needs Meta's "
        "Human Agent permission for the app)"
    ),
    (551, None): (
        "The person cannot receive messages from the page right now (they may have blocked "
        "it, left the conversation or deactivated their account)"
    ),
    (200, None): (
        "The app lacks the permission to send this message, or the person does not accept "
        "messages from the page"
    ),
    (100, 2018001): "No matching user: the recipient is not someone who wrote to this page",
    (190, None): (
        "The account's page_access_token has expired or was revoked; update its credentials"
    ),
}


# --- The messaging window ------------------------------------------------------------------


@dataclass(frozen=True)
class SendingPolicy:
    """Whether a reply may go now, why, and the message tag it needs ("" for none)."""

    allowed: bool
    reason: str
    tag: str = ""


def _product_of(account: ChannelAccount) -> Product:
    return PRODUCTS.get(account.kind, MESSENGER)


def human_agent_tag_allowed(account: ChannelAccount) -> bool:
    """The account's option ``human_agent_tag``: the app has Meta's Human Agent permission."""
    return account.option("human_agent_tag") is True


def sending_policy(
    account: ChannelAccount, last_customer_message_at: datetime | None, now: datetime
) -> SendingPolicy:
    """What may be sent through ``account`` to a customer whose latest message on it arrived
    at ``last_customer_message_at``: anything for 24 hours; then, only when the account is
    allowed the HUMAN_AGENT tag, a reply with that tag until 7 days after the message;
    nothing otherwise. Pure, like ``can_send_free_text``."""
    label = _product_of(account).label
    if not account.is_active:
        return SendingPolicy(False, f"The {label} account {account.name} is deactivated.")
    if last_customer_message_at is None:
        return SendingPolicy(
            False,
            f"The customer has not written to this {label} account yet: {label} only lets a "
            "business answer people who wrote to it.",
        )
    closes_at = last_customer_message_at + STANDARD_WINDOW
    if now < closes_at:
        return SendingPolicy(True, f"Free text can be sent until {closes_at:%Y-%m-%d %H:%M} UTC.")
    tag_closes_at = last_customer_message_at + HUMAN_AGENT_WINDOW
    closed = (
        f"The 24-hour messaging window closed at {closes_at:%Y-%m-%d %H:%M} UTC (24 hours "
        "after the customer's last message)"
    )
    if not human_agent_tag_allowed(account):
        hint = ""
        if now < tag_closes_at:
            hint = (
                " An account allowed the HUMAN_AGENT tag (option human_agent_tag, which needs "
                "Meta's Human Agent permission) could still reply for up to 7 days."
            )
        return SendingPolicy(
            False, f"{closed}: nothing can be sent until the customer writes again.{hint}"
        )
    if now < tag_closes_at:
        return SendingPolicy(
            True,
            f"{closed}; a reply goes with the HUMAN_AGENT tag until "
            f"{tag_closes_at:%Y-%m-%d %H:%M} UTC (7 days after it).",
            tag=HUMAN_AGENT_TAG,
        )
    return SendingPolicy(
        False,
        f"The customer's last message is more than 7 days old: even with the HUMAN_AGENT tag "
        f"(until {tag_closes_at:%Y-%m-%d %H:%M} UTC) nothing can be sent until the customer "
        "writes again.",
    )


def can_send_free_text(
    account: ChannelAccount, last_customer_message_at: datetime | None, now: datetime
) -> tuple[bool, str]:
    """Whether an agent may send a reply through ``account`` to a customer whose latest
    message on it arrived at ``last_customer_message_at``, and why: a sentence fit for the
    agent, also when the answer is yes (until when, and whether the HUMAN_AGENT tag is
    used). Pure: the caller says when the customer last wrote (for a ticket,
    ``last_customer_message_at_on``) and what time it is."""
    policy = sending_policy(account, last_customer_message_at, now)
    return policy.allowed, policy.reason


def last_customer_message_at_on(account: ChannelAccount, ticket_id: int) -> datetime | None:
    """When the customer of ticket ``ticket_id`` last wrote to ``account``, on any of their
    tickets there: the window belongs to the Page (or Instagram account) and the person."""
    customer = Ticket.objects.filter(pk=ticket_id).values_list("customer_id", flat=True).first()
    if customer is None:
        return None
    latest: datetime | None = Ticket.objects.filter(
        customer_id=customer, channel_account=account
    ).aggregate(latest=Max("last_customer_message_at"))["latest"]
    return latest


# --- Errors --------------------------------------------------------------------------------


def sending_error(error: GraphError, product: Product) -> ChannelError:
    """A Send API failure as the pipeline's ChannelError: rate limits, 5xx and Meta's
    temporary failures are retried (after the provider's Retry-After when it gave one); the
    window, permission, blocked-person and token errors are final with what they mean;
    anything else is final with Meta's own words."""
    detail = error.describe()
    code = error.code if error.code is not None else -1
    reason = PERMANENT_REASONS.get((code, error.subcode)) or PERMANENT_REASONS.get((code, None))
    if reason is not None and not error.transient:
        return ChannelError(f"{reason.format(label=product.label)} ({detail}).", permanent=True)
    if error.transient or code in RETRYABLE_CODES:
        prefix = (
            f"{product.label} rate limit"
            if error.http_status == 429 or code in RATE_LIMIT_CODES
            else f"{product.label} did not take the message this time"
        )
        return ChannelError(f"{prefix}: {detail}", permanent=False, retry_after=error.retry_after)
    return ChannelError(f"{product.label} refused the message: {detail}", permanent=True)


# --- Text ----------------------------------------------------------------------------------


def split_text(text: str, limit: int, *, in_bytes: bool = False) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters (UTF-8 bytes with ``in_bytes``),
    cut at a line break or a space where one is near."""

    def fitting(rest: str) -> int:
        if not in_bytes:
            return limit
        return len(rest.encode("utf-8")[:limit].decode("utf-8", "ignore"))

    def size(piece: str) -> int:
        return len(piece.encode("utf-8")) if in_bytes else len(piece)

    pieces = []
    rest = text.strip()
    while size(rest) > limit:
        end = fitting(rest)
        cut = max(rest.rfind("\n", 0, end), rest.rfind(" ", 0, end))
        if cut < end // 2:
            cut = end
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _event_time(event: Any) -> float:
    moment = timestamp(event.get("timestamp"))
    return moment.timestamp() if moment is not None else 0.0


def profile_name(profile: dict[str, Any]) -> str:
    """A person's name from the user profile endpoint: first and last name (Messenger),
    name, else the Instagram @username."""
    parts = [profile.get("first_name"), profile.get("last_name")]
    name = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    if not name and isinstance(profile.get("name"), str):
        name = profile["name"].strip()
    username = profile.get("username")
    if not name and isinstance(username, str) and username.strip():
        name = f"@{username.strip().lstrip('@')}"
    return name[:200]


# --- The adapters --------------------------------------------------------------------------


class MetaMessagingAdapter(ChannelAdapter):
    product: ClassVar[Product]

    # --- Reading ---------------------------------------------------------------------------

    def parse(self, account: ChannelAccount, event: InboundEvent) -> ParseResult:
        label = self.product.label
        try:
            notification = read_notification(payload_bytes(event), self.product.webhook_object)
        except PayloadError as error:
            raise ChannelError(
                f"Unreadable {label} notification: {error}", permanent=True
            ) from error
        own_id = self._own_id(account)
        messages: list[InboundMessage] = []
        statuses: list[StatusUpdate] = []
        left_out: list[str] = []
        for entry in notification.entries:
            if entry.id != own_id:
                left_out.append(f"events for {entry.id or 'an unnamed account'}")
                continue
            left_out.extend(f"a {field} notification" for field in entry.other_fields)
            # A batch may list events out of order; the ticket shows them as they happened.
            for item in sorted(entry.events, key=_event_time):
                kind = event_type(item)
                if kind in (DELIVERY, READ):
                    statuses.extend(self._receipt(account, item, own_id, left_out))
                    continue
                inbound = None
                if kind == MESSAGE:
                    inbound = self._message(account, item, left_out)
                elif kind in (REACTION, POSTBACK) and sender_id(item) == own_id:
                    left_out.append(f"a {kind} by the account itself")
                elif kind == REACTION:
                    inbound = self._reaction(account, item, left_out)
                elif kind == POSTBACK:
                    inbound = self._postback(account, item, left_out)
                else:
                    left_out.append(f"a {kind} event")
                if inbound is not None:
                    messages.append(inbound)
        reason = ""
        if not (messages or statuses):
            reason = "Nothing to record: " + ("; ".join(left_out) if left_out else "no events")
        return ParseResult(
            messages=tuple(messages), statuses=tuple(statuses), ignored_reason=reason
        )

    def _address(self, raw: str, what: str, left_out: list[str]) -> str | None:
        try:
            return normalize_address(self.product.kind, raw)
        except ValidationError:
            logger.warning(
                "%s %s has no usable customer id (%r); left out", self.product.label, what, raw
            )
            left_out.append(f"{what} without a usable customer id")
            return None

    def _message(
        self, account: ChannelAccount, item: Any, left_out: list[str]
    ) -> InboundMessage | None:
        body = item[MESSAGE]
        mid = str(body["mid"]).strip()
        echo = is_echo(item)
        address = self._address(customer_id(item), f"message {mid}", left_out)
        if address is None:
            return None
        received_at = timestamp(item.get("timestamp"))
        if body.get("is_deleted") is True:
            if echo:
                left_out.append(f"message {mid} the account unsent")
                return None
            return InboundMessage(
                channel=self.product.kind,
                sender_address=address,
                text=deletion_text(self._quoted(account, mid)),
                provider_message_id=f"deleted:{mid}",
                references=(mid,),
                starts_conversation=False,
                received_at=received_at,
                is_automated=True,
                automated_reason="unsent",
            )
        if echo and self._sent_by_us(account, mid):
            left_out.append(f"the echo of our own message {mid}")
            return None
        content = describe_message(body, self.product.label)
        notes = [content.text]
        attachments: list[InboundAttachment] = []
        for reference in content.files:
            try:
                attachments.append(
                    download_file(reference, max_bytes=settings.MAX_ATTACHMENT_BYTES)
                )
            except FileRefusedError as refusal:
                logger.warning(
                    "%s message %s: %s not kept: %s",
                    self.product.label,
                    mid,
                    reference.kind,
                    refusal,
                )
                notes.append(refusal_note(reference, str(refusal)))
        text = "\n\n".join(note for note in notes if note)
        if not (text.strip() or attachments):
            # Stored all the same: a message the tickets refuse would fail the whole batch.
            text = f"[An empty {self.product.label} message.]"
        return InboundMessage(
            channel=self.product.kind,
            sender_address=address,
            sender_name=self._profile_name(account, address),
            text=text,
            attachments=tuple(attachments),
            provider_message_id=mid,
            references=content.references,
            starts_conversation=False,
            received_at=received_at,
            sent_elsewhere=echo,
        )

    def _reaction(
        self, account: ChannelAccount, item: Any, left_out: list[str]
    ) -> InboundMessage | None:
        body = item[REACTION]
        target = str(body.get("mid") or "").strip()
        address = self._address(sender_id(item), f"a reaction to {target}", left_out)
        if address is None:
            return None
        when = str(item.get("timestamp") or "")
        return InboundMessage(
            channel=self.product.kind,
            sender_address=address,
            text=reaction_text(body, self._quoted(account, target)),
            # Reactions have no id of their own; this one is unique and stable.
            provider_message_id=f"reaction:{when}:{body.get('action') or 'react'}:{target}",
            references=(target,) if target else (),
            starts_conversation=False,
            received_at=timestamp(item.get("timestamp")),
            is_automated=True,
            automated_reason="reaction",
        )

    def _postback(
        self, account: ChannelAccount, item: Any, left_out: list[str]
    ) -> InboundMessage | None:
        body = item[POSTBACK]
        who = sender_id(item)
        address = self._address(who, "a postback", left_out)
        if address is None:
            return None
        mid = str(body.get("mid") or "").strip()
        return InboundMessage(
            channel=self.product.kind,
            sender_address=address,
            sender_name=self._profile_name(account, address),
            text=postback_text(body),
            provider_message_id=mid or f"postback:{item.get('timestamp')}:{who}",
            starts_conversation=False,
            received_at=timestamp(item.get("timestamp")),
        )

    def _receipt(
        self, account: ChannelAccount, item: Any, own_id: str, left_out: list[str]
    ) -> list[StatusUpdate]:
        receipt = read_receipt(item)
        kind = event_type(item)
        who = sender_id(item)
        address = None if who == own_id else self._address(who, f"a {kind} receipt", left_out)
        covered = list(receipt.mids)
        if address is not None and receipt.up_to is not None:
            covered += outbound_ids_up_to(
                account, address, status=receipt.status, up_to=receipt.up_to
            )
        if not covered:
            left_out.append(f"a {kind} receipt covering none of our messages")
            return []
        occurred_at = receipt.up_to or timestamp(item.get("timestamp"))
        return [
            StatusUpdate(provider_message_id=mid, status=receipt.status, occurred_at=occurred_at)
            for mid in dict.fromkeys(covered)
        ]

    def _quoted(self, account: ChannelAccount, mid: str) -> str:
        """The text of the message a reaction or an unsend is about, when we know it."""
        if not mid:
            return ""
        text = (
            Message.objects.filter(channel_account=account, provider_message_id=mid)
            .values_list("text", flat=True)
            .first()
        )
        return text or ""

    def _profile_name(self, account: ChannelAccount, user_id: str) -> str:
        """The person's name from the Graph user profile endpoint, cached; "" when the
        lookup fails (the permission is missing, the person blocked the page, Graph is
        down), which never fails the event."""
        token = credential(account, "page_access_token")
        if not token:
            return ""
        key = f"meta-messaging-profile:{account.pk}:{user_id}"
        cached = cache.get(key)
        if isinstance(cached, str):
            return cached
        client = GraphClient(token, timeout=min(graph_timeout(), PROFILE_TIMEOUT_SECONDS))
        try:
            profile = client.get_json(
                f"{quote(user_id, safe='')}?fields={self.product.profile_fields}"
            )
        except (GraphError, ChannelError) as error:
            logger.info("%s name lookup for %s failed: %s", self.product.label, user_id, error)
            cache.set(key, "", PROFILE_FAILURE_TTL_SECONDS)
            return ""
        name = profile_name(profile)
        cache.set(key, name, PROFILE_TTL_SECONDS)
        return name

    def _own_id(self, account: ChannelAccount) -> str:
        page_id = credential(account, "page_id")
        if not page_id:
            raise ChannelError(
                f"The {self.product.label} account {account.slug} has no page_id credential.",
                permanent=True,
            )
        return page_id

    def _client(self, account: ChannelAccount) -> GraphClient:
        token = credential(account, "page_access_token")
        if not token:
            raise ChannelError(
                f"The {self.product.label} account {account.slug} has no page_access_token "
                "credential to send with.",
                permanent=True,
            )
        return GraphClient(token)

    # --- What we sent ourselves ------------------------------------------------------------

    @staticmethod
    def _sent_key(account: ChannelAccount, mid: str) -> str:
        return f"meta-messaging-sent:{account.pk}:{mid}"

    def _remember_sent(self, account: ChannelAccount, mid: str, message_id: int) -> None:
        cache.set(self._sent_key(account, mid), message_id, SENT_BY_US_TTL_SECONDS)

    def _sent_by_us(self, account: ChannelAccount, mid: str) -> bool:
        return cache.get(self._sent_key(account, mid)) is not None

    # --- Sending ---------------------------------------------------------------------------

    def can_send(self, account: ChannelAccount, ticket: Ticket) -> SendCheck:
        """The messaging window, and the HUMAN_AGENT tag's 7 days for an account allowed it."""
        allowed, reason = can_send_free_text(
            account, last_customer_message_at_on(account, ticket.pk), timezone.now()
        )
        return SendCheck(allowed=allowed, reason=reason)

    def send(self, account: ChannelAccount, outbound: OutboundMessage) -> SendResult:
        """Send a reply as text and files. Refused (permanently, before any request) when
        the messaging window does not allow it; see ``sending_policy``."""
        policy = sending_policy(
            account, last_customer_message_at_on(account, outbound.ticket_id), timezone.now()
        )
        if not policy.allowed:
            raise ChannelError(policy.reason, permanent=True)
        files = [outbound_file(attachment, self.product) for attachment in outbound.attachments]
        # Both products show plain text only; a reply written as HTML alone goes as its text.
        body_text = outbound.text if outbound.text.strip() else unescape(strip_tags(outbound.html))
        parts: list[str | OutboundFile] = [
            *split_text(
                body_text, self.product.max_text, in_bytes=self.product.text_limit_in_bytes
            ),
            *files,
        ]
        if not parts:
            raise ChannelError("The reply has no text and no files to send.", permanent=True)
        if not outbound.to_address.strip():
            raise ChannelError("The customer has no id to send to.", permanent=True)
        client = self._client(account)
        # Sends are not idempotent: each part sent is remembered, so a retry after a failure
        # half-way (a rate limit on the second file) sends only the rest.
        progress_key = f"meta-messaging-progress:{account.pk}:{outbound.message_id}"
        sent: dict[str, str] = dict(cache.get(progress_key) or {})
        for index, part in enumerate(parts):
            if str(index) in sent:
                continue
            mid = self._send_part(client, outbound.to_address.strip(), part, policy)
            self._remember_sent(account, mid, outbound.message_id)
            sent[str(index)] = mid
            if len(parts) > 1:
                cache.set(progress_key, sent, PROGRESS_TTL_SECONDS)
        cache.delete(progress_key)
        # The last part stands for the reply: its receipts are the last to come.
        return SendResult(sent[str(len(parts) - 1)])

    def _send_part(
        self, client: GraphClient, to: str, part: str | OutboundFile, policy: SendingPolicy
    ) -> str:
        routing = {"messaging_type": "RESPONSE"}
        if policy.tag:
            routing = {"messaging_type": "MESSAGE_TAG", "tag": policy.tag}
        try:
            if isinstance(part, str):
                answer = client.post_json(
                    SEND_PATH, {"recipient": {"id": to}, **routing, "message": {"text": part}}
                )
            else:
                attachment = {"attachment": {"type": part.kind, "payload": {"is_reusable": False}}}
                answer = client.post_multipart(
                    SEND_PATH,
                    [
                        ("recipient", json.dumps({"id": to})),
                        *routing.items(),
                        ("message", json.dumps(attachment)),
                    ],
                    [
                        FilePart(
                            field="filedata",
                            filename=part.attachment.name,
                            content_type=part.content_type,
                            content=part.attachment.content,
                        )
                    ],
                )
        except GraphError as error:
            raise sending_error(error, self.product) from error
        mid = answer.get("message_id")
        if not isinstance(mid, str) or not mid:
            # Accepted, but we cannot tell which message it became: sending again could
            # duplicate it, so this is final.
            raise ChannelError(
                f"{self.product.label} accepted the message without giving its id; it may "
                "have been sent.",
                permanent=True,
            )
        return mid


class MessengerAdapter(MetaMessagingAdapter):
    kind: ClassVar[str] = MESSENGER.kind
    product: ClassVar[Product] = MESSENGER


class InstagramAdapter(MetaMessagingAdapter):
    kind: ClassVar[str] = INSTAGRAM.kind
    product: ClassVar[Product] = INSTAGRAM
