"""Every change to tickets and messages goes through these functions.

Each one locks the ticket row first, writes the change and its ``TicketActivity`` rows in one
transaction, and emits its events through ``helpdesk.events.emit()``, which delivers them
only after commit. Callers get back the fresh ticket; the instance they passed in is stale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Case, When
from django.utils import timezone
from django.utils.text import get_valid_filename

from customers.models import Customer, Order
from customers.services import resolve_sender
from helpdesk.events import MessageCreated, TicketCreated, TicketsMerged, TicketUpdated, emit
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
    crosses this line: the adapter turns its provider's threading data into ``references``
    (provider ids of earlier messages in the conversation) and ``starts_conversation``."""

    channel: str
    sender_address: str
    sender_name: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""
    attachments: tuple[InboundAttachment, ...] = ()
    provider_message_id: str = ""
    references: tuple[str, ...] = ()
    # True when the channel knows this message begins a new conversation (an email with no
    # In-Reply-To); otherwise the customer's active ticket on the channel continues.
    starts_conversation: bool = False
    received_at: datetime | None = None


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
        attachment.save()
    return refused


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
) -> Ticket:
    """A new ticket with no messages yet; ``receive_message`` and the API add them."""
    with transaction.atomic():
        ticket = Ticket.objects.create(
            number=Counter.next_value(TICKET_NUMBER_SEQUENCE),
            subject=subject.strip()[:300],
            customer=customer,
            channel=channel,
            channel_account=channel_account,
            priority=priority,
            team=team if team is not None else getattr(channel_account, "default_team", None),
            follow_up_of=follow_up_of,
        )
        _record(ticket, Verb.CREATED, actor, channel=channel)
        if follow_up_of is not None:
            _record(ticket, Verb.FOLLOW_UP_OPENED, actor, follow_up_of=follow_up_of.number)
        emit(TicketCreated(ticket_id=ticket.pk))
    return ticket


def _final_ticket(ticket: Ticket) -> Ticket:
    """Follow merges to the ticket that now holds the conversation."""
    seen = {ticket.pk}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def find_continued_ticket(
    inbound: InboundMessage, customer: Customer, channel_account: Any
) -> Ticket | None:
    """The ticket this message continues, closed ones included (the caller opens a follow-up
    for those), or None for a new conversation."""
    # A blank reference would match every message without a provider id (notes, replies not
    # sent yet) of every customer.
    references = [reference for reference in inbound.references if reference]
    if references:
        # Provider ids are unique per channel account only (the same contract as the
        # idempotency check), so a reference never reaches into another account's messages.
        earlier = (
            Message.objects.filter(
                provider_message_id__in=references, channel_account=channel_account
            )
            .select_related("ticket")
            .order_by("-id")
            .first()
        )
        if earlier is not None:
            return _final_ticket(earlier.ticket)
    if inbound.starts_conversation:
        return None
    tickets = Ticket.objects.filter(
        customer=customer, channel=inbound.channel, merged_into__isnull=True
    )
    if channel_account is not None:
        tickets = tickets.filter(channel_account=channel_account)
    # An active ticket wins over a newer closed or solved one: the customer is still in that
    # conversation, and a follow-up ticket would split it.
    return tickets.order_by(
        Case(When(status__in=Ticket.ACTIVE_STATUSES, then=0), default=1), "-id"
    ).first()


def receive_message(inbound: InboundMessage, *, channel_account: Any = None) -> Message:
    """Thread a customer message: resolve the sender, continue or open the ticket, save the
    message and its attachments. Idempotent on ``provider_message_id``: a repeated delivery
    returns the message saved the first time."""
    html = sanitize_html(inbound.html)
    if not (inbound.text.strip() or html.strip() or inbound.attachments):
        raise TicketError("The message has no text and no attachments.")
    if channel_account is not None and channel_account.kind != inbound.channel:
        raise TicketError(
            f"A {inbound.channel} message cannot arrive on {channel_account.kind} account "
            f"{channel_account.slug}."
        )
    provider_message_id = inbound.provider_message_id[:255]
    try:
        return _thread_inbound(inbound, html, provider_message_id, channel_account)
    except IntegrityError:
        # Two workers took the same delivery at once and the unique constraint let only one
        # through; the loser answers with the winner's message.
        if provider_message_id:
            already = Message.objects.filter(
                direction=Message.Direction.INBOUND,
                channel_account=channel_account,
                provider_message_id=provider_message_id,
            ).first()
            if already is not None:
                return already
        raise


def _thread_inbound(
    inbound: InboundMessage, html: str, provider_message_id: str, channel_account: Any
) -> Message:
    received_at = inbound.received_at or timezone.now()
    with transaction.atomic():
        # Checked inside the transaction, so two deliveries of one message queue on the write
        # lock and the second one finds the first.
        if provider_message_id:
            already = Message.objects.filter(
                direction=Message.Direction.INBOUND,
                channel_account=channel_account,
                provider_message_id=provider_message_id,
            ).first()
            if already is not None:
                return already
        # Inside the transaction too: a message that fails later leaves no customer behind.
        sender = resolve_sender(
            inbound.channel, inbound.sender_address, display_name=inbound.sender_name
        )
        found = find_continued_ticket(inbound, sender.customer, channel_account)
        ticket: Ticket
        if found is None:
            ticket = open_ticket(
                customer=sender.customer,
                channel=inbound.channel,
                channel_account=channel_account,
                subject=inbound.subject or _subject_from(inbound.text),
            )
        elif found.status == Status.CLOSED:
            ticket = open_ticket(
                customer=sender.customer,
                channel=inbound.channel,
                channel_account=channel_account,
                subject=inbound.subject or found.subject,
                follow_up_of=found,
            )
        else:
            ticket = found
        ticket = _lock(ticket)
        message = Message.objects.create(
            ticket=ticket,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.CUSTOMER,
            author_customer=sender.customer,
            channel_account=channel_account,
            text=inbound.text,
            html=html,
            provider_message_id=provider_message_id,
        )
        refused = _store_attachments(message, inbound.attachments)
        changed = ["last_customer_message_at", "last_message_at"]
        ticket.last_customer_message_at = received_at
        ticket.last_message_at = received_at
        if ticket.status in (Status.SOLVED, Status.PENDING):
            _record(ticket, Verb.REOPENED, None, before=ticket.status, after=Status.OPEN)
            ticket.status = Status.OPEN
            ticket.solved_at = None
            changed += ["status", "solved_at"]
        _save(ticket, changed)
        activity: dict[str, Any] = {"message_id": message.pk}
        if refused:
            activity["attachments_refused"] = refused
        _record(ticket, Verb.MESSAGE_RECEIVED, None, **activity)
        emit(MessageCreated(ticket_id=ticket.pk, message_id=message.pk, kind=message.kind))
        if "status" in changed:
            emit(TicketUpdated(ticket_id=ticket.pk, fields=("status",)))
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
) -> Message:
    """Queue a reply to the customer on the ticket's channel.

    The message is stored as ``queued``; the channel's delivery task sends it. The first
    reply stamps ``first_responded_at``; an unassigned ticket goes to the agent who answers
    it. ``status`` submits the reply as pending, on hold or solved.
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
        emit(TicketUpdated(ticket_id=ticket.pk, fields=tuple(sorted(changed))))
    return message


def add_note(ticket: Ticket, *, author: User, text: str, html: str = "") -> Message:
    """An internal note: agents only, never sent to the customer."""
    if not (text.strip() or html.strip()):
        raise TicketError("A note needs text.")
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
        _record(ticket, Verb.NOTE_ADDED, author, message_id=message.pk)
        _save(ticket, [])
        emit(MessageCreated(ticket_id=ticket.pk, message_id=message.pk, kind=message.kind))
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
