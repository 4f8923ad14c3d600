"""Every change to tickets and messages goes through these functions.

Each one locks the ticket row first, writes the change and its ``TicketActivity`` rows in one
transaction, and emits its events through ``helpdesk.events.emit()``, which delivers them
only after commit. Callers get back the fresh ticket; the instance they passed in is stale.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, router, transaction
from django.db.models import F, Max, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.text import get_valid_filename

from customers.identities import normalize_address
from customers.models import Customer, Identity, Order
from customers.services import resolve_sender, resolve_senders
from helpdesk.events import (
    AgentMentioned,
    MessageCreated,
    MessageQueued,
    MessageUpdated,
    TicketCreated,
    TicketsMerged,
    TicketUpdated,
    emit,
    enqueue_on_commit,
)
from helpdesk.models import Sequence as Counter
from helpdesk.models import Team, User
from tickets.html import sanitize_html
from tickets.models import Attachment, Message, Tag, Ticket, TicketActivity

Status = Ticket.Status
Verb = TicketActivity.Verb

TICKET_NUMBER_SEQUENCE = "ticket_number"
MAX_TAG_LENGTH = 50
SUBJECT_FROM_TEXT_LENGTH = 80


class TicketError(Exception):
    """A change that is not allowed in the ticket's current state; fit to show the agent."""


# --- Inputs from channels ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class InboundAttachment:
    name: str
    content_type: str
    content: bytes
    content_id: str = ""


@dataclasses.dataclass(frozen=True)
class InboundMessage:
    """A customer message, normalized by its channel adapter. Nothing channel-specific
    crosses this line: the adapter turns its provider's threading data into ``references``,
    a verified ``ticket_number``, a ``thread_subject`` and ``starts_conversation``, and
    ``find_continued_ticket`` applies the same rules to every channel."""

    channel: str
    sender_address: str
    sender_name: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""
    attachments: tuple[InboundAttachment, ...] = ()
    provider_message_id: str = ""
    # Provider ids of earlier messages, most telling first: an email adapter puts
    # In-Reply-To first, then References from the last (the direct parent) to the first.
    references: tuple[str, ...] = ()
    # True when the channel threads by its own data alone: every email (references, ticket
    # token, subject), so an email that matches none of them opens a new ticket. False for
    # chat channels, where the customer's active conversation on the account continues.
    starts_conversation: bool = False
    received_at: datetime | None = None
    # A ticket token. "address": from a signed reply-to address, trusted whoever sends it,
    # since only someone who received our mail can know it. "subject": a "[#1234]" tag,
    # which anyone can type, so it only counts for a ticket of the same customer.
    ticket_number: int | None = None
    ticket_number_source: str = ""
    # Reply and forward prefixes stripped, casefolded; compared with the subjects of the
    # customer's tickets that are not closed and saw a message within ``subject_window``.
    thread_subject: str = ""
    subject_window: timedelta | None = None  # None: no subject matching
    is_automated: bool = False  # an auto-reply, a bounce, list mail
    automated_reason: str = ""
    # Not the customer writing: a message the business sent them outside Switchboard (from
    # the provider's own app), which the channel reports back. ``sender_address`` is then
    # the customer it went to; see ``record_sent_elsewhere``.
    sent_elsewhere: bool = False


@dataclasses.dataclass(frozen=True)
class OutboundAttachment:
    name: str
    content_type: str
    content: bytes


# --- Helpers -------------------------------------------------------------------------------


def _lock(ticket: Ticket | int) -> Ticket:
    pk = ticket if isinstance(ticket, int) else ticket.pk
    return Ticket.objects.select_for_update().get(pk=pk)


def _lock_pair(first: Ticket, second: Ticket) -> tuple[Ticket, Ticket]:
    """Lock two tickets in primary-key order, so two merges in opposite directions cannot
    deadlock."""
    rows = {
        t.pk: t
        for t in Ticket.objects.select_for_update()
        .filter(pk__in=[first.pk, second.pk])
        .order_by("pk")
    }
    return rows[first.pk], rows[second.pk]


def _record(ticket: Ticket, verb: str, actor: User | None, **data: Any) -> TicketActivity:
    return TicketActivity.objects.create(ticket=ticket, verb=verb, actor=actor, data=data)


def record_automation_activity(
    ticket: Ticket | int, verb: str, summary: str, *, actor: User | None = None, **data: Any
) -> TicketActivity:
    """Write why automation did something to the ticket's timeline: ``summary`` is the
    sentence shown ("rule “VIP customers” set priority to Urgent"), ``data`` the details
    (rule or policy id, actions). ``verb`` is one of the automation verbs of
    ``TicketActivity.Verb``."""
    ticket_id = ticket if isinstance(ticket, int) else ticket.pk
    return TicketActivity.objects.create(
        ticket_id=ticket_id, verb=verb, actor=actor, data={"summary": summary, **data}
    )


def record_automation_activities(
    entries: Iterable[tuple[int, str, str, dict[str, Any]]],
) -> list[TicketActivity]:
    """``record_automation_activity`` for many tickets in one INSERT: (ticket id, verb,
    summary, data) each. For sweeps that write one line on each of hundreds of tickets."""
    return TicketActivity.objects.bulk_create(
        TicketActivity(ticket_id=ticket_id, verb=verb, data={"summary": summary, **data})
        for ticket_id, verb, summary, data in entries
    )


def _user_ref(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": user.name}


def _save(ticket: Ticket, fields: Iterable[str]) -> None:
    ticket.save(update_fields=[*set(fields), "updated_at"])


def _check_workable(ticket: Ticket) -> None:
    if ticket.merged_into_id is not None:
        raise TicketError(f"Ticket #{ticket.number} was merged into another ticket.")
    if ticket.status == Status.CLOSED:
        raise TicketError(f"Ticket #{ticket.number} is closed; a new message opens a follow-up.")


def _subject_from(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first_line) <= SUBJECT_FROM_TEXT_LENGTH:
        return first_line
    return first_line[: SUBJECT_FROM_TEXT_LENGTH - 1].rstrip() + "…"


def _attachment_name(raw: str, index: int) -> str:
    """A storage-safe file name. Names from outside can be anything ("..", "???", a path);
    get_valid_filename refuses some of them with an exception, which must not lose the
    message they came with."""
    try:
        return get_valid_filename(raw)[:200]
    except SuspiciousFileOperation:
        return f"attachment-{index + 1}"


def _attachment_refusal(
    item: InboundAttachment | OutboundAttachment, index: int, name: str
) -> dict[str, Any] | None:
    if index >= settings.MAX_ATTACHMENTS_PER_MESSAGE:
        return {"name": name, "reason": "too many attachments"}
    if len(item.content) > settings.MAX_ATTACHMENT_BYTES:
        return {"name": name, "reason": "too large", "size": len(item.content)}
    return None


def _refused_attachments(
    attachments: Sequence[InboundAttachment | OutboundAttachment],
) -> list[dict[str, Any]]:
    return [
        refusal
        for index, item in enumerate(attachments)
        if (refusal := _attachment_refusal(item, index, _attachment_name(item.name, index)))
    ]


def _store_attachments(
    message: Message, attachments: Sequence[InboundAttachment | OutboundAttachment]
) -> list[dict[str, Any]]:
    """Save what fits the limits; return a description of what was refused and why."""
    rows, refused = _attachment_rows(message, attachments)
    if rows:
        Attachment.objects.bulk_create(rows)
    return refused


def _attachment_rows(
    message: Message, attachments: Sequence[InboundAttachment | OutboundAttachment]
) -> tuple[list[Attachment], list[dict[str, Any]]]:
    """The files of what fits the limits, saved, with their rows still to insert; and a
    description of what was refused and why."""
    rows = []
    refused = []
    for index, item in enumerate(attachments):
        name = _attachment_name(item.name, index)
        refusal = _attachment_refusal(item, index, name)
        if refusal is not None:
            refused.append(refusal)
            continue
        attachment = Attachment(
            message=message,
            name=name,
            content_type=(item.content_type or "application/octet-stream")[:255],
            size=len(item.content),
            content_id=getattr(item, "content_id", "")[:255],
        )
        attachment.file.save(name, ContentFile(item.content), save=False)
        rows.append(attachment)
    return rows, refused


# --- Opening and threading -----------------------------------------------------------------


def open_ticket(
    *,
    customer: Customer,
    channel: str,
    subject: str = "",
    channel_account: Any = None,
    priority: str = Ticket.Priority.NORMAL,
    team: Team | None = None,
    actor: User | None = None,
    follow_up_of: Ticket | None = None,
    customer_message_at: datetime | None = None,
) -> Ticket:
    """A new ticket with no messages yet; ``receive_message`` and the API add them. The
    caller's transaction holds the new row's lock until it commits. ``customer_message_at``
    is the time of the customer message the caller is about to add."""
    # No savepoint: a ticket that cannot be created fails the caller's whole change.
    with transaction.atomic(savepoint=False):
        ticket = _new_ticket(
            number=Counter.next_value(TICKET_NUMBER_SEQUENCE),
            customer=customer,
            channel=channel,
            subject=subject,
            channel_account=channel_account,
            priority=priority,
            team=team,
            follow_up_of=follow_up_of,
            customer_message_at=customer_message_at,
        )
        ticket.save(force_insert=True)
        TicketActivity.objects.bulk_create(_opening_activities(ticket, actor))
        emit(TicketCreated(ticket_id=ticket.pk))
    return ticket


def _new_ticket(
    *,
    number: int,
    customer: Customer,
    channel: str,
    subject: str,
    channel_account: Any,
    customer_message_at: datetime | None,
    priority: str = Ticket.Priority.NORMAL,
    team: Team | None = None,
    follow_up_of: Ticket | None = None,
) -> Ticket:
    return Ticket(
        number=number,
        subject=subject.strip()[:300],
        customer=customer,
        channel=channel,
        channel_account=channel_account,
        priority=priority,
        team=team if team is not None else getattr(channel_account, "default_team", None),
        follow_up_of=follow_up_of,
        last_customer_message_at=customer_message_at,
        last_message_at=customer_message_at,
    )


def _opening_activities(ticket: Ticket, actor: User | None) -> list[TicketActivity]:
    activities = [
        TicketActivity(
            ticket=ticket, verb=Verb.CREATED, actor=actor, data={"channel": ticket.channel}
        )
    ]
    if ticket.follow_up_of is not None:
        activities.append(
            TicketActivity(
                ticket=ticket,
                verb=Verb.FOLLOW_UP_OPENED,
                actor=actor,
                data={"follow_up_of": ticket.follow_up_of.number},
            )
        )
    return activities


def _final_ticket(ticket: Ticket) -> Ticket:
    """Follow merges to the ticket that now holds the conversation."""
    seen = {ticket.pk}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


# Reply and forward prefixes mail clients put before a subject, in many languages ("Re:",
# "AW:", "SV:", "Fwd:", "WG:", "TR:", "RV:", "Odp:", "回复:", ...), with counters ("Re[2]:",
# "Re^2:", "Re(3):"), and the "[EXT]" tags mail gateways add. The email parser's
# normalize_subject calls normalize_thread_subject, so a ticket's subject and an adapter's
# thread_subject always agree.
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|fw|aw|wg|sv|vs|vl|antw|antwort|r|rif|i|r[ée]f\.?|ref|tr|rv|enc|res|odp|"
    r"pd|ynt|ilt|doorst|atb|回复|回覆|答复|转发|轉寄|返信|転送)"
    r"\s*(?:\[\d{1,4}\]|\^\d{1,4}|\(\d{1,4}\))?\s*[:：]|\[(?:ext|external|extern)\])\s*",
    re.IGNORECASE,
)
# Our own ticket tag, wherever a mail client moved it.
_TICKET_TAG = re.compile(r"\[#\d{1,9}\]")
MAX_REFERENCES = 50
MAX_SUBJECT_ROUNDS = 20
# Subject matching compares in Python; the customer's most recent tickets are enough.
SUBJECT_CANDIDATES = 50


def normalize_thread_subject(subject: str) -> str:
    """The subject two messages of one thread share: reply and forward prefixes and our
    ticket tag removed, whitespace collapsed, casefolded. Idempotent, so an adapter's own
    normalized subject normalizes to itself."""
    text = subject
    # Casefolding and NFKC can each uncover something for the other; a few rounds settle it.
    for _ in range(MAX_SUBJECT_ROUNDS):
        normalized = _normalize_subject_once(text)
        if normalized == text:
            break
        text = normalized
    return text


def _normalize_subject_once(subject: str) -> str:
    text = " ".join(_TICKET_TAG.sub(" ", unicodedata.normalize("NFKC", subject)).split())
    while True:
        stripped = " ".join(_SUBJECT_PREFIX.sub("", text, count=1).split())
        if stripped == text:
            return text.casefold()
        text = stripped


@dataclasses.dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket  # merges already followed; may be closed (the caller decides)
    reason: str  # a Message.ThreadingReason value


def _reference_list(inbound: InboundMessage) -> list[str]:
    """The references worth looking up, most telling first. A blank one would match every
    message without a provider id (notes, replies not sent yet) of every customer."""
    references = list(dict.fromkeys(ref[:255] for ref in inbound.references if ref.strip()))
    return references[:MAX_REFERENCES]


def _by_references(inbound: InboundMessage, channel_account: Any) -> ThreadMatch | None:
    references = _reference_list(inbound)
    if not references:
        return None
    # Provider ids are unique per channel account only (the same contract as the
    # idempotency check), so a reference never reaches into another account's messages.
    # Both directions count: our outbound replies store the Message-ID we generated.
    # Only what the match needs: the caller locks and reloads the ticket it picks, and the
    # full rows of two wide models made every reply pay for compiling and building them.
    earlier = (
        Message.objects.filter(provider_message_id__in=references, channel_account=channel_account)
        .select_related("ticket")
        .only("provider_message_id", "ticket__id", "ticket__merged_into_id")
        .order_by("id")
    )
    tickets = {message.provider_message_id: message.ticket for message in earlier}
    for reference in references:
        if reference in tickets:
            return ThreadMatch(
                _final_ticket(tickets[reference]), Message.ThreadingReason.REFERENCES
            )
    return None


def _token_reason(inbound: InboundMessage) -> str:
    """The threading reason the message's ticket token would give, or "" for none."""
    if inbound.ticket_number is None:
        return ""
    if inbound.ticket_number_source == "address":
        return Message.ThreadingReason.TICKET_TOKEN_ADDRESS
    if inbound.ticket_number_source == "subject":
        return Message.ThreadingReason.TICKET_TOKEN_SUBJECT
    return ""


def _token_counts(
    reason: str, customer: Customer | None, tagged_customer: int, final_customer: int
) -> bool:
    """Whether a ticket token counts for ``customer``: the tagged ticket's and the one it
    was merged into have the customers given. Anyone can type "[#1234]" into a subject: it
    only counts for the customer's own ticket. The address token is signed, so it counts
    whoever forwards our mail."""
    return reason != Message.ThreadingReason.TICKET_TOKEN_SUBJECT or (
        customer is not None and customer.pk in (tagged_customer, final_customer)
    )


def _by_ticket_token(inbound: InboundMessage, customer: Customer | None) -> ThreadMatch | None:
    reason = _token_reason(inbound)
    if not reason or inbound.ticket_number is None:
        return None
    tagged = Ticket.objects.filter(number=inbound.ticket_number).first()
    if tagged is None:
        return None
    ticket = _final_ticket(tagged)
    if not _token_counts(reason, customer, tagged.customer_id, ticket.customer_id):
        return None
    return ThreadMatch(ticket, reason)


def _wanted_subject(inbound: InboundMessage) -> str:
    """The normalized subject a message matches its customer's tickets by, "" for none."""
    if inbound.subject_window is None:
        return ""
    return normalize_thread_subject(inbound.thread_subject or inbound.subject)


def _subject_cutoff(inbound: InboundMessage, received_at: datetime) -> datetime:
    assert inbound.subject_window is not None
    return received_at - inbound.subject_window


# The newest conversation first; a ticket with no message yet (opened by an agent) after
# those with one, on every database (PostgreSQL and SQLite put NULLs apart differently).
SUBJECT_CANDIDATE_ORDER = (F("last_message_at").desc(nulls_last=True), F("id").desc())


def _subject_candidates(cutoff: datetime) -> QuerySet[Ticket]:
    """Tickets whose subject a message received after ``cutoff`` may continue: not merged,
    not closed, with a message (or opened) since."""
    return (
        Ticket.objects.filter(merged_into__isnull=True)
        .exclude(status=Status.CLOSED)
        .filter(
            Q(last_message_at__gte=cutoff) | Q(last_message_at__isnull=True, created_at__gte=cutoff)
        )
    )


def _by_subject(
    inbound: InboundMessage, customer: Customer | None, channel_account: Any
) -> ThreadMatch | None:
    wanted = _wanted_subject(inbound)
    if customer is None or not wanted:
        return None
    cutoff = _subject_cutoff(inbound, inbound.received_at or timezone.now())
    candidates = _subject_candidates(cutoff).filter(customer=customer, channel=inbound.channel)
    if channel_account is not None:
        candidates = candidates.filter(channel_account=channel_account)
    # Only what the comparison needs: the caller locks and reloads the ticket it picks.
    recent = candidates.only("pk", "subject").order_by(*SUBJECT_CANDIDATE_ORDER)
    for ticket in recent[:SUBJECT_CANDIDATES]:
        if normalize_thread_subject(ticket.subject) == wanted:
            return ThreadMatch(ticket, Message.ThreadingReason.SUBJECT_MATCH)
    return None


def _by_active_conversation(
    inbound: InboundMessage, customer: Customer | None, channel_account: Any, *, active_only: bool
) -> ThreadMatch | None:
    if inbound.starts_conversation or customer is None:
        return None
    tickets = Ticket.objects.filter(
        customer=customer, channel=inbound.channel, merged_into__isnull=True
    )
    if channel_account is not None:
        tickets = tickets.filter(channel_account=channel_account)
    # An active ticket wins over a newer closed or solved one: the customer is still in that
    # conversation, and a follow-up ticket would split it. Two plain queries rather than one
    # sorted by a CASE: nearly every chat message continues an active ticket, so the second
    # one rarely runs, and a CASE is compiled again for every message.
    # Only the key: the caller locks and reloads the ticket.
    tickets = tickets.only("pk")
    ticket = tickets.filter(status__in=Ticket.ACTIVE_STATUSES).order_by("-id").first()
    if ticket is None and not active_only:
        ticket = tickets.order_by("-id").first()
    if ticket is None:
        return None
    return ThreadMatch(ticket, Message.ThreadingReason.ACTIVE_CONVERSATION)


def find_continued_ticket(
    inbound: InboundMessage,
    customer: Customer | None,
    channel_account: Any,
    *,
    active_conversation_must_be_active: bool = False,
    new_customer: bool = False,
) -> ThreadMatch | None:
    """The ticket this message continues and why, or None for a new conversation.

    The rules, first match wins: (1) ``references`` against provider ids of our messages on
    the same account, inbound and outbound; (2) the ticket token; (3) same customer and
    normalized subject within ``subject_window``, never a closed ticket; (4) unless the
    message ``starts_conversation``, the customer's active conversation on the account.
    Merged tickets are followed to the ticket they were merged into. A closed ticket can
    come back from (1), (2) and (4): the caller opens a follow-up. ``customer`` is None for
    a sender we do not know, which only (1) and an address token can match; so does a
    ``new_customer``, one created for this very message, whose tickets cannot exist yet.
    """
    if new_customer:
        # Nothing to look up through the customer: a subject token counts only for the
        # customer's own tickets, and (3) and (4) search them.
        return _by_references(inbound, channel_account) or (
            _by_ticket_token(inbound, customer)
            if inbound.ticket_number_source == "address"
            else None
        )
    return (
        _by_references(inbound, channel_account)
        or _by_ticket_token(inbound, customer)
        or _by_subject(inbound, customer, channel_account)
        or _by_active_conversation(
            inbound, customer, channel_account, active_only=active_conversation_must_be_active
        )
    )


def _checked_inbound(inbound: InboundMessage, channel_account: Any) -> tuple[str, str]:
    """Refuse what can never be stored; return the sanitized HTML and the provider id."""
    html = sanitize_html(inbound.html)
    if not (inbound.text.strip() or html.strip() or inbound.attachments):
        raise TicketError("The message has no text and no attachments.")
    if channel_account is not None and channel_account.kind != inbound.channel:
        raise TicketError(
            f"A {inbound.channel} message cannot arrive on {channel_account.kind} account "
            f"{channel_account.slug}."
        )
    return html, inbound.provider_message_id[:255]


def _already_received(channel_account: Any, provider_message_id: str) -> Message | None:
    if not provider_message_id:
        return None
    # The id alone first: nearly every message is new, and the full row is wide.
    found = (
        Message.objects.filter(
            direction=Message.Direction.INBOUND,
            channel_account=channel_account,
            provider_message_id=provider_message_id,
        )
        .values_list("pk", flat=True)
        .first()
    )
    return None if found is None else Message.objects.get(pk=found)


def receive_message(inbound: InboundMessage, *, channel_account: Any = None) -> Message:
    """Thread a customer message: resolve the sender, continue or open the ticket (see
    ``find_continued_ticket``; a closed ticket gets a linked follow-up), save the message
    with its threading reason and its attachments. A pending or solved ticket reopens,
    unless the message is automated. Idempotent on ``provider_message_id``: a repeated
    delivery returns the message saved the first time."""
    if inbound.sent_elsewhere:
        raise TicketError("A message the business sent elsewhere goes to record_sent_elsewhere.")
    html, provider_message_id = _checked_inbound(inbound, channel_account)
    try:
        return _thread_inbound(inbound, html, provider_message_id, channel_account)
    except IntegrityError:
        # A repeated delivery, or two workers taking the same one at once: the unique
        # constraint let only the first through, and the savepoint took back everything the
        # repeat wrote before its message (a customer, a ticket, their events). It answers
        # with the first one's message.
        already = _already_received(channel_account, provider_message_id)
        if already is not None:
            return already
        raise


def receives_together(inbound: InboundMessage) -> bool:
    """True for a message ``receive_messages_together`` takes: any customer message but
    automated mail (recorded on its ticket, see ``record_automated_message``) and what the
    business sent elsewhere (``record_sent_elsewhere``)."""
    return not (inbound.sent_elsewhere or inbound.is_automated)


class ReceiveOneByOne(Exception):
    """``receive_messages_together`` met something it leaves to ``receive_message``: a
    ticket merged while it looked, or a ticket token that may name a ticket the batch
    itself opened. The caller's transaction is still usable; roll it back and receive each
    message on its own."""


Conversation = tuple[int, str, int | None]  # customer, channel, channel account


def _conversation_of(ticket: Ticket) -> Conversation:
    return ticket.customer_id, ticket.channel, ticket.channel_account_id


@dataclasses.dataclass
class _Incoming:
    """One message of a batch, checked, with its sender found."""

    inbound: InboundMessage
    account: Any
    html: str
    provider_message_id: str
    customer: Customer
    # Created for this very message, the first of its sender's in the batch: it has no
    # tickets a subject or a conversation could continue (see find_continued_ticket).
    new_customer: bool
    received_at: datetime
    references: list[str]

    @property
    def conversation(self) -> Conversation:
        return self.customer.pk, self.inbound.channel, self.account.pk


class _BatchThreads:
    """The rules of ``find_continued_ticket`` for a whole batch. What they need from the
    database is read up front, one query per rule; the tickets they can pick are locked in
    one statement, in key order. As the batch places its messages, the picture is kept
    current in memory (tickets opened, reopened, their clocks moved, the provider ids
    stored), so each message is matched as ``receive_message`` would match it after the
    ones before it."""

    def __init__(self, incoming: list[_Incoming]) -> None:
        references = _referenced_tickets(incoming)
        tokens = _token_tickets(incoming)
        self.candidates = _batch_subject_candidates(incoming)
        latest = _latest_conversation_tickets(
            {
                item.conversation
                for item in incoming
                if not item.inbound.starts_conversation and not item.new_customer
            }
        )
        wanted_subjects: dict[Conversation, set[str]] = {}
        for item in incoming:
            if subject := _wanted_subject(item.inbound):
                wanted_subjects.setdefault(item.conversation, set()).add(subject)
        subject_matches = {
            ticket.pk
            for conversation, tickets in self.candidates.items()
            for ticket in tickets
            if normalize_thread_subject(ticket.subject) in wanted_subjects.get(conversation, ())
        }
        wanted = (
            set(references.values())
            | {final for _, final, _ in tokens.values()}
            | set(latest.values())
            | subject_matches
        )
        # Locked in key order, so two workers cannot deadlock on each other's tickets; the
        # status read under the lock decides, as receive_message decides.
        self.locked = {
            ticket.pk: ticket
            for ticket in Ticket.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
        }
        if any(ticket.merged_into_id is not None for ticket in self.locked.values()):
            raise ReceiveOneByOne("A ticket was merged meanwhile.")
        self.references = {
            key: self.locked[pk] for key, pk in references.items() if pk in self.locked
        }
        self.tokens = tokens
        self.current = {key: self.locked[pk] for key, pk in latest.items() if pk in self.locked}
        # The batch's own tickets, per conversation: the locked ones as they change, and
        # the ones it opens, in the order it opens them.
        self.in_memory: dict[Conversation, list[Ticket]] = {}
        for ticket in self.locked.values():
            self.in_memory.setdefault(_conversation_of(ticket), []).append(ticket)
        self.opened_order: dict[int, int] = {}  # id() of a new ticket -> when it was opened
        self.stored: dict[tuple[int, str], Ticket] = {}  # provider ids the batch stored
        self.unknown_numbers: set[int] = set()

    def match(self, item: _Incoming) -> ThreadMatch | None:
        """The ticket ``item`` continues and why, as ``find_continued_ticket`` finds it."""
        account = item.account.pk
        for reference in item.references:
            # The batch's own messages are newer than any stored one with the same id.
            ticket = self.stored.get((account, reference)) or self.references.get(
                (account, reference)
            )
            if ticket is not None:
                return ThreadMatch(ticket, Message.ThreadingReason.REFERENCES)
        by_token = self._by_token(item)
        if by_token is not None or item.new_customer:
            return by_token
        by_subject = self._by_subject(item)
        if by_subject is not None:
            return by_subject
        if not item.inbound.starts_conversation:
            ticket = self.current.get(item.conversation)
            if ticket is not None:
                return ThreadMatch(ticket, Message.ThreadingReason.ACTIVE_CONVERSATION)
        return None

    def _by_token(self, item: _Incoming) -> ThreadMatch | None:
        reason = _token_reason(item.inbound)
        if not reason or (
            item.new_customer and reason != Message.ThreadingReason.TICKET_TOKEN_ADDRESS
        ):
            return None
        number = item.inbound.ticket_number
        assert number is not None
        if number not in self.tokens:
            # Perhaps a ticket this batch opens: checked once they are numbered.
            self.unknown_numbers.add(number)
            return None
        tagged_customer, final, final_customer = self.tokens[number]
        ticket = self.locked.get(final)
        if ticket is None or not _token_counts(
            reason, item.customer, tagged_customer, final_customer
        ):
            return None
        return ThreadMatch(ticket, reason)

    def _by_subject(self, item: _Incoming) -> ThreadMatch | None:
        wanted = _wanted_subject(item.inbound)
        if not wanted:
            return None
        cutoff = _subject_cutoff(item.inbound, item.received_at)
        conversation = item.conversation
        pool = [
            ticket
            for ticket in self.candidates.get(conversation, ())
            if ticket.pk not in self.locked
        ] + self.in_memory.get(conversation, [])
        pool = [
            ticket
            for ticket in pool
            if ticket.status != Status.CLOSED
            and (
                ticket.last_message_at >= cutoff
                if ticket.last_message_at is not None
                else ticket.created_at is not None and ticket.created_at >= cutoff
            )
        ]
        # SUBJECT_CANDIDATE_ORDER, with the batch's new tickets the newest of all. Two
        # stable sorts: by key descending, then by last message, newest first, none last.
        pool.sort(key=self._key_order, reverse=True)
        pool.sort(
            key=lambda ticket: (
                ticket.last_message_at is not None,
                ticket.last_message_at or datetime.min.replace(tzinfo=UTC),
            ),
            reverse=True,
        )
        for ticket in pool[:SUBJECT_CANDIDATES]:
            if normalize_thread_subject(ticket.subject) == wanted:
                return ThreadMatch(ticket, Message.ThreadingReason.SUBJECT_MATCH)
        return None

    def _key_order(self, ticket: Ticket) -> int:
        if ticket.pk is not None:
            return ticket.pk
        return 2**62 + self.opened_order[id(ticket)]

    def took(self, item: _Incoming, ticket: Ticket) -> None:
        """``item`` went on ``ticket`` (moved and perhaps reopened by it)."""
        if item.provider_message_id:
            self.stored[item.account.pk, item.provider_message_id] = ticket
        # A reopened ticket may now be its conversation's newest active one.
        conversation = _conversation_of(ticket)
        current = self.current.get(conversation)
        if ticket.status in Ticket.ACTIVE_STATUSES and (
            current is None
            or current.status not in Ticket.ACTIVE_STATUSES
            # A ticket the batch opened is newer than any other.
            or (current.pk is not None and (ticket.pk is None or ticket.pk > current.pk))
        ):
            self.current[conversation] = ticket

    def opened(self, item: _Incoming, ticket: Ticket) -> None:
        """``item`` opened ``ticket``, not yet saved: the newest of its conversation."""
        self.opened_order[id(ticket)] = len(self.opened_order)
        conversation = item.conversation
        self.in_memory.setdefault(conversation, []).append(ticket)
        self.current[conversation] = ticket
        if item.provider_message_id:
            self.stored[item.account.pk, item.provider_message_id] = ticket

    def check_numbers(self, opened: Sequence[Ticket]) -> None:
        """Refuse the batch if a token it did not find names a ticket it opened."""
        if self.unknown_numbers & {ticket.number for ticket in opened}:
            raise ReceiveOneByOne("A ticket token names a ticket opened in the same batch.")


def references_found(items: Sequence[tuple[InboundMessage, Any]]) -> list[bool]:
    """For each (message, channel account), in one query: False when the message refers to
    earlier messages (``references``) and none of them is stored on its account nor comes
    before it in ``items``; True otherwise. A reply whose thread is still on its way (being
    stored by another worker) can then wait for it rather than open a ticket of its own."""
    wanted: dict[int, set[str]] = {}
    for inbound, account in items:
        if references := _reference_list(inbound):
            wanted.setdefault(account.pk, set()).update(references)
    known: set[tuple[int, str]] = set()
    if wanted:
        known = set(
            _referenced_messages(wanted).values_list("channel_account_id", "provider_message_id")
        )
    found = []
    for inbound, account in items:
        listed = _reference_list(inbound)
        found.append(not listed or any((account.pk, ref) in known for ref in listed))
        if inbound.provider_message_id:
            known.add((account.pk, inbound.provider_message_id[:255]))
    return found


def _referenced_tickets(incoming: list[_Incoming]) -> dict[tuple[int | None, str], int]:
    """(account, provider id) -> the ticket that holds the message, merges followed, for
    every reference of the batch, in one query (``_by_references`` for many)."""
    wanted: dict[int, set[str]] = {}
    for item in incoming:
        if item.references:
            wanted.setdefault(item.account.pk, set()).update(item.references)
    if not wanted:
        return {}
    earlier = (
        _referenced_messages(wanted)
        .select_related("ticket")
        .only("provider_message_id", "channel_account_id", "ticket__id", "ticket__merged_into_id")
        .order_by("id")
    )
    tickets = {
        (message.channel_account_id, message.provider_message_id): message.ticket
        for message in earlier
    }
    finals: dict[int, int] = {}
    for ticket in tickets.values():
        if ticket.pk not in finals:
            finals[ticket.pk] = _final_ticket(ticket).pk
    return {key: finals[ticket.pk] for key, ticket in tickets.items()}


def _referenced_messages(wanted: dict[int, set[str]]) -> QuerySet[Message]:
    """The messages, inbound and outbound, whose provider ids are referenced, per account:
    provider ids are unique per channel account only (see ``_by_references``)."""
    query = Q()
    for account, references in wanted.items():
        query |= Q(channel_account_id=account, provider_message_id__in=references)
    return Message.objects.filter(query)


def _token_tickets(incoming: list[_Incoming]) -> dict[int, tuple[int, int, int]]:
    """Ticket number -> (its customer, the ticket it ends in after merges, that ticket's
    customer) for every ticket token of the batch, in one query."""
    numbers = {
        item.inbound.ticket_number
        for item in incoming
        if _token_reason(item.inbound) and item.inbound.ticket_number is not None
    }
    if not numbers:
        return {}
    tokens = {}
    tagged = Ticket.objects.filter(number__in=numbers).only("number", "customer", "merged_into")
    for ticket in tagged:
        final = _final_ticket(ticket)
        tokens[ticket.number] = (ticket.customer_id, final.pk, final.customer_id)
    return tokens


def _batch_subject_candidates(incoming: list[_Incoming]) -> dict[Conversation, list[Ticket]]:
    """The tickets ``_by_subject`` may consider for the batch's messages, per conversation,
    newest first, in one query: enough of each conversation's newest that the batch's own
    tickets, which may move ahead of them, cannot push the right one out of reach."""
    subject_matched = [
        item for item in incoming if _wanted_subject(item.inbound) and not item.new_customer
    ]
    if not subject_matched:
        return {}
    conversations = {item.conversation for item in subject_matched}
    cutoff = min(_subject_cutoff(item.inbound, item.received_at) for item in subject_matched)
    ranked = (
        _subject_candidates(cutoff)
        .filter(customer_id__in={customer for customer, _, _ in conversations})
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("customer_id"), F("channel"), F("channel_account_id")],
                order_by=SUBJECT_CANDIDATE_ORDER,
            )
        )
        .filter(position__lte=SUBJECT_CANDIDATES + len(incoming))
        .only(
            "subject",
            "customer",
            "channel",
            "channel_account",
            "status",
            "last_message_at",
            "created_at",
        )
        .order_by("position")
    )
    candidates: dict[Conversation, list[Ticket]] = {}
    for ticket in ranked:
        conversation = _conversation_of(ticket)
        if conversation in conversations:
            candidates.setdefault(conversation, []).append(ticket)
    return candidates


def receive_messages_together(
    items: Sequence[tuple[InboundMessage, Any]],
) -> list[Message]:
    """``receive_message`` for many (message, channel account) pairs at once, each message
    one that ``receives_together`` and its account set, in the order given; returns their
    messages in that order. The same tickets, messages, threading reasons, timeline and
    events as one call each, in a fixed number of statements: the senders in one look (new
    customers in one INSERT), one query per threading rule, the tickets they can continue
    locked in one, and the new tickets, the messages, their attachments and the timeline in
    one INSERT each.

    All or nothing, in the caller's transaction: it raises TicketError for a message that
    can never be stored, ReceiveOneByOne for what it leaves to one at a time, and
    IntegrityError for a repeated provider id or a sender another writer created meanwhile
    (the transaction is then broken). Each time the caller rolls back and receives the
    messages one at a time, which knows every answer."""
    received_now = timezone.now()
    rows = []
    for inbound, channel_account in items:
        if channel_account is None or not receives_together(inbound):
            raise TicketError(
                "Only customer messages on an account are received together; automated "
                "mail and messages sent elsewhere are not."
            )
        html, provider_message_id = _checked_inbound(inbound, channel_account)
        rows.append((inbound, channel_account, html, provider_message_id))
    senders = resolve_senders(
        [(inbound.channel, inbound.sender_address, inbound.sender_name) for inbound, *_ in rows]
    )
    incoming = []
    seen: set[int] = set()
    for inbound, account, html, provider_message_id in rows:
        sender = senders[inbound.channel, inbound.sender_address]
        incoming.append(
            _Incoming(
                inbound,
                account,
                html,
                provider_message_id,
                sender.customer,
                new_customer=sender.created and sender.customer.pk not in seen,
                received_at=inbound.received_at or received_now,
                references=_reference_list(inbound),
            )
        )
        seen.add(sender.customer.pk)
    threads = _BatchThreads(incoming)

    # Which ticket each message goes on, in order: each one sees what the ones before did.
    placed: list[tuple[Ticket, str]] = []
    opened: list[Ticket] = []
    opening: set[int] = set()  # the positions of the messages that open their ticket
    reopening: list[str] = []  # per message, the status it reopened its ticket from, or ""
    touched: dict[int, tuple[Ticket, set[str]]] = {}  # the locked tickets that changed
    for item in incoming:
        match = threads.match(item)
        found = None if match is None else match.ticket
        if match is not None and match.ticket.status != Status.CLOSED:
            placed.append((match.ticket, match.reason))
            # Before any INSERT: a ticket opened by an earlier message of this batch is
            # then inserted with its final clocks, and needs no UPDATE.
            changed, reopened = _take_customer_message(
                match.ticket, item.received_at, is_automated=False
            )
            reopening.append(reopened)
            if changed and match.ticket.pk is not None:
                touched.setdefault(match.ticket.pk, (match.ticket, set()))[1].update(changed)
            threads.took(item, match.ticket)
            continue
        ticket = _new_ticket(
            number=0,  # numbered below, all in one statement
            customer=item.customer,
            channel=item.inbound.channel,
            channel_account=item.account,
            subject=item.inbound.subject
            or (found.subject if found is not None else _subject_from(item.inbound.text)),
            follow_up_of=found,
            customer_message_at=item.received_at,
        )
        opened.append(ticket)
        opening.add(len(placed))
        reopening.append("")
        placed.append(
            (
                ticket,
                Message.ThreadingReason.NEW_CONVERSATION
                if found is None
                else Message.ThreadingReason.FOLLOW_UP,
            )
        )
        threads.opened(item, ticket)
    for ticket, number in zip(
        opened, Counter.next_values(TICKET_NUMBER_SEQUENCE, len(opened)), strict=True
    ):
        ticket.number = number
    threads.check_numbers(opened)
    Ticket.objects.bulk_create(opened)

    messages = Message.objects.bulk_create(
        [
            _inbound_row(
                item.inbound,
                ticket,
                item.customer,
                item.account,
                item.html,
                item.provider_message_id,
                reason,
            )
            for item, (ticket, reason) in zip(incoming, placed, strict=True)
        ]
    )
    activities = [activity for ticket in opened for activity in _opening_activities(ticket, None)]
    attachments: list[Attachment] = []
    received = []
    for item, message, reopened in zip(incoming, messages, reopening, strict=True):
        saved, refused = _attachment_rows(message, item.inbound.attachments)
        attachments += saved
        activities += _received_activities(message, reopened, refused)
        received.append((message, reopened))
    Attachment.objects.bulk_create(attachments)
    _save_taken(list(touched.values()))
    TicketActivity.objects.bulk_create(activities)
    for position, (message, reopened) in enumerate(received):
        if position in opening:
            emit(TicketCreated(ticket_id=message.ticket_id))
        _emit_received(message, reopened)
    return messages


CLOCK_FIELDS = frozenset({"last_customer_message_at", "last_message_at"})


def _save_taken(changes: Sequence[tuple[Ticket, set[str]]]) -> None:
    """Save what ``_take_customer_message`` changed on many tickets, in two statements
    at most: every ticket's own clocks, and the reopening of those it reopened (the same
    values for all)."""
    reopened = [ticket.pk for ticket, fields in changes if "status" in fields]
    if reopened:
        Ticket.objects.filter(pk__in=reopened).update(
            status=Status.OPEN, solved_at=None, updated_at=timezone.now()
        )
    clocks = [ticket for ticket, fields in changes if fields & CLOCK_FIELDS]
    if clocks:
        _save_clocks(clocks)


def _save_clocks(tickets: Sequence[Ticket]) -> None:
    """Write the tickets' customer and last message times, each its own, in one UPDATE
    joined to a list of values (PostgreSQL and SQLite 3.33+ both have UPDATE ... FROM).
    bulk_update's CASE per row and field cost more to build than the rows to write. The
    values are prepared by the fields themselves, and the database infers their types
    from those literals (Django's psycopg binds parameters on the client)."""
    database = transaction.get_connection(router.db_for_write(Ticket))
    quote = database.ops.quote_name
    meta = Ticket._meta
    customer_at = meta.get_field("last_customer_message_at")
    message_at = meta.get_field("last_message_at")
    updated_at = meta.get_field("updated_at")
    now = timezone.now()
    params: list[Any] = []
    for ticket in tickets:
        ticket.updated_at = now
        params += [
            ticket.pk,
            customer_at.get_db_prep_save(ticket.last_customer_message_at, database),
            message_at.get_db_prep_save(ticket.last_message_at, database),
        ]
    params.append(updated_at.get_db_prep_save(now, database))
    table = quote(meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(tickets))
    sql = (
        f"WITH clocks (id, customer_at, message_at) AS (VALUES {rows}) "  # noqa: S608 (names only)
        f"UPDATE {table} SET {quote(customer_at.column)} = clocks.customer_at, "
        f"{quote(message_at.column)} = clocks.message_at, {quote(updated_at.column)} = %s "
        f"FROM clocks WHERE {table}.{quote(meta.pk.column)} = clocks.id"
    )
    with database.cursor() as cursor:
        cursor.execute(sql, params)


def _latest_conversation_tickets(
    conversations: set[Conversation],
) -> dict[Conversation, int]:
    """The ticket each (customer, channel, account) conversation continues, as
    ``_by_active_conversation`` picks it: the newest active ticket, else the newest one."""
    if not conversations:
        return {}
    tickets = Ticket.objects.filter(merged_into__isnull=True)
    latest = _newest_tickets(tickets.filter(status__in=Ticket.ACTIVE_STATUSES), conversations)
    rest = conversations - latest.keys()
    if rest:
        latest.update(_newest_tickets(tickets, rest))
    return latest


def _newest_tickets(
    tickets: QuerySet[Ticket], conversations: set[Conversation]
) -> dict[Conversation, int]:
    """The newest of ``tickets`` in each (customer, channel, account) conversation, in one
    query grouped by conversation."""
    rows = (
        tickets.filter(customer_id__in={customer for customer, _, _ in conversations})
        .values_list("customer_id", "channel", "channel_account_id")
        .annotate(newest=Max("id"))
        .order_by()
    )
    return {
        (customer, channel, account): newest
        for customer, channel, account, newest in rows
        if (customer, channel, account) in conversations
    }


def _thread_inbound(
    inbound: InboundMessage, html: str, provider_message_id: str, channel_account: Any
) -> Message:
    received_at = inbound.received_at or timezone.now()
    with transaction.atomic():
        # On an account, the unique constraint on inbound provider ids is the duplicate
        # check: nearly every message is new, so a look before writing would cost every one
        # of them a query to spare the rare repeat its rolled-back work. Without an account
        # the constraint does not apply (NULLs are distinct), so the look stays. Inside the
        # transaction, so two deliveries of one message queue on the write lock and the
        # second one finds the first.
        if channel_account is None:
            already = _already_received(channel_account, provider_message_id)
            if already is not None:
                return already
        # Inside the transaction too: a message that fails later leaves no customer behind.
        sender = resolve_sender(
            inbound.channel, inbound.sender_address, display_name=inbound.sender_name
        )
        ticket, reason = _continued_or_new_ticket(
            inbound,
            sender.customer,
            channel_account,
            customer_message_at=received_at,
            new_customer=sender.created,
        )
        message = _inbound_row(
            inbound, ticket, sender.customer, channel_account, html, provider_message_id, reason
        )
        message.save(force_insert=True)
        refused = _store_attachments(message, inbound.attachments)
        changed, reopened = _take_customer_message(ticket, received_at, inbound.is_automated)
        if changed:
            _save(ticket, changed)
        TicketActivity.objects.bulk_create(_received_activities(message, reopened, refused))
        _emit_received(message, reopened)
    return message


def _inbound_row(
    inbound: InboundMessage,
    ticket: Ticket,
    customer: Customer,
    channel_account: Any,
    html: str,
    provider_message_id: str,
    reason: str,
) -> Message:
    return Message(
        ticket=ticket,
        direction=Message.Direction.INBOUND,
        kind=Message.Kind.CUSTOMER,
        author_customer=customer,
        channel_account=channel_account,
        text=inbound.text,
        html=html,
        provider_message_id=provider_message_id,
        threading_reason=reason,
        is_automated=inbound.is_automated,
    )


def _take_customer_message(
    ticket: Ticket, received_at: datetime, is_automated: bool
) -> tuple[list[str], str]:
    """Move the (locked) ticket's clocks to a customer message, and reopen a pending or
    solved ticket unless the message is automated; the ticket is not saved. Returns the
    fields changed and the status it was reopened from ("" when it was not)."""
    changed = []
    if (ticket.last_customer_message_at, ticket.last_message_at) != (received_at,) * 2:
        ticket.last_customer_message_at = received_at
        ticket.last_message_at = received_at
        changed += ["last_customer_message_at", "last_message_at"]
    reopened = ""
    if ticket.status in (Status.SOLVED, Status.PENDING) and not is_automated:
        reopened = ticket.status
        ticket.status = Status.OPEN
        ticket.solved_at = None
        changed += ["status", "solved_at"]
    return changed, reopened


def _received_activities(
    message: Message, reopened: str, refused: list[dict[str, Any]]
) -> list[TicketActivity]:
    ticket = message.ticket
    activities = []
    if reopened:
        activities.append(
            TicketActivity(
                ticket=ticket,
                verb=Verb.REOPENED,
                data={"before": reopened, "after": Status.OPEN},
            )
        )
    data: dict[str, Any] = {"message_id": message.pk}
    if refused:
        data["attachments_refused"] = refused
    activities.append(TicketActivity(ticket=ticket, verb=Verb.MESSAGE_RECEIVED, data=data))
    return activities


def _emit_received(message: Message, reopened: str) -> None:
    emit(MessageCreated(ticket_id=message.ticket_id, message_id=message.pk, kind=message.kind))
    if reopened:
        emit(TicketUpdated(ticket_id=message.ticket_id, fields=("status",)))


def _continued_or_new_ticket(
    inbound: InboundMessage,
    customer: Customer,
    channel_account: Any,
    *,
    customer_message_at: datetime | None,
    new_customer: bool = False,
) -> tuple[Ticket, str]:
    """The locked ticket a message goes on, and the threading reason: the one it continues,
    a follow-up of a closed one, or a new one. ``new_customer``: the customer was created
    for this message (see ``find_continued_ticket``)."""
    match = find_continued_ticket(inbound, customer, channel_account, new_customer=new_customer)
    # The status decides under the lock: an agent may close or merge the ticket between the
    # match and here.
    found = None if match is None else _lock(match.ticket)
    if found is not None and found.merged_into_id is not None:
        found = _lock(_final_ticket(found))
    if match is None or found is None:
        ticket = open_ticket(
            customer=customer,
            channel=inbound.channel,
            channel_account=channel_account,
            subject=inbound.subject or _subject_from(inbound.text),
            customer_message_at=customer_message_at,
        )
        return ticket, Message.ThreadingReason.NEW_CONVERSATION
    if found.status == Status.CLOSED:
        ticket = open_ticket(
            customer=customer,
            channel=inbound.channel,
            channel_account=channel_account,
            subject=inbound.subject or found.subject,
            follow_up_of=found,
            customer_message_at=customer_message_at,
        )
        return ticket, Message.ThreadingReason.FOLLOW_UP
    return found, match.reason


def _known_customer(channel: str, address: str) -> Customer | None:
    """The customer behind an address, without creating one: a mailer daemon or an
    out-of-office robot must not become a customer."""
    try:
        normalized = normalize_address(channel, address)
    except ValidationError:
        return None
    identity = (
        Identity.objects.select_related("customer").filter(kind=channel, address=normalized).first()
    )
    return None if identity is None else identity.customer


def record_automated_message(
    inbound: InboundMessage, *, channel_account: Any = None
) -> Message | None:
    """Record an auto-reply or a bounce on the ticket it belongs to, or return None.

    Threaded by the rules of ``find_continued_ticket``, except that (4) only takes a
    conversation that is still active: with no thread to join it is noise, so it never opens
    a ticket (nor creates a customer for its sender). The message is stored with
    ``is_automated`` and its author is the known customer behind the sender, if any. It
    never changes a status (no reopening; a closed or solved ticket keeps it as it is) and
    it moves ``last_message_at`` only: the customer did not write, so the customer's
    waiting time is unchanged. Idempotent on ``provider_message_id`` like
    ``receive_message``.
    """
    html, provider_message_id = _checked_inbound(inbound, channel_account)
    try:
        return _record_automated(inbound, html, provider_message_id, channel_account)
    except IntegrityError:
        already = _already_received(channel_account, provider_message_id)
        if already is not None:
            return already
        raise


def _record_automated(
    inbound: InboundMessage, html: str, provider_message_id: str, channel_account: Any
) -> Message | None:
    received_at = inbound.received_at or timezone.now()
    with transaction.atomic():
        already = _already_received(channel_account, provider_message_id)
        if already is not None:
            return already
        customer = _known_customer(inbound.channel, inbound.sender_address)
        match = find_continued_ticket(
            inbound, customer, channel_account, active_conversation_must_be_active=True
        )
        if match is None:
            return None
        ticket = _lock(match.ticket)
        if ticket.merged_into_id is not None:  # merged between the match and the lock
            ticket = _lock(_final_ticket(ticket))
        message = Message.objects.create(
            ticket=ticket,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.CUSTOMER,
            author_customer=customer,
            channel_account=channel_account,
            text=inbound.text,
            html=html,
            provider_message_id=provider_message_id,
            threading_reason=match.reason,
            is_automated=True,
        )
        refused = _store_attachments(message, inbound.attachments)
        ticket.last_message_at = _latest(ticket.last_message_at, received_at)
        _save(ticket, ["last_message_at"])
        activity: dict[str, Any] = {
            "message_id": message.pk,
            "automated": True,
            "automated_reason": inbound.automated_reason[:200],
        }
        if refused:
            activity["attachments_refused"] = refused
        _record(ticket, Verb.MESSAGE_RECEIVED, None, **activity)
        emit(MessageCreated(ticket_id=ticket.pk, message_id=message.pk, kind=message.kind))
    return message


def _already_sent(channel_account: Any, provider_message_id: str) -> Message | None:
    if not provider_message_id:
        return None
    return (
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND,
            channel_account=channel_account,
            provider_message_id=provider_message_id,
        )
        .order_by("id")
        .first()
    )


def record_sent_elsewhere(inbound: InboundMessage, *, channel_account: Any = None) -> Message:
    """Record a message the business sent to the customer outside Switchboard (the
    provider's own app, another tool), as the channel reported it: an outbound reply with
    status sent and the provider's id. It is never sent again: it emits MessageCreated, not
    MessageQueued. ``inbound.sender_address`` is the customer it went to and
    ``received_at`` when it was sent.

    Idempotent on ``provider_message_id`` among the account's outbound messages: the report
    of a reply we sent ourselves, or a repeated report, returns the message already there.
    Threaded like a customer message (``find_continued_ticket``): a closed ticket gets a
    follow-up, and without any conversation a ticket is opened. The ticket's agent stamps
    move (first response, last agent message) and a new ticket becomes open, as with an
    agent's reply; its status is otherwise left alone, and nobody is assigned."""
    html, provider_message_id = _checked_inbound(inbound, channel_account)
    sent_at = inbound.received_at or timezone.now()
    with transaction.atomic():
        already = _already_sent(channel_account, provider_message_id)
        if already is not None:
            return already
        recipient = resolve_sender(
            inbound.channel, inbound.sender_address, display_name=inbound.sender_name
        )
        ticket, reason = _continued_or_new_ticket(
            inbound,
            recipient.customer,
            channel_account,
            customer_message_at=None,
            new_customer=recipient.created,
        )
        # Under the ticket's lock: a second report of the same message, processed at the same
        # moment, waits here and then finds the first one's row.
        already = _already_sent(channel_account, provider_message_id)
        if already is not None:
            return already
        message = Message.objects.create(
            ticket=ticket,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.REPLY,
            channel_account=channel_account,
            text=inbound.text,
            html=html,
            provider_message_id=provider_message_id,
            threading_reason=reason,
            delivery_status=Message.DeliveryStatus.SENT,
            delivery_updated_at=sent_at,
        )
        refused = _store_attachments(message, inbound.attachments)
        changed: set[str] = set()
        for field in ("last_agent_message_at", "last_message_at"):
            latest = _latest(getattr(ticket, field), sent_at)
            if latest != getattr(ticket, field):
                setattr(ticket, field, latest)
                changed.add(field)
        if ticket.first_responded_at is None:
            ticket.first_responded_at = sent_at
            changed.add("first_responded_at")
        if ticket.status == Status.NEW:
            changed |= _apply_status(ticket, Status.OPEN, None, timezone.now())
        _save(ticket, changed)
        activity: dict[str, Any] = {"message_id": message.pk, "sent_elsewhere": True}
        if refused:
            activity["attachments_refused"] = refused
        _record(ticket, Verb.REPLIED, None, **activity)
        emit(MessageCreated(ticket_id=ticket.pk, message_id=message.pk, kind=message.kind))
        if changed:
            emit(TicketUpdated(ticket_id=ticket.pk, fields=tuple(sorted(changed))))
    return message


# --- Agent messages ------------------------------------------------------------------------

REPLY_STATUSES = (Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED)


def add_reply(
    ticket: Ticket,
    *,
    author: User,
    text: str,
    html: str = "",
    status: str | None = None,
    attachments: Sequence[OutboundAttachment] = (),
    check_channel: bool = True,
) -> Message:
    """Queue a reply to the customer on the ticket's channel.

    The message is stored as ``queued``; the channel's delivery task sends it. The first
    reply stamps ``first_responded_at``; an unassigned ticket goes to the agent who answers
    it. ``status`` submits the reply as pending, on hold or solved.

    The channel is asked first whether free text can go out now (``settings.REPLY_CHECK``,
    a dotted path, so this app imports no channel code); its refusal is a TicketError.
    ``check_channel=False`` is for a caller that made the channel's own check (a template
    message, which is what a closed window allows).
    """
    if not (text.strip() or html.strip()):
        raise TicketError("A reply needs text.")
    if status is not None and status not in REPLY_STATUSES:
        raise TicketError(f"A reply cannot set the status to {status!r}.")
    # Checked before anything is written, so a refused reply leaves no file in storage.
    refused = _refused_attachments(attachments)
    if refused:
        raise TicketError(
            "Attachment refused: "
            + ", ".join(f"{item['name']} ({item['reason']})" for item in refused)
        )
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_workable(ticket)
        if check_channel and settings.REPLY_CHECK:
            import_string(settings.REPLY_CHECK)(ticket)
        message = Message.objects.create(
            ticket=ticket,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.REPLY,
            author_agent=author,
            channel_account=ticket.channel_account,
            text=text,
            html=sanitize_html(html),
            delivery_status=Message.DeliveryStatus.QUEUED,
            delivery_updated_at=now,
        )
        _store_attachments(message, attachments)
        changed = {"last_agent_message_at", "last_message_at"}
        ticket.last_agent_message_at = now
        ticket.last_message_at = now
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
            changed.add("first_responded_at")
        _record(ticket, Verb.REPLIED, author, message_id=message.pk)
        if ticket.assignee_id is None:
            ticket.assignee = author
            changed.add("assignee")
            _record(ticket, Verb.ASSIGNED, author, before=None, after=_user_ref(author))
        new_status = status or (Status.OPEN if ticket.status == Status.NEW else None)
        if new_status and new_status != ticket.status:
            changed |= _apply_status(ticket, new_status, author, now)
        _save(ticket, changed)
        emit(MessageCreated(ticket_id=ticket.pk, message_id=message.pk, kind=message.kind))
        emit(MessageQueued(ticket_id=ticket.pk, message_id=message.pk))
        emit(TicketUpdated(ticket_id=ticket.pk, fields=tuple(sorted(changed))))
    return message


def add_note(
    ticket: Ticket, *, author: User, text: str, html: str = "", mentions: Iterable[int] = ()
) -> Message:
    """An internal note: agents only, never sent to the customer.

    ``mentions`` are the ids of agents the note @mentions: active agents other than the
    author are stored on the note and notified (``AgentMentioned`` to their sockets, an
    email while they are offline); unknown or inactive ids are ignored."""
    if not (text.strip() or html.strip()):
        raise TicketError("A note needs text.")
    wanted = {pk for pk in mentions if isinstance(pk, int) and pk != author.pk}
    mentioned = list(
        User.objects.filter(pk__in=wanted, is_active=True).order_by("pk") if wanted else []
    )
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.merged_into_id is not None:
            raise TicketError(f"Ticket #{ticket.number} was merged into another ticket.")
        message = Message.objects.create(
            ticket=ticket,
            direction=Message.Direction.INTERNAL,
            kind=Message.Kind.NOTE,
            author_agent=author,
            text=text,
            html=sanitize_html(html),
        )
        extra = {"mentions": [user.pk for user in mentioned]} if mentioned else {}
        _record(ticket, Verb.NOTE_ADDED, author, message_id=message.pk, **extra)
        _save(ticket, [])
        emit(MessageCreated(ticket_id=ticket.pk, message_id=message.pk, kind=message.kind))
        if mentioned:
            _notify_mentions(ticket, message, author, mentioned)
    return message


def _notify_mentions(ticket: Ticket, message: Message, author: User, users: list[User]) -> None:
    """Store who a note mentions and tell them; the caller holds the ticket lock."""
    from tickets.tasks import email_mention_task

    message.mentions.add(*users)
    for user in users:
        emit(
            AgentMentioned(
                user_id=user.pk,
                ticket_id=ticket.pk,
                ticket_number=ticket.number,
                message_id=message.pk,
                author_id=author.pk,
            )
        )
        if user.availability == User.Availability.OFFLINE:
            enqueue_on_commit(email_mention_task, message.pk, user.pk)


def add_automatic_reply(ticket: Ticket, *, text: str, html: str = "", summary: str) -> Message:
    """Queue an automatic message to the customer (an acknowledgement, the help center's
    "we received your request"): an outbound reply with no author and ``is_automated``, so
    email marks it ``Auto-Submitted`` and threads it like any reply (Message-ID, signed
    Reply-To, ``[#number]``). It is not a response: the ticket's response stamps, status
    and assignee stay as they are. ``summary`` is the timeline's line."""
    if not (text.strip() or html.strip()):
        raise TicketError("An automatic reply needs text.")
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_workable(ticket)
        message = Message.objects.create(
            ticket=ticket,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.REPLY,
            channel_account=ticket.channel_account,
            text=text,
            html=sanitize_html(html),
            is_automated=True,
            delivery_status=Message.DeliveryStatus.QUEUED,
            delivery_updated_at=now,
        )
        _record(ticket, Verb.AUTO_ACKNOWLEDGED, None, summary=summary, message_id=message.pk)
        ticket.last_message_at = _latest(ticket.last_message_at, now)
        _save(ticket, ["last_message_at"])
        emit(MessageCreated(ticket_id=ticket.pk, message_id=message.pk, kind=message.kind))
        emit(MessageQueued(ticket_id=ticket.pk, message_id=message.pk))
    return message


# --- Ticket fields -------------------------------------------------------------------------


def assign_ticket(ticket: Ticket, agent: User, *, actor: User | None) -> Ticket:
    if not agent.is_active:
        raise TicketError(f"{agent.name} is deactivated and cannot take tickets.")
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_workable(ticket)
        if ticket.assignee_id == agent.pk:
            return ticket
        before = _user_ref(ticket.assignee)
        ticket.assignee = agent
        _save(ticket, ["assignee"])
        _record(ticket, Verb.ASSIGNED, actor, before=before, after=_user_ref(agent))
        emit(TicketUpdated(ticket_id=ticket.pk, fields=("assignee",)))
    return ticket


def unassign_ticket(ticket: Ticket, *, actor: User | None) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.assignee_id is None:
            return ticket
        before = _user_ref(ticket.assignee)
        ticket.assignee = None
        _save(ticket, ["assignee"])
        _record(ticket, Verb.UNASSIGNED, actor, before=before, after=None)
        emit(TicketUpdated(ticket_id=ticket.pk, fields=("assignee",)))
    return ticket


def assign_team(ticket: Ticket, team: Team | None, *, actor: User | None) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_workable(ticket)
        if ticket.team_id == (team.pk if team else None):
            return ticket
        before = None if ticket.team is None else {"id": ticket.team.pk, "name": ticket.team.name}
        ticket.team = team
        _save(ticket, ["team"])
        after = None if team is None else {"id": team.pk, "name": team.name}
        _record(ticket, Verb.TEAM_CHANGED, actor, before=before, after=after)
        emit(TicketUpdated(ticket_id=ticket.pk, fields=("team",)))
    return ticket


def _apply_status(ticket: Ticket, status: str, actor: User | None, now: datetime) -> set[str]:
    """Set ``status`` on a locked ticket and record it; returns the fields that changed."""
    before = ticket.status
    ticket.status = status
    changed = {"status"}
    if status == Status.SOLVED:
        ticket.solved_at = now
        changed.add("solved_at")
    elif before == Status.SOLVED and status in Ticket.ACTIVE_STATUSES:
        # Reopened: no longer solved. Closing a solved ticket keeps its solved_at, which the
        # resolution-time reports measure.
        ticket.solved_at = None
        changed.add("solved_at")
    if status == Status.CLOSED:
        ticket.closed_at = now
        changed.add("closed_at")
    _record(ticket, Verb.STATUS_CHANGED, actor, before=before, after=status)
    return changed


def change_status(ticket: Ticket, status: str, *, actor: User | None) -> Ticket:
    """Move a ticket between statuses. Closed is final: a later customer message opens a
    follow-up ticket linked to the closed one."""
    if status not in Status.values:
        raise TicketError(f"Unknown status {status!r}.")
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_workable(ticket)
        if ticket.status == status:
            return ticket
        changed = _apply_status(ticket, status, actor, timezone.now())
        _save(ticket, changed)
        emit(TicketUpdated(ticket_id=ticket.pk, fields=tuple(sorted(changed))))
    return ticket


def change_priority(ticket: Ticket, priority: str, *, actor: User | None) -> Ticket:
    if priority not in Ticket.Priority.values:
        raise TicketError(f"Unknown priority {priority!r}.")
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_workable(ticket)
        if ticket.priority == priority:
            return ticket
        _record(ticket, Verb.PRIORITY_CHANGED, actor, before=ticket.priority, after=priority)
        ticket.priority = priority
        _save(ticket, ["priority"])
        emit(TicketUpdated(ticket_id=ticket.pk, fields=("priority",)))
    return ticket


SLA_DUE_FIELDS = ("first_response_due_at", "next_response_due_at", "resolution_due_at")


def set_sla_due_times(
    ticket_id: int,
    *,
    first_response_due_at: datetime | None,
    next_response_due_at: datetime | None,
    resolution_due_at: datetime | None,
) -> Ticket:
    """Store the SLA clocks' due times (None: that clock does not run now), as automation's
    SLA computes them. Writes and emits ``TicketUpdated`` with the changed fields only when
    something changed, so recomputing the same times is free of side effects."""
    wanted = {
        "first_response_due_at": first_response_due_at,
        "next_response_due_at": next_response_due_at,
        "resolution_due_at": resolution_due_at,
    }
    with transaction.atomic():
        ticket = _lock(ticket_id)
        changed = [field for field in SLA_DUE_FIELDS if getattr(ticket, field) != wanted[field]]
        if not changed:
            return ticket
        for field in changed:
            setattr(ticket, field, wanted[field])
        _save(ticket, changed)
        emit(TicketUpdated(ticket_id=ticket.pk, fields=tuple(changed)))
    return ticket


def normalize_tag_names(names: Iterable[str]) -> list[str]:
    """Lower-cased, whitespace-collapsed, blank and duplicate names dropped, in order."""
    if isinstance(names, str):
        # A str is an Iterable[str] too; tagging "refund" must not add r, e, f, u, n, d.
        names = [names]
    cleaned: list[str] = []
    for raw in names:
        name = " ".join(str(raw).split()).lower()
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise TicketError(f"Tag {name[:20]!r}… is longer than {MAX_TAG_LENGTH} characters.")
        if name not in cleaned:
            cleaned.append(name)
    return cleaned


def tag_ticket(ticket: Ticket, names: Iterable[str], *, actor: User | None) -> Ticket:
    wanted = normalize_tag_names(names)
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.merged_into_id is not None:
            raise TicketError(f"Ticket #{ticket.number} was merged into another ticket.")
        present = set(ticket.tags.values_list("name", flat=True))
        added = [name for name in wanted if name not in present]
        if not added:
            return ticket
        tags = [Tag.objects.get_or_create(name=name)[0] for name in added]
        ticket.tags.add(*tags)
        _save(ticket, [])
        _record(ticket, Verb.TAGGED, actor, tags=added)
        emit(TicketUpdated(ticket_id=ticket.pk, fields=("tags",)))
    return ticket


def untag_ticket(ticket: Ticket, names: Iterable[str], *, actor: User | None) -> Ticket:
    unwanted = normalize_tag_names(names)
    with transaction.atomic():
        ticket = _lock(ticket)
        tags = list(ticket.tags.filter(name__in=unwanted))
        if not tags:
            return ticket
        ticket.tags.remove(*tags)
        _save(ticket, [])
        _record(ticket, Verb.UNTAGGED, actor, tags=sorted(tag.name for tag in tags))
        emit(TicketUpdated(ticket_id=ticket.pk, fields=("tags",)))
    return ticket


def link_order(ticket: Ticket, order: Order, *, actor: User | None) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.merged_into_id is not None:
            raise TicketError(f"Ticket #{ticket.number} was merged into another ticket.")
        if ticket.orders.filter(pk=order.pk).exists():
            return ticket
        ticket.orders.add(order)
        _save(ticket, [])
        _record(ticket, Verb.ORDER_LINKED, actor, order={"id": order.pk, "number": order.number})
        emit(TicketUpdated(ticket_id=ticket.pk, fields=("orders",)))
    return ticket


def unlink_order(ticket: Ticket, order: Order, *, actor: User | None) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket)
        if not ticket.orders.filter(pk=order.pk).exists():
            return ticket
        ticket.orders.remove(order)
        _save(ticket, [])
        _record(ticket, Verb.ORDER_UNLINKED, actor, order={"id": order.pk, "number": order.number})
        emit(TicketUpdated(ticket_id=ticket.pk, fields=("orders",)))
    return ticket


# --- Merging -------------------------------------------------------------------------------


def check_merge_tickets(source: Ticket, target: Ticket) -> None:
    if source.pk == target.pk:
        raise TicketError("A ticket cannot be merged into itself.")
    for ticket in (source, target):
        if ticket.merged_into_id is not None:
            raise TicketError(f"Ticket #{ticket.number} was already merged into another ticket.")
    if target.status == Status.CLOSED:
        raise TicketError(f"Ticket #{target.number} is closed; merge into an active ticket.")


def _latest(*moments: datetime | None) -> datetime | None:
    return max((moment for moment in moments if moment is not None), default=None)


def merge_tickets(source: Ticket, target: Ticket, *, actor: User | None) -> Ticket:
    """Move every message of ``source`` into ``target``, with its tags and linked orders,
    and close ``source`` pointing at ``target``. Both keep their own activity history."""
    with transaction.atomic():
        source, target = _lock_pair(source, target)
        check_merge_tickets(source, target)
        moved = source.messages.update(ticket=target)
        target.tags.add(*source.tags.all())
        target.orders.add(*source.orders.all())
        # The later of the two tickets' own stamps: they hold the provider's received-at
        # times, which the messages' created_at do not, and notes never count as messages.
        for field in ("last_customer_message_at", "last_agent_message_at", "last_message_at"):
            setattr(target, field, _latest(getattr(source, field), getattr(target, field)))
        if source.first_responded_at and (
            target.first_responded_at is None
            or source.first_responded_at < target.first_responded_at
        ):
            target.first_responded_at = source.first_responded_at
        _save(
            target,
            [
                "last_customer_message_at",
                "last_agent_message_at",
                "last_message_at",
                "first_responded_at",
            ],
        )
        now = timezone.now()
        before_status = source.status
        source.status = Status.CLOSED
        source.closed_at = now
        source.merged_into = target
        _save(source, ["status", "closed_at", "merged_into"])
        _record(
            source, Verb.MERGED_INTO, actor,
            before=before_status, target={"id": target.pk, "number": target.number}, messages=moved,
        )  # fmt: skip
        _record(
            target, Verb.MERGED_FROM, actor,
            source={"id": source.pk, "number": source.number}, messages=moved,
        )  # fmt: skip
        emit(TicketsMerged(source_ticket_id=source.pk, target_ticket_id=target.pk))
    return target


# --- Splitting and moving messages ------------------------------------------------------------

MOVABLE_KINDS = (Message.Kind.CUSTOMER, Message.Kind.NOTE)


def _ticket_ref(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.pk, "number": ticket.number}


def _restamp(ticket: Ticket) -> list[str]:
    """Recompute a locked ticket's message stamps from the messages it holds now; returns the
    fields to save. After a split or a move the stamps are the messages' own times (the
    provider's received-at times of the messages that stay are not stored on them)."""
    customer, agent = Message.Kind.CUSTOMER, Message.Kind.REPLY
    stamps = Message.objects.filter(ticket=ticket).aggregate(
        customer=Max("created_at", filter=Q(kind=customer, is_automated=False)),
        agent=Max("created_at", filter=Q(kind=agent)),
        any=Max("created_at", filter=Q(kind__in=(customer, agent))),
    )
    ticket.last_customer_message_at = stamps["customer"]
    ticket.last_agent_message_at = stamps["agent"]
    ticket.last_message_at = stamps["any"]
    return ["last_customer_message_at", "last_agent_message_at", "last_message_at"]


def _reload_message(message: Message, ticket: Ticket) -> Message:
    """The message again, now that its ticket is locked; refused if it left the ticket
    meanwhile (another agent moved it)."""
    fresh = Message.objects.get(pk=message.pk)
    if fresh.ticket_id != ticket.pk:
        raise TicketError("The message was moved to another ticket meanwhile; reload the ticket.")
    return fresh


def split_message_to_new_ticket(message: Message, *, actor: User | None) -> Ticket:
    """Move one customer message, with its attachments, to a new ticket of the same customer,
    channel and account (and team and priority), threading reason ``split``.

    Only customer messages split: a reply was written for and sent within its ticket, a
    note belongs to its ticket's discussion (``move_message`` takes notes). The ticket's
    only message does not split (that is the same ticket under a new number), nor does a
    message of a closed or merged ticket. Both tickets record the split and get their
    message stamps recomputed. Returns the new ticket.
    """
    with transaction.atomic():
        source = _lock(message.ticket_id)
        message = _reload_message(message, source)
        _check_workable(source)
        if message.kind != Message.Kind.CUSTOMER:
            raise TicketError("Only a customer message can be split into a new ticket.")
        if not Message.objects.filter(ticket=source).exclude(pk=message.pk).exists():
            raise TicketError(f"The message is ticket #{source.number}'s only message.")
        ticket = open_ticket(
            customer=source.customer,
            channel=source.channel,
            channel_account=source.channel_account,
            subject=_subject_from(message.text) or source.subject,
            priority=source.priority,
            team=source.team,
            actor=actor,
        )
        ticket = _lock(ticket)
        Message.objects.filter(pk=message.pk).update(
            ticket=ticket, threading_reason=Message.ThreadingReason.SPLIT
        )
        source_fields = _restamp(source)
        _save(source, source_fields)
        ticket_fields = _restamp(ticket)
        _save(ticket, ticket_fields)
        _record(
            source, Verb.MESSAGE_SPLIT, actor, message_id=message.pk, target=_ticket_ref(ticket)
        )
        _record(ticket, Verb.SPLIT_FROM, actor, message_id=message.pk, source=_ticket_ref(source))
        emit(TicketUpdated(ticket_id=source.pk, fields=("messages", *source_fields)))
        emit(TicketUpdated(ticket_id=ticket.pk, fields=("messages", *ticket_fields)))
    return ticket


def move_message(message: Message, target: Ticket, *, actor: User | None) -> Message:
    """Move a customer message or a note, with its attachments, to another ticket of the
    same customer; threading reason ``moved``.

    Replies and system messages stay: a reply was sent within its ticket, and the customer's
    answers to it thread by its Message-ID. Neither ticket may be closed or merged. Both
    tickets record the move and get their message stamps recomputed; the source keeps its
    status even when the move leaves it empty. Returns the moved message.
    """
    if target.pk == message.ticket_id:
        raise TicketError(f"The message is already on ticket #{target.number}.")
    with transaction.atomic():
        source, target = _lock_pair(Ticket(pk=message.ticket_id), target)
        message = _reload_message(message, source)
        _check_workable(source)
        _check_workable(target)
        if message.kind not in MOVABLE_KINDS:
            raise TicketError("Only customer messages and notes can be moved.")
        if target.customer_id != source.customer_id:
            raise TicketError(
                f"Ticket #{target.number} belongs to another customer; a message only moves "
                "between tickets of the same customer."
            )
        Message.objects.filter(pk=message.pk).update(
            ticket=target, threading_reason=Message.ThreadingReason.MOVED
        )
        source_fields = _restamp(source)
        _save(source, source_fields)
        target_fields = _restamp(target)
        _save(target, target_fields)
        _record(
            source, Verb.MESSAGE_MOVED_OUT, actor, message_id=message.pk, target=_ticket_ref(target)
        )
        _record(
            target, Verb.MESSAGE_MOVED_IN, actor, message_id=message.pk, source=_ticket_ref(source)
        )
        emit(TicketUpdated(ticket_id=source.pk, fields=("messages", *source_fields)))
        emit(TicketUpdated(ticket_id=target.pk, fields=("messages", *target_fields)))
    message.refresh_from_db()
    return message


# --- Delivery ------------------------------------------------------------------------------
# The outbound pipeline (channels_inbox.tasks) drives these: a queued message is claimed,
# sent, then marked sent or failed; provider reports move it forward from there.

MAX_DELIVERY_ERROR_LENGTH = 2000
# Reports arrive out of order ("read" before "delivered"); a status only replaces an earlier
# one. Failed is not on this ladder: it ends any status but read.
DELIVERY_PROGRESS = {
    Message.DeliveryStatus.QUEUED: 0,
    Message.DeliveryStatus.SENT: 1,
    Message.DeliveryStatus.DELIVERED: 2,
    Message.DeliveryStatus.READ: 3,
}
FAILABLE_DELIVERY_STATUSES = (
    Message.DeliveryStatus.QUEUED,
    Message.DeliveryStatus.SENT,
    Message.DeliveryStatus.DELIVERED,
)
# What each delivery step changes, as MessageUpdated names it to the agents' browsers.
SENT_FIELDS = ("delivery_error", "delivery_status", "delivery_updated_at", "provider_message_id")
FAILED_FIELDS = ("delivery_error", "delivery_status", "delivery_updated_at")
PROGRESS_FIELDS = ("delivery_status", "delivery_updated_at")


def _delivery_error(error: str) -> str:
    error = error.strip() or "Unknown delivery error."
    if len(error) <= MAX_DELIVERY_ERROR_LENGTH:
        return error
    return error[: MAX_DELIVERY_ERROR_LENGTH - 1] + "…"


def claim_message_delivery(message_id: int, *, until: datetime) -> bool:
    """Take a queued outbound message for sending until ``until`` (the lease) and count the
    attempt. False when it is not queued any more, another worker holds it, or its backoff
    has not passed: the caller then leaves it alone. If the worker dies while sending, the
    sweep claims the message again once the lease has passed."""
    now = timezone.now()
    claimed = (
        Message.objects.filter(
            pk=message_id,
            direction=Message.Direction.OUTBOUND,
            delivery_status=Message.DeliveryStatus.QUEUED,
        )
        .filter(Q(next_delivery_at__isnull=True) | Q(next_delivery_at__lte=now))
        .update(next_delivery_at=until, delivery_attempts=F("delivery_attempts") + 1)
    )
    return claimed == 1


def schedule_delivery_retry(message_id: int, *, error: str, retry_at: datetime) -> bool:
    """After a transient failure: the message stays queued, says why, and may be claimed
    again from ``retry_at``. False when it is no longer queued."""
    updated = Message.objects.filter(
        pk=message_id, delivery_status=Message.DeliveryStatus.QUEUED
    ).update(
        next_delivery_at=retry_at,
        delivery_error=_delivery_error(error),
        delivery_updated_at=timezone.now(),
    )
    return updated == 1


def mark_message_sent(message_id: int, *, provider_message_id: str) -> Message | None:
    """The provider accepted a queued message; store its id, which threads replies and
    matches delivery reports. None when the message was not queued (nothing changes)."""
    updated = Message.objects.filter(
        pk=message_id, delivery_status=Message.DeliveryStatus.QUEUED
    ).update(
        delivery_status=Message.DeliveryStatus.SENT,
        provider_message_id=provider_message_id[:255],
        delivery_error="",
        delivery_updated_at=timezone.now(),
        next_delivery_at=None,
    )
    if not updated:
        return None
    message = Message.objects.get(pk=message_id)
    emit(MessageUpdated(ticket_id=message.ticket_id, message_id=message.pk, fields=SENT_FIELDS))
    return message


def _fail_delivery(message_id: int, error: str, occurred_at: datetime | None) -> Message | None:
    """Mark an outbound message failed and record it on its ticket; the caller holds a
    transaction. None when the message is gone or its status cannot fail any more."""
    ticket_id = Message.objects.filter(pk=message_id).values_list("ticket_id", flat=True).first()
    if ticket_id is None:
        return None
    # Ticket first, then the message: the order every other service locks in.
    ticket = _lock(ticket_id)
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if (
        message is None
        or message.direction != Message.Direction.OUTBOUND
        or message.delivery_status not in FAILABLE_DELIVERY_STATUSES
    ):
        return None
    error = _delivery_error(error)
    message.delivery_status = Message.DeliveryStatus.FAILED
    message.delivery_error = error
    message.delivery_updated_at = occurred_at or timezone.now()
    message.next_delivery_at = None
    message.save(
        update_fields=[
            "delivery_status",
            "delivery_error",
            "delivery_updated_at",
            "next_delivery_at",
        ]
    )
    _record(ticket, Verb.DELIVERY_FAILED, None, message_id=message.pk, error=error)
    _save(ticket, [])
    emit(MessageUpdated(ticket_id=ticket.pk, message_id=message.pk, fields=FAILED_FIELDS))
    return message


def mark_message_failed(message_id: int, *, error: str) -> Message | None:
    """Sending failed for good: the message says why and the ticket's timeline shows it.
    None when the message is not queued, sent or delivered (nothing changes)."""
    with transaction.atomic():
        return _fail_delivery(message_id, error, None)


def apply_status_update(
    channel_account: Any,
    *,
    provider_message_id: str,
    status: str,
    error: str = "",
    occurred_at: datetime | None = None,
) -> Message | None:
    """Apply a provider's report about one of our outbound messages on ``channel_account``.

    Statuses only move forward (queued → sent → delivered → read), so a late "delivered"
    never undoes "read"; "failed" ends any status but read and is recorded on the ticket.
    Returns the message as it now is, or None when no outbound message of the account has
    that provider id (a report about a message sent from elsewhere)."""
    if status not in Message.DeliveryStatus.values:
        raise TicketError(f"Unknown delivery status {status!r}.")
    if not provider_message_id:
        return None
    found = (
        Message.objects.filter(
            channel_account=channel_account,
            direction=Message.Direction.OUTBOUND,
            provider_message_id=provider_message_id[:255],
        )
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    if found is None:
        return None
    if status == Message.DeliveryStatus.FAILED:
        with transaction.atomic():
            _fail_delivery(
                found, error or "The provider reported the message as failed.", occurred_at
            )
    else:
        rank = DELIVERY_PROGRESS[Message.DeliveryStatus(status)]
        earlier = [value for value, place in DELIVERY_PROGRESS.items() if place < rank]
        moved = Message.objects.filter(pk=found, delivery_status__in=earlier).update(
            delivery_status=status,
            delivery_updated_at=occurred_at or timezone.now(),
            next_delivery_at=None,
        )
        if moved:
            message = Message.objects.get(pk=found)
            emit(
                MessageUpdated(
                    ticket_id=message.ticket_id, message_id=message.pk, fields=PROGRESS_FIELDS
                )
            )
            return message
    return Message.objects.get(pk=found)


RETRIED_FIELDS = ("delivery_attempts", "delivery_error", "delivery_status", "delivery_updated_at")


def retry_delivery(message: Message | int, *, actor: User | None) -> Message:
    """Send a failed reply again: it goes back to ``queued`` with its error and attempt
    count cleared, and the delivery pipeline takes it as a new reply (``MessageQueued``,
    after commit). The channel's rules still apply: ``send`` refuses what it must (a closed
    window, an opted-out number) and the message fails again with the reason.

    TicketError unless the message is an outbound message whose delivery failed, or when
    its ticket was merged away."""
    message_id = message if isinstance(message, int) else message.pk
    with transaction.atomic():
        ticket_id = (
            Message.objects.filter(pk=message_id).values_list("ticket_id", flat=True).first()
        )
        if ticket_id is None:
            raise TicketError("That message does not exist.")
        ticket = _lock(ticket_id)
        locked = Message.objects.select_for_update().get(pk=message_id)
        if locked.direction != Message.Direction.OUTBOUND:
            raise TicketError("Only a reply to the customer can be sent again.")
        if locked.delivery_status != Message.DeliveryStatus.FAILED:
            status = locked.get_delivery_status_display().lower() or "not sent yet"
            raise TicketError(f"Only a failed reply can be sent again; this one is {status}.")
        if ticket.merged_into_id is not None:
            raise TicketError(f"Ticket #{ticket.number} was merged into another ticket.")
        previous_error = locked.delivery_error
        locked.delivery_status = Message.DeliveryStatus.QUEUED
        locked.delivery_error = ""
        locked.delivery_attempts = 0
        locked.delivery_updated_at = timezone.now()
        locked.next_delivery_at = None
        locked.save(update_fields=[*RETRIED_FIELDS, "next_delivery_at"])
        _record(ticket, Verb.DELIVERY_RETRIED, actor, message_id=locked.pk, error=previous_error)
        _save(ticket, [])
        emit(MessageUpdated(ticket_id=ticket.pk, message_id=locked.pk, fields=RETRIED_FIELDS))
        emit(MessageQueued(ticket_id=ticket.pk, message_id=locked.pk))
    return locked
