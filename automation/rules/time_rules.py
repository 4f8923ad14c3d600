"""Time-based rules ("pending for 3 days", "unassigned for 30 minutes"), run by the beat
task ``automation.time_rules_task``.

For each active time-based rule, candidates come from an indexed query on the ticket
(status + ``updated_at``; assignee + status + ``created_at``; ``last_customer_message_at``),
at most ``BATCH`` per run, oldest first. Each candidate's *episode* is then computed exactly:
when the ticket entered the status, became unassigned, or when the unanswered customer
message arrived. The episode is the firing's ``event_key``: a rule fires once per episode
(the unique constraint holds under two workers), and a new episode — the ticket left the
status and came back, was assigned and unassigned, the customer wrote again — lets it fire
again. A ticket that no longer qualifies (changed since the candidate query) is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from automation.rules.context import TicketContext, load_context
from automation.rules.engine import CompiledRule, active_rules, fire_rule

BATCH = 500


def _candidates(rule: CompiledRule, cutoff: datetime) -> Any:
    from tickets.models import Ticket

    tickets = Ticket.objects.filter(merged_into__isnull=True)
    if rule.time_basis == "status_for":
        # ticket_status_updated index: a ticket untouched since the cutoff has been in its
        # status at least that long.
        return tickets.filter(status=rule.time_status, updated_at__lte=cutoff).order_by(
            "updated_at"
        )
    if rule.time_basis == "unassigned_for":
        return tickets.filter(
            assignee__isnull=True, status__in=Ticket.ACTIVE_STATUSES, created_at__lte=cutoff
        ).order_by("created_at")
    return tickets.filter(
        Q(last_agent_message_at__isnull=True)
        | Q(last_agent_message_at__lt=F("last_customer_message_at")),
        status__in=(Ticket.Status.NEW, Ticket.Status.OPEN),
        last_customer_message_at__lte=cutoff,
    ).order_by("last_customer_message_at")


def _last_activity(ticket_id: int, verbs: tuple[str, ...]) -> datetime | None:
    from tickets.models import TicketActivity

    return (
        TicketActivity.objects.filter(ticket_id=ticket_id, verb__in=verbs)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )


def episode_key(rule: CompiledRule, ctx: TicketContext, cutoff: datetime) -> str | None:
    """The episode the ticket is in for ``rule``, or None when it does not qualify (yet)."""
    from tickets.models import Ticket, TicketActivity

    ticket = ctx.ticket
    verb = TicketActivity.Verb
    if rule.time_basis == "status_for":
        if ticket.status != rule.time_status:
            return None
        since = _last_activity(ticket.pk, (verb.STATUS_CHANGED,)) or ticket.created_at
        key = f"status:{rule.time_status}:{since.isoformat()}"
    elif rule.time_basis == "unassigned_for":
        if ticket.assignee_id is not None or ticket.status not in Ticket.ACTIVE_STATUSES:
            return None
        since = _last_activity(ticket.pk, (verb.UNASSIGNED,)) or ticket.created_at
        key = f"unassigned:{since.isoformat()}"
    else:
        waiting = ticket.last_customer_message_at
        answered = ticket.last_agent_message_at
        if waiting is None or (answered is not None and answered >= waiting):
            return None
        since = waiting
        key = f"waiting:{since.isoformat()}"
    return key if since <= cutoff else None


def run_time_rules(now: datetime | None = None) -> int:
    """Evaluate every active time-based rule once; returns how many times rules fired."""
    from automation.models import Rule, RuleFiring

    now = now or timezone.now()
    fired = 0
    for rule in active_rules(Rule.Trigger.TIME_BASED):
        if not rule.time_minutes:
            continue
        cutoff = now - timedelta(minutes=rule.time_minutes)
        ticket_ids = list(_candidates(rule, cutoff).values_list("pk", flat=True)[:BATCH])
        # Tickets this rule already fired on: most candidates of a long-lived episode.
        done = set(
            RuleFiring.objects.filter(rule_id=rule.id, ticket_id__in=ticket_ids)
            .exclude(event_key="")
            .values_list("ticket_id", "event_key")
        )
        for ticket_id in ticket_ids:
            ctx = load_context(ticket_id)
            if ctx is None:
                continue
            ctx.now = now
            key = episode_key(rule, ctx, cutoff)
            if key is None or (ticket_id, key) in done or not rule.matches(ctx):
                continue
            if fire_rule(rule, ctx, event_key=key):
                fired += 1
    return fired
