"""Macros and auto-acknowledgements: the writes.

A macro's actions and its reply go through ``tickets.services`` (which lock the ticket,
record the activity and emit the events); ``apply_macro`` runs them in one transaction, so
a refused step (a closed ticket, a channel that refuses free text) leaves nothing half
done. The auto-acknowledgement is sent at most once per ticket per period: the check and
the send happen under the ticket's row lock, and a unique row per triggering message is
the last line against a retried or doubled event.
"""

from __future__ import annotations

import dataclasses
import logging
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from automation.batch import once_per_task
from automation.macros.templating import render_template
from automation.models import AutoAcknowledgement, AutoAcknowledgementSent, Macro
from automation.sla.calendar import CalendarError, next_opening
from helpdesk.models import User
from tickets import services as tickets
from tickets.models import Message, Ticket, TicketActivity

logger = logging.getLogger(__name__)

Verb = TicketActivity.Verb


def _lock_ticket(ticket: Ticket) -> Ticket:
    # No select_related: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


# --- Macros --------------------------------------------------------------------------------


def visible_macros(user: User) -> QuerySet[Macro]:
    """The macros ``user`` may see and apply: the shared ones and their own personal ones
    (never another agent's)."""
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user)).select_related(
        "assign_agent", "assign_team"
    )


def can_manage_macro(user: User, macro: Macro) -> bool:
    """Agents manage their own personal macros; admins also the shared ones."""
    if macro.owner_id is None:
        return user.is_admin
    return macro.owner_id == user.pk


def save_macro(macro: Macro) -> Macro:
    """Validate (body template, actions) and save. ValidationError on bad input."""
    macro.full_clean()
    macro.save()
    return macro


def delete_macro(macro: Macro) -> None:
    macro.delete()


def describe_actions(macro: Macro, *, actor: User | None) -> list[str]:
    """What applying ``macro`` does to a ticket, one sentence per action, in the order
    ``apply_macro`` runs them."""
    lines = []
    if macro.add_tags:
        lines.append("Add tags: " + ", ".join(macro.add_tags))
    if macro.remove_tags:
        lines.append("Remove tags: " + ", ".join(macro.remove_tags))
    if macro.set_priority:
        lines.append(f"Set priority to {Ticket.Priority(macro.set_priority).label}")
    if macro.assign_team is not None:
        lines.append(f"Move to team {macro.assign_team.name}")
    if macro.assign == Macro.Assign.ME:
        # Applied by automation there is no "me": the step is skipped.
        if actor is not None:
            lines.append(f"Assign to {actor.name} (you)")
    elif macro.assign == Macro.Assign.AGENT and macro.assign_agent is not None:
        lines.append(f"Assign to {macro.assign_agent.name}")
    elif macro.assign == Macro.Assign.UNASSIGN:
        lines.append("Unassign")
    if macro.set_status:
        lines.append(f"Set status to {Ticket.Status(macro.set_status).label}")
    return lines


@dataclasses.dataclass(frozen=True)
class MacroResult:
    """What a macro did: the rendered ``body`` (for the reply box), the ``actions`` taken
    (sentences), the fresh ``ticket`` and the reply ``message`` when it was sent."""

    ticket: Ticket
    body: str
    actions: list[str]
    message: Message | None = None


def check_macro_usable(macro: Macro, *, actor: User | None) -> None:
    """TicketError unless ``actor`` may apply ``macro`` (active; shared or their own).
    Automation (actor None) may apply shared macros only."""
    if not macro.is_active:
        raise tickets.TicketError(f"The macro “{macro.name}” is switched off.")
    if macro.owner_id is not None and (actor is None or macro.owner_id != actor.pk):
        raise tickets.TicketError(f"The macro “{macro.name}” is someone else's.")


def preview_macro(ticket: Ticket, macro: Macro, *, actor: User | None) -> MacroResult:
    """The body as it would be inserted and the actions it would take; changes nothing."""
    check_macro_usable(macro, actor=actor)
    body = render_template(macro.body, ticket=ticket, agent=actor)
    return MacroResult(ticket=ticket, body=body, actions=describe_actions(macro, actor=actor))


def apply_macro(
    ticket: Ticket, macro: Macro, *, actor: User | None, send: bool = False
) -> MacroResult:
    """Run ``macro``'s actions on ``ticket`` through ``tickets.services`` and render its
    body for ``actor``; with ``send`` the body also goes to the customer as a reply (from
    ``actor``, or an automatic reply when automation applies it). One transaction: when one
    step is refused (TicketError), nothing is applied. Records ``MACRO_APPLIED``."""
    check_macro_usable(macro, actor=actor)
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        if ticket.merged_into_id is not None:
            raise tickets.TicketError(f"Ticket #{ticket.number} was merged into another ticket.")
        body = render_template(macro.body, ticket=ticket, agent=actor)
        actions = describe_actions(macro, actor=actor)
        if macro.add_tags:
            ticket = tickets.tag_ticket(ticket, macro.add_tags, actor=actor)
        if macro.remove_tags:
            ticket = tickets.untag_ticket(ticket, macro.remove_tags, actor=actor)
        if macro.set_priority:
            ticket = tickets.change_priority(ticket, macro.set_priority, actor=actor)
        if macro.assign_team is not None:
            ticket = tickets.assign_team(ticket, macro.assign_team, actor=actor)
        if macro.assign == Macro.Assign.ME and actor is not None:
            ticket = tickets.assign_ticket(ticket, actor, actor=actor)
        elif macro.assign == Macro.Assign.AGENT and macro.assign_agent is not None:
            ticket = tickets.assign_ticket(ticket, macro.assign_agent, actor=actor)
        elif macro.assign == Macro.Assign.UNASSIGN:
            ticket = tickets.unassign_ticket(ticket, actor=actor)
        message = None
        if send:
            message = _send_body(ticket, macro, body, actor)
        # Last, so a reply (which opens a new ticket) cannot undo a "solved" or "pending".
        if macro.set_status:
            ticket = tickets.change_status(ticket, macro.set_status, actor=actor)
        Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1)
        # The timeline puts the actor's name (or the system's) before the summary.
        summary = f"applied the macro “{macro.name}”"
        if actions:
            summary += ": " + "; ".join(action[0].lower() + action[1:] for action in actions)
        tickets.record_automation_activity(
            ticket,
            Verb.MACRO_APPLIED,
            summary,
            actor=actor,
            macro={"id": macro.pk, "name": macro.name},
            actions=actions,
            sent=message is not None,
        )
    return MacroResult(
        ticket=Ticket.objects.get(pk=ticket.pk), body=body, actions=actions, message=message
    )


def _send_body(ticket: Ticket, macro: Macro, body: str, actor: User | None) -> Message:
    if not body.strip():
        raise tickets.TicketError(f"The macro “{macro.name}” has no text to send.")
    if actor is not None:
        return tickets.add_reply(ticket, author=actor, text=body)
    if settings.REPLY_CHECK:
        import_string(settings.REPLY_CHECK)(ticket)
    return tickets.add_automatic_reply(
        ticket, text=body, summary=f"sent the reply of the macro “{macro.name}”"
    )


# --- Auto-acknowledgements -----------------------------------------------------------------


def save_auto_acknowledgement(ack: AutoAcknowledgement) -> AutoAcknowledgement:
    ack.full_clean()
    ack.save()
    return ack


def expected_reply_text(ack: AutoAcknowledgement, now: datetime) -> str:
    """``{{ expected_reply }}``: "within 2 hours" while the business hours are open, else
    when they open again in their own time zone: "when we're back Monday at 9:00" (or
    "today at" / "tomorrow at"; a date when it is more than a week away)."""
    hours = ack.business_hours
    within = f"within {ack.expected_reply_label}"
    try:
        opening = next_opening(hours, now)
    except CalendarError:
        return within
    if hours is None or opening <= now:
        return within
    try:
        zone = zoneinfo.ZoneInfo(hours.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local_now, local_opening = now.astimezone(zone), opening.astimezone(zone)
    days = (local_opening.date() - local_now.date()).days
    clock = f"{local_opening.hour}:{local_opening.minute:02d}"
    if days == 0:
        day = "today"
    elif days == 1:
        day = "tomorrow"
    elif days < 7:
        day = local_opening.strftime("%A")
    else:
        day = f"{local_opening:%A} {local_opening.day} {local_opening:%B}"
    return f"when we're back {day} at {clock}"


def _trigger_message(ticket_id: int, message_id: int | None) -> Message | None:
    """The customer message that asks for an acknowledgement: the one named, or for a
    new ticket its first customer message. None when there is nothing to acknowledge
    (an automated message, a message an agent logged, a ticket opened without one)."""
    messages = Message.objects.filter(
        ticket_id=ticket_id, kind=Message.Kind.CUSTOMER, direction=Message.Direction.INBOUND
    )
    if message_id is not None:
        message = messages.filter(pk=message_id).first()
    else:
        message = messages.order_by("created_at", "id").first()
    if message is None or message.is_automated:
        return None
    return message


def _any_enabled() -> bool:
    # A function, not a queryset built on every call only to be asked once per task: the
    # building alone was a third of automation's work on a desk that acknowledges nothing.
    return AutoAcknowledgement.objects.filter(enabled=True).exists()


def send_auto_acknowledgement(ticket_id: int, *, message_id: int | None = None) -> Message | None:
    """Acknowledge the customer message ``message_id`` (or a new ticket's first message)
    on ``ticket_id``'s own channel, if its channel account has an enabled
    acknowledgement, the message is not automated (an auto-reply, a bounce), the channel
    takes free text now (``settings.REPLY_CHECK``: an opted-out SMS number, a closed
    WhatsApp window refuse) and none was sent on the ticket within the period. Returns the
    queued message, or None. Idempotent and safe to run on two workers at once: the
    period is checked under the ticket's row lock, which the second worker waits for."""
    # Whether any account acknowledges at all, once per automation task; then the account's
    # acknowledgement, by the ticket's id: most events of most accounts end after that.
    if not once_per_task("autoack.enabled", _any_enabled):
        return None
    ack = (
        AutoAcknowledgement.objects.select_related("business_hours", "channel_account")
        .filter(channel_account__tickets=ticket_id, enabled=True)
        .first()
    )
    if ack is None:
        return None
    trigger = _trigger_message(ticket_id, message_id)
    if trigger is None:
        return None
    ticket = Ticket.objects.select_related("channel_account").filter(pk=ticket_id).first()
    if ticket is None or ticket.channel_account_id != ack.channel_account_id:
        return None
    try:
        return _acknowledge(ticket, trigger, ack)
    except IntegrityError:
        # The unique (ticket, trigger) row of another worker that got there first.
        return None


def _acknowledge(ticket: Ticket, trigger: Message, ack: AutoAcknowledgement) -> Message | None:
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        if ticket.merged_into_id is not None or ticket.status == Ticket.Status.CLOSED:
            return None
        since = now - timedelta(hours=ack.period_hours)
        already = AutoAcknowledgementSent.objects.filter(ticket=ticket).filter(
            Q(sent_at__gt=since) | Q(trigger_message=trigger)
        )
        if already.exists():
            return None
        if settings.REPLY_CHECK:
            try:
                import_string(settings.REPLY_CHECK)(ticket)
            except tickets.TicketError as refusal:
                logger.info("No acknowledgement on ticket %s: %s", ticket.pk, refusal)
                return None
        expected = expected_reply_text(ack, now)
        text = render_template(
            ack.body,
            ticket=ticket,
            extra={"expected_reply": expected},
        )
        message = tickets.add_automatic_reply(
            ticket,
            text=text,
            summary=f"acknowledged the customer's message ({ack.channel_account.name}): "
            f"reply expected {expected}",
        )
        AutoAcknowledgementSent.objects.create(
            ticket=ticket, trigger_message=trigger, message=message, sent_at=now
        )
    return message
