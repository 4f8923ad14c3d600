"""SLA state changes: which policy applies to a ticket, its clocks and due times, and the
sweep that warns and escalates.

``sync_ticket_sla`` recomputes a ticket's clocks from its whole history (see
``automation.sla.clocks``) and stores them, its timeline of periods and the due times on the
ticket (through ``tickets.services.set_sla_due_times``). The result depends only on the
ticket, not on the event that asked for it, so calling it twice is harmless.

``sweep_sla`` is the periodic part: it reads the tickets whose ``TicketSla.next_check_at``
has come (through that column's index, never a scan of open tickets) and, once per clock,
emits ``SlaWarning`` / ``SlaBreached``, writes the timeline line and runs the policy's
escalations.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from automation.batch import for_the_tasks_tickets, once_per_task
from automation.models import (
    BusinessHours,
    Holiday,
    SlaClock,
    SlaPeriod,
    SlaPolicy,
    SlaTarget,
    TicketSla,
)
from automation.sla import clocks as clock_maths
from automation.sla.calendar import load_calendar
from helpdesk.events import SlaBreached, SlaWarning, emit
from tickets import services as ticket_services
from tickets.models import Message, Ticket, TicketActivity

logger = logging.getLogger(__name__)

Verb = TicketActivity.Verb
Status = Ticket.Status

# Ticket fields whose change can change the clocks or the policy.
RELEVANT_FIELDS = frozenset(
    {"status", "priority", "channel", "tags", "customer", "first_responded_at", "messages"}
)
PRIORITY_STEPS = [str(value) for value in Ticket.Priority.values]  # low → urgent
SWEEP_BATCH = 500


# --- Matching --------------------------------------------------------------------------------


def policy_matches(policy: SlaPolicy, ticket: Ticket, customer_tags: Iterable[str]) -> bool:
    if policy.priorities and ticket.priority not in policy.priorities:
        return False
    if policy.channels and ticket.channel not in policy.channels:
        return False
    if policy.customer_tags:
        wanted = {tag.strip().lower() for tag in policy.customer_tags}
        if not wanted & {str(tag).strip().lower() for tag in customer_tags}:
            return False
    return True


def active_policies() -> list[SlaPolicy]:
    """Every active policy, by position (the model's ordering), with its calendar; read once
    per automation task."""
    return once_per_task(
        "sla.policies",
        lambda: list(SlaPolicy.objects.filter(active=True).select_related("business_hours")),
    )


def _tickets_with_clocks(ticket_ids: Iterable[int]) -> set[int]:
    clocked = TicketSla.objects.filter(ticket_id__in=ticket_ids)
    return set(clocked.values_list("ticket_id", flat=True))


def match_policy(ticket: Ticket, policies: list[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The first active policy, by position, whose conditions the ticket meets;
    ``policies`` as ``active_policies`` gives them, when already read."""
    tags = ticket.customer.tags if isinstance(ticket.customer.tags, list) else []
    for policy in active_policies() if policies is None else policies:
        if policy_matches(policy, ticket, tags):
            return policy
    return None


# --- History ---------------------------------------------------------------------------------


def ticket_history(ticket: Ticket) -> clock_maths.History:
    """The status changes and messages the clocks are computed from."""
    changes = list(
        TicketActivity.objects.filter(
            ticket=ticket, verb__in=(Verb.STATUS_CHANGED, Verb.REOPENED, Verb.MERGED_INTO)
        )
        .order_by("created_at", "id")
        .values_list("created_at", "verb", "data")
    )
    status_changes: list[tuple[datetime, str]] = []
    initial_status = ticket.status
    for index, (moment, verb, data) in enumerate(changes):
        after = Status.CLOSED if verb == Verb.MERGED_INTO else (data or {}).get("after")
        before = (data or {}).get("before")
        if index == 0 and isinstance(before, str):
            initial_status = before
        if isinstance(after, str):
            status_changes.append((moment, after))
    customer_messages: list[datetime] = []
    replies: list[datetime] = []
    for moment, kind in (
        Message.objects.filter(ticket=ticket, kind__in=(Message.Kind.CUSTOMER, Message.Kind.REPLY))
        .exclude(kind=Message.Kind.CUSTOMER, is_automated=True)
        .order_by("created_at", "id")
        .values_list("created_at", "kind")
    ):
        (customer_messages if kind == Message.Kind.CUSTOMER else replies).append(moment)
    return clock_maths.History(
        created_at=ticket.created_at,
        initial_status=initial_status if changes else ticket.status,
        status_changes=status_changes,
        customer_messages=customer_messages,
        replies=replies,
        first_responded_at=ticket.first_responded_at,
    )


# --- Sync ------------------------------------------------------------------------------------


def _next_check(rows: Iterable[SlaClock]) -> datetime | None:
    """The earliest warning or due time among open clocks that the sweep has not acted on."""
    moments = []
    for clock in rows:
        if clock.state == SlaClock.State.DONE:
            continue
        if clock.warn_at is not None and clock.warned_at is None and clock.breached_at is None:
            moments.append(clock.warn_at)
        if clock.due_at is not None and clock.breached_at is None:
            moments.append(clock.due_at)
    return min(moments, default=None)


def _due_fields(rows: Iterable[SlaClock]) -> dict[str, datetime | None]:
    due: dict[str, datetime | None] = {
        "first_response_due_at": None,
        "next_response_due_at": None,
        "resolution_due_at": None,
    }
    for clock in rows:
        if clock.state != SlaClock.State.DONE and clock.due_at is not None:
            due[f"{clock.target}_due_at"] = clock.due_at
    return due


def _policy_summary(before: SlaPolicy | None, after: SlaPolicy | None) -> str:
    if after is None:
        return f"SLA policy “{before}” no longer applies"
    if before is None:
        return f"SLA policy “{after}” applied"
    return f"SLA policy changed from “{before}” to “{after}”"


def _store_periods(ticket: Ticket, periods: list[clock_maths.Period]) -> None:
    stored = list(
        SlaPeriod.objects.filter(ticket=ticket)
        .order_by("started_at", "id")
        .values_list("state", "started_at", "ended_at")
    )
    wanted = [(period.state, period.started_at, period.ended_at) for period in periods]
    if stored == wanted:
        return
    SlaPeriod.objects.filter(ticket=ticket).delete()
    SlaPeriod.objects.bulk_create(
        SlaPeriod(ticket=ticket, state=state, started_at=started, ended_at=ended)
        for state, started, ended in wanted
    )


CLOCK_FIELDS = (
    "policy_id",
    "target_minutes",
    "state",
    "started_at",
    "completed_at",
    "due_at",
    "warn_at",
    "elapsed_minutes",
    "achieved",
    "warned_at",
    "breached_at",
)


def _store_clocks(
    ticket: Ticket,
    policy: SlaPolicy,
    computed: list[clock_maths.Clock],
    *,
    policy_changed: bool,
) -> list[SlaClock]:
    existing = {(row.target, row.cycle): row for row in SlaClock.objects.filter(ticket=ticket)}
    lead = timedelta(minutes=policy.warning_minutes)
    kept: list[SlaClock] = []
    for clock in computed:
        row = existing.pop((clock.target, clock.cycle), None)
        if row is None:
            row = SlaClock(ticket=ticket, target=clock.target, cycle=clock.cycle)
        before = {field: getattr(row, field) for field in CLOCK_FIELDS} if row.pk else None
        row.policy_id = policy.pk
        row.target_minutes = clock.target_minutes
        row.state = clock.state
        row.started_at = clock.started_at
        row.completed_at = clock.completed_at
        row.due_at = clock.due_at
        row.warn_at = clock.due_at - lead if clock.due_at and policy.warning_minutes else None
        row.elapsed_minutes = clock.elapsed_minutes
        row.achieved = clock.achieved
        if policy_changed:
            # New targets: the warnings and breaches of the old policy do not carry over
            # (their timeline lines stay).
            row.warned_at = None
            row.breached_at = None
        if row.breached_at is not None and row.achieved is None:
            # Breached and then the clock moved (reopened, un-paused): still a miss.
            row.achieved = False
        if before is None or before != {field: getattr(row, field) for field in CLOCK_FIELDS}:
            row.save()
        kept.append(row)
    if existing:
        SlaClock.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    return kept


def sync_ticket_sla(ticket_id: int, *, now: datetime | None = None) -> TicketSla | None:
    """Match the ticket's policy, recompute its clocks and store them with the ticket's due
    times. Returns the ticket's SLA, or None when no policy applies and none did before."""
    now = now or timezone.now()
    policies = active_policies()
    if not policies and not for_the_tasks_tickets("sla.clocked", ticket_id, _tickets_with_clocks):
        # A desk without policies: only a ticket that had one has clocks to stop. Every
        # other event ends here, without a transaction or a lock (and, in an automation
        # task, with one query for all of its tickets).
        return None
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None:
            return None
        # Ticket, then its SLA row, then the clocks: the order the sweep (which takes the
        # SLA row first and the ticket only after its commit) cannot cross.
        sla = (
            TicketSla.objects.select_for_update(of=("self",))
            .select_related("policy")
            .filter(ticket=ticket)
            .first()
        )
        before = sla.policy if sla is not None else None
        if ticket.status == Status.CLOSED and sla is not None:
            policy = before  # closed is final: the clocks stop under the policy they had
        else:
            policy = match_policy(ticket, policies)
        if policy is None and before is None:
            if sla is not None and sla.next_check_at is not None:
                TicketSla.objects.filter(pk=sla.pk).update(next_check_at=None)
            return sla
        if sla is None:
            sla = TicketSla(ticket=ticket)
        policy_changed = (before.pk if before else None) != (policy.pk if policy else None)
        if policy is None:
            SlaClock.objects.filter(ticket=ticket).exclude(state=SlaClock.State.DONE).delete()
            SlaPeriod.objects.filter(ticket=ticket).delete()
            rows: list[SlaClock] = []
            sla.paused = False
        else:
            computed, periods = clock_maths.compute(
                ticket_history(ticket),
                first_response_minutes=policy.first_response_minutes,
                next_response_minutes=policy.next_response_minutes,
                resolution_minutes=policy.resolution_minutes,
                pause_statuses=policy.pause_statuses,
                calendar=load_calendar(policy.business_hours),
                now=now,
            )
            rows = _store_clocks(ticket, policy, computed, policy_changed=policy_changed)
            _store_periods(ticket, periods)
            sla.paused = periods[-1].state != clock_maths.RUNNING
        sla.policy = policy
        sla.next_check_at = _next_check(rows)
        sla.save()
        if policy_changed:
            ticket_services.record_automation_activity(
                ticket,
                Verb.SLA_APPLIED,
                _policy_summary(before, policy),
                policy_id=policy.pk if policy else None,
                previous_policy_id=before.pk if before else None,
            )
        ticket_services.set_sla_due_times(ticket.pk, **_due_fields(rows))
    return sla


# --- Sweep -----------------------------------------------------------------------------------


@dataclasses.dataclass
class SweepResult:
    tickets: int = 0
    warnings: int = 0
    breaches: int = 0


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%a %d %b %H:%M")


def _escalate(ticket_id: int, policy: SlaPolicy, targets: list[str]) -> list[str]:
    """Run the policy's breach escalations through tickets.services; what was done."""
    done: list[str] = []
    ticket = Ticket.objects.select_related("team").get(pk=ticket_id)
    if ticket.status == Status.CLOSED or ticket.merged_into_id is not None:
        return done
    if policy.escalate_raise_priority and ticket.priority in PRIORITY_STEPS:
        step = PRIORITY_STEPS.index(ticket.priority)
        if step + 1 < len(PRIORITY_STEPS):
            raised = PRIORITY_STEPS[step + 1]
            ticket_services.change_priority(ticket, raised, actor=None)
            done.append(f"raised the priority to {Ticket.Priority(raised).label}")
    team = policy.escalate_to_team
    if team is not None and ticket.team_id != team.pk:
        ticket_services.assign_team(ticket, team, actor=None)
        done.append(f"moved it to team {team.name}")
    if done:
        labels = ", ".join(SlaTarget(target).label.lower() for target in targets)
        ticket_services.record_automation_activity(
            ticket_id,
            Verb.ESCALATED,
            f"SLA policy “{policy}” {' and '.join(done)} ({labels} missed)",
            policy_id=policy.pk,
            targets=targets,
        )
    return done


def _fire(
    clock: SlaClock, policy: SlaPolicy | None, now: datetime
) -> tuple[str, tuple[Any, ...]] | None:
    """What the sweep does to one open clock at ``now``: ("breach" | "warning", its timeline
    line and event), or None."""
    label = SlaTarget(clock.target).label
    policy_id = policy.pk if policy else None
    due = clock.due_at.isoformat() if clock.due_at else None
    if clock.due_at is not None and clock.due_at <= now and clock.breached_at is None:
        summary = f"{label} target missed: it was due {_when(clock.due_at)} (SLA policy “{policy}”)"
        return "breach", (Verb.SLA_BREACHED, summary, policy_id, clock.target, due)
    if (
        clock.warn_at is not None
        and clock.warn_at <= now
        and clock.warned_at is None
        and clock.breached_at is None
    ):
        summary = f"{label} due {_when(clock.due_at)} (SLA policy “{policy}”)"
        return "warning", (Verb.SLA_WARNING, summary, policy_id, clock.target, due)
    return None


def _sweep_batch(
    now: datetime, limit: int, *, ticket_id: int | None = None
) -> tuple[SweepResult, dict[int, list[str]]]:
    """Claim up to ``limit`` due tickets and fire their warnings and breaches, in one
    transaction; returns the result and, per ticket, the targets that were breached.

    Two sweepers never fire the same thing: the due ``TicketSla`` rows are claimed with
    ``FOR UPDATE SKIP LOCKED`` (the second takes other rows), and each clock is marked with a
    conditional UPDATE (``warned_at`` / ``breached_at`` still empty) before its event is
    emitted. ``sync_ticket_sla`` locks the same row before it touches the clocks, so a
    recomputation waits for the sweep's commit and the other way round."""
    result = SweepResult()
    breached: dict[int, list[str]] = {}
    with transaction.atomic():
        due = TicketSla.objects.filter(next_check_at__lte=now)
        if ticket_id is not None:
            due = due.filter(ticket_id=ticket_id)
        claimed = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .select_related("policy")
            .order_by("next_check_at", "ticket_id")[:limit]
        )
        if not claimed:
            return result, breached
        result.tickets = len(claimed)
        by_ticket: dict[int, list[SlaClock]] = {sla.ticket_id: [] for sla in claimed}
        for clock in SlaClock.objects.filter(ticket_id__in=list(by_ticket)).exclude(
            state=SlaClock.State.DONE
        ):
            by_ticket[clock.ticket_id].append(clock)
        warnings: list[tuple[SlaClock, tuple[Any, ...]]] = []
        breaches: list[tuple[SlaClock, tuple[Any, ...]]] = []
        for sla in claimed:
            for clock in by_ticket[sla.ticket_id]:
                fired = _fire(clock, sla.policy, now)
                if fired is None:
                    continue
                kind, line = fired
                (breaches if kind == "breach" else warnings).append((clock, line))
        # Mark first, then keep only what this UPDATE really changed: a clock another sweep
        # marked since it was read is not fired twice.
        if breaches:
            ids = [clock.pk for clock, _ in breaches]
            SlaClock.objects.filter(pk__in=ids, breached_at__isnull=True).update(
                breached_at=now, warned_at=Coalesce("warned_at", Value(now)), achieved=False
            )
        if warnings:
            ids = [clock.pk for clock, _ in warnings]
            SlaClock.objects.filter(pk__in=ids, warned_at__isnull=True).update(warned_at=now)
        ticket_services.record_automation_activities(
            (clock.ticket_id, verb, summary, {"policy_id": policy, "target": target, "due_at": due})
            for clock, (verb, summary, policy, target, due) in [*breaches, *warnings]
        )
        for clock, (verb, _summary, _policy, target, _due) in [*breaches, *warnings]:
            if verb == Verb.SLA_BREACHED:
                clock.breached_at = now
                clock.warned_at = clock.warned_at or now
                emit(SlaBreached(ticket_id=clock.ticket_id, target=target))
                breached.setdefault(clock.ticket_id, []).append(target)
                result.breaches += 1
            else:
                clock.warned_at = now
                emit(SlaWarning(ticket_id=clock.ticket_id, target=target))
                result.warnings += 1
        for sla in claimed:
            sla.next_check_at = _next_check(by_ticket[sla.ticket_id])
        TicketSla.objects.bulk_update(claimed, ["next_check_at"])
    policies = {sla.ticket_id: sla.policy for sla in claimed}
    escalations = {
        pk: targets
        for pk, targets in breached.items()
        if (policy := policies[pk]) is not None
        and (policy.escalate_raise_priority or policy.escalate_to_team_id)
    }
    for pk, targets in escalations.items():
        policy = policies[pk]
        assert policy is not None
        try:
            _escalate(pk, policy, targets)
        except ticket_services.TicketError:
            logger.info("SLA escalation of ticket %s refused", pk, exc_info=True)
    return result, breached


def check_ticket_sla(ticket_id: int, *, now: datetime | None = None) -> SweepResult:
    """Fire what is due on one ticket (the sweep's work for a single ticket)."""
    result, _ = _sweep_batch(now or timezone.now(), 1, ticket_id=ticket_id)
    return result


def sweep_sla(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepResult:
    """Warn and breach every ticket whose moment has come, ``batch`` tickets a transaction,
    until none is left that this sweeper can claim (a claimed ticket's next check moves past
    ``now`` or is cleared, so the loop ends; rows another sweeper holds are left to it)."""
    now = now or timezone.now()
    total = SweepResult()
    while True:
        done, _ = _sweep_batch(now, batch)
        if not done.tickets:
            return total
        total.tickets += done.tickets
        total.warnings += done.warnings
        total.breaches += done.breaches


def due_checks(now: datetime, *, limit: int) -> list[tuple[datetime, int]]:
    """(next_check_at, ticket id) of tickets whose next SLA check has come, earliest first;
    the partial index on ``next_check_at`` answers this without touching other rows."""
    due = TicketSla.objects.filter(next_check_at__lte=now).order_by("next_check_at", "ticket_id")
    rows = due.values_list("next_check_at", "ticket_id")[:limit]
    return [(moment, ticket_id) for moment, ticket_id in rows if moment is not None]


# --- Configuration -----------------------------------------------------------------------------


class SlaConfigError(Exception):
    """A configuration change that cannot be made (e.g. deleting a calendar in use)."""


def _in_use_error(error: ProtectedError) -> SlaConfigError:
    names = sorted({str(obj) for obj in error.protected_objects})
    return SlaConfigError(
        "These SLA policies use the calendar: " + ", ".join(names) + ". Change them first."
    )


def save_sla_policy(policy: SlaPolicy) -> SlaPolicy:
    """Validate (``full_clean``: raises ValidationError with field messages) and save. The
    tickets pick the change up on their next event."""
    policy.full_clean()
    policy.save()
    return policy


def delete_sla_policy(policy: SlaPolicy) -> None:
    """Delete; tickets under it keep their clock history and get re-matched on their next
    event."""
    policy.delete()


@dataclasses.dataclass(frozen=True)
class HolidayInput:
    date: date
    name: str


def save_business_hours(
    hours: BusinessHours, holidays: Iterable[HolidayInput] | None = None
) -> BusinessHours:
    """Validate and save the calendar; ``holidays`` (when given) replaces its custom
    holidays. Raises ValidationError with field messages."""
    hours.full_clean()
    if not hours.weekly_hours:
        # Validators do not run on an empty value; say what an empty week means.
        raise ValidationError({"weekly_hours": "Open at least one interval in the week."})
    wanted = None if holidays is None else list(holidays)
    if wanted is not None:
        days = [holiday.date for holiday in wanted]
        if len(days) != len(set(days)):
            raise ValidationError({"holidays": "Each date may appear only once."})
        for holiday in wanted:
            if not holiday.name.strip():
                raise ValidationError({"holidays": f"The holiday on {holiday.date} needs a name."})
    with transaction.atomic():
        hours.save()
        if wanted is not None:
            Holiday.objects.filter(business_hours=hours).delete()
            Holiday.objects.bulk_create(
                Holiday(business_hours=hours, date=holiday.date, name=holiday.name.strip()[:100])
                for holiday in wanted
            )
    return hours


def delete_business_hours(hours: BusinessHours) -> None:
    """Delete the calendar; refused (SlaConfigError) while a policy uses it."""
    try:
        with transaction.atomic():
            hours.delete()
    except ProtectedError as error:
        raise _in_use_error(error) from error
