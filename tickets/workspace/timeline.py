"""One timeline per ticket: its messages and its activity, oldest first, as the page shows
them. Activities that only repeat a message (received, replied, note added) are left out:
the message itself is on the timeline."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.urls import reverse

from helpdesk.channel_kinds import ChannelKind
from tickets.html import resolve_inline_images
from tickets.models import Attachment, Message, Ticket, TicketActivity
from tickets.queries import ticket_activities_queryset, ticket_messages_queryset

Verb = TicketActivity.Verb

# The message itself stands for these on the timeline.
SHOWN_BY_THE_MESSAGE = frozenset({Verb.REPLIED, Verb.NOTE_ADDED, Verb.DELIVERY_FAILED})

AUTOMATION_VERBS = frozenset(
    {
        Verb.RULE_APPLIED,
        Verb.MACRO_APPLIED,
        Verb.ROUTED,
        Verb.SLA_APPLIED,
        Verb.SLA_WARNING,
        Verb.SLA_BREACHED,
        Verb.ESCALATED,
        Verb.AUTO_ACKNOWLEDGED,
    }
)
# Image types shown inline: the same types the attachment view serves inline.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

# Where a quoted earlier message starts in plain text: an attribution line ("On Tue, Ana
# wrote:", "Am ... schrieb ...:", "Le ... a écrit :"), an Outlook separator, or a run of
# "> " lines to the end.
_ATTRIBUTION = re.compile(
    r"^(?:On .{1,200} wrote:|Am .{1,200} schrieb .{1,100}:|Le .{1,200} a écrit ?:|"
    r"El .{1,200} escribió:|-{2,} ?Original Message ?-{2,}|-{2,} ?Forwarded message ?-{2,}|"
    r"From: .{1,200})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTED_TAIL = re.compile(r"(?:^>.*(?:\n|$))+\s*\Z", re.MULTILINE)


def split_quoted(text: str) -> tuple[str, str]:
    """``text`` cut where the message it quotes begins: (the new part, the quoted part).
    The quoted part is empty when none is found, and nothing is cut when the quote would
    be everything."""
    starts = []
    attribution = _ATTRIBUTION.search(text)
    if attribution:
        starts.append(attribution.start())
    tail = _QUOTED_TAIL.search(text)
    if tail:
        starts.append(tail.start())
    if not starts:
        return text, ""
    start = min(starts)
    body = text[:start].rstrip()
    if not body:
        return text, ""
    return body, text[start:].strip()


@dataclass
class ShownAttachment:
    attachment: Attachment
    url: str
    is_image: bool


@dataclass
class TimelineEntry:
    kind: str  # "message" or "activity"
    created_at: datetime
    message: Message | None = None
    activity: TicketActivity | None = None
    body: str = ""
    quoted: str = ""
    html: str = ""
    attachments: list[ShownAttachment] = field(default_factory=list)
    description: str = ""
    actor_name: str = ""
    link_number: int | None = None
    # The email as received, for a customer email that has it; may the agent split it off.
    original_url: str = ""
    can_split: bool = False

    @property
    def dom_id(self) -> str:
        if self.message is not None:
            return f"message-{self.message.pk}"
        assert self.activity is not None
        return f"activity-{self.activity.pk}"


def _attachments(message: Message) -> list[ShownAttachment]:
    return [
        ShownAttachment(
            attachment,
            reverse("tickets:attachment", args=[attachment.pk, attachment.name]),
            attachment.content_type in INLINE_IMAGE_TYPES,
        )
        for attachment in message.attachments.all()
    ]


# The email channel keeps each message as received under this name (a message/rfc822 file).
ORIGINAL_NAME = "original.eml"
ORIGINAL_CONTENT_TYPE = "message/rfc822"


def _is_original(shown: ShownAttachment) -> bool:
    return (
        shown.attachment.name == ORIGINAL_NAME
        and shown.attachment.content_type == ORIGINAL_CONTENT_TYPE
    )


def _message_entry(message: Message, ticket: Ticket | None = None) -> TimelineEntry:
    attachments = _attachments(message)
    original_url = ""
    if ticket is not None and ticket.channel == ChannelKind.EMAIL:
        if message.kind == Message.Kind.CUSTOMER and (
            any(_is_original(shown) for shown in attachments)
            or (message.channel_account_id and message.provider_message_id)
        ):
            original_url = reverse("tickets:message-original", args=[ticket.number, message.pk])
        # Shown as "Download original", not as one more attachment.
        attachments = [shown for shown in attachments if not _is_original(shown)]
    body, quoted = split_quoted(message.text)
    html = ""
    if message.html and message.kind == Message.Kind.CUSTOMER:
        urls = {
            shown.attachment.content_id: shown.url
            for shown in attachments
            if shown.attachment.content_id
        }
        html = resolve_inline_images(message.html, urls)
    # Inline images of an email body are shown in its HTML; only the others are listed.
    if html:
        attachments = [
            shown
            for shown in attachments
            if not (shown.attachment.content_id and f"/{shown.attachment.pk}/" in html)
        ]
    return TimelineEntry(
        "message",
        message.created_at,
        message=message,
        body=body,
        quoted=quoted,
        html=html,
        attachments=attachments,
        original_url=original_url,
    )


def _name(reference: Any, fallback: str = "nobody") -> str:
    if isinstance(reference, dict) and reference.get("name"):
        return str(reference["name"])
    return fallback


def _number(reference: Any) -> int | None:
    if isinstance(reference, dict) and isinstance(reference.get("number"), int):
        return int(reference["number"])
    return None


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def describe(activity: TicketActivity) -> tuple[str, int | None]:
    """What an activity says on the timeline, without its actor, and the ticket number it
    points at (a merge, a split), if any. Empty for activities the timeline leaves out."""
    data = activity.data if isinstance(activity.data, dict) else {}
    verb = activity.verb
    status, priority = Ticket.Status, Ticket.Priority
    if verb == Verb.CREATED:
        return f"opened the ticket on {_label(ChannelKind, data.get('channel', ''))}", None
    if verb == Verb.MESSAGE_RECEIVED:
        refused = data.get("attachments_refused") or []
        if not refused:
            return "", None
        names = ", ".join(f"{item.get('name')} ({item.get('reason')})" for item in refused)
        return f"refused attachments: {names}", None
    if verb == Verb.ASSIGNED:
        after = data.get("after")
        if isinstance(after, dict) and activity.actor_id and after.get("id") == activity.actor_id:
            return "took the ticket", None
        return f"assigned the ticket to {_name(after)}", None
    if verb == Verb.UNASSIGNED:
        return f"unassigned {_name(data.get('before'))}", None
    if verb == Verb.TEAM_CHANGED:
        after = data.get("after")
        return (f"moved the ticket to {_name(after)}" if after else "removed the team"), None
    if verb == Verb.STATUS_CHANGED:
        before, after = data.get("before"), data.get("after")
        return f"changed status {_label(status, before)} → {_label(status, after)}", None
    if verb == Verb.REOPENED:
        return "reopened the ticket: the customer wrote again", None
    if verb == Verb.PRIORITY_CHANGED:
        before, after = data.get("before"), data.get("after")
        return f"changed priority {_label(priority, before)} → {_label(priority, after)}", None
    if verb == Verb.TAGGED:
        return f"added tags {', '.join(data.get('tags', []))}", None
    if verb == Verb.UNTAGGED:
        return f"removed tags {', '.join(data.get('tags', []))}", None
    if verb == Verb.MERGED_INTO:
        target = data.get("target")
        return f"merged this ticket into #{_number(target)}", _number(target)
    if verb == Verb.MERGED_FROM:
        source = data.get("source")
        moved = data.get("messages")
        extra = f" ({moved} messages)" if isinstance(moved, int) else ""
        return f"merged #{_number(source)} into this ticket{extra}", _number(source)
    if verb == Verb.FOLLOW_UP_OPENED:
        number = data.get("follow_up_of")
        return f"opened as a follow-up to #{number}", number if isinstance(number, int) else None
    if verb == Verb.MESSAGE_SPLIT:
        target = data.get("target")
        return f"split a message into #{_number(target)}", _number(target)
    if verb == Verb.SPLIT_FROM:
        source = data.get("source")
        return f"opened from a message split off #{_number(source)}", _number(source)
    if verb == Verb.MESSAGE_MOVED_OUT:
        target = data.get("target")
        return f"moved a message to #{_number(target)}", _number(target)
    if verb == Verb.MESSAGE_MOVED_IN:
        source = data.get("source")
        return f"moved a message here from #{_number(source)}", _number(source)
    if verb == Verb.DELIVERY_RETRIED:
        return "sent a failed reply again", None
    if verb == Verb.ORDER_LINKED:
        return f"linked order {_name_of_order(data.get('order'))}", None
    if verb == Verb.ORDER_UNLINKED:
        return f"unlinked order {_name_of_order(data.get('order'))}", None
    summary = data.get("summary")
    if verb in AUTOMATION_VERBS and isinstance(summary, str) and summary:
        return summary, None
    return str(activity.get_verb_display()).lower(), None


def _name_of_order(reference: Any) -> str:
    if isinstance(reference, dict) and reference.get("number"):
        return str(reference["number"])
    return "an order"


def _actor_name(activity: TicketActivity, ticket: Ticket) -> str:
    """Who did it: the agent, the customer for a ticket their message opened, else the
    system (rules, the delivery pipeline)."""
    if activity.actor is not None:
        return activity.actor.name
    if activity.verb == Verb.CREATED:
        return str(ticket.customer)
    return "Switchboard"


def ticket_timeline(ticket: Ticket) -> list[TimelineEntry]:
    """Messages and activities of ``ticket`` in the order they happened: three queries
    (messages with their authors, their attachments, activities with their actors)."""
    entries = [_message_entry(message, ticket) for message in ticket_messages_queryset(ticket)]
    # The service refuses to split a ticket's only message, or off a closed or merged one.
    splittable = (
        len(entries) > 1 and ticket.merged_into_id is None and ticket.status != Ticket.Status.CLOSED
    )
    for entry in entries:
        entry.can_split = (
            splittable
            and entry.message is not None
            and (entry.message.kind == Message.Kind.CUSTOMER)
        )
    for activity in ticket_activities_queryset(ticket):
        if activity.verb in SHOWN_BY_THE_MESSAGE:
            continue
        description, number = describe(activity)
        if not description:
            continue
        entries.append(
            TimelineEntry(
                "activity",
                activity.created_at,
                activity=activity,
                description=description,
                actor_name=_actor_name(activity, ticket),
                link_number=number,
            )
        )
    # Activities written in the same transaction as a message (a reply that assigns the
    # ticket) follow it.
    entries.sort(key=lambda entry: (entry.created_at, entry.kind != "message"))
    return entries
