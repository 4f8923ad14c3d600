"""SLA policies and each ticket's SLA clocks."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from automation.models.calendars import BusinessHours
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import Team
from tickets.models import Ticket

__all__ = [
    "PAUSABLE_STATUSES",
    "SlaClock",
    "SlaPeriod",
    "SlaPolicy",
    "SlaTarget",
    "TicketSla",
]

# The statuses a policy may pause its clocks in; solved and closed always stop them.
PAUSABLE_STATUSES = (Ticket.Status.PENDING, Ticket.Status.ON_HOLD)


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


def _check_choices(value: Any, allowed: list[str], what: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(f"A list of {what} is required.")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValidationError(
            f"Unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})."
        )


def validate_priorities(value: Any) -> None:
    _check_choices(value, list(Ticket.Priority.values), "priorities")


def validate_channels(value: Any) -> None:
    _check_choices(value, list(ChannelKind.values), "channels")


def validate_pause_statuses(value: Any) -> None:
    _check_choices(value, [str(status) for status in PAUSABLE_STATUSES], "pause statuses")


def validate_customer_tags(value: Any) -> None:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.strip() and len(item) <= 50 for item in value
    ):
        raise ValidationError("A list of customer tags (1–50 characters each) is required.")


class SlaPolicy(models.Model):
    """Targets for tickets that match: the active policy with the lowest ``position`` whose
    conditions all hold applies (an empty condition matches anything)."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0, help_text="Lower positions match first.")
    active = models.BooleanField(default=True)
    priorities = models.JSONField(
        default=list, blank=True, validators=[validate_priorities], help_text="Empty: any."
    )
    channels = models.JSONField(
        default=list, blank=True, validators=[validate_channels], help_text="Empty: any."
    )
    customer_tags = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_customer_tags],
        help_text="The customer carries at least one of them. Empty: any.",
    )
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_policies",
        help_text="Empty: the clocks run around the clock.",
    )
    pause_statuses = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_pause_statuses],
        help_text="Statuses in which the clocks stop (pending, on_hold).",
    )
    warning_minutes = models.PositiveIntegerField(
        default=30, help_text="Warn this many minutes before due; 0 for no warning."
    )
    # What happens when a target is missed. Notifying (a timeline line and the sla.breached
    # event, which rules can react to) always happens.
    escalate_raise_priority = models.BooleanField(
        default=False, help_text="Raise the priority one step on a breach."
    )
    escalate_to_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Move the ticket to this team on a breach.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not any(
            (self.first_response_minutes, self.next_response_minutes, self.resolution_minutes)
        ):
            raise ValidationError(
                "Set at least one target (first response, next response or resolution)."
            )

    def target_minutes(self, target: str) -> int | None:
        minutes: int | None = getattr(self, f"{target}_minutes", None)
        return minutes


class TicketSla(models.Model):
    """A ticket's SLA: the policy that applies and when the sweep next has to look at it.

    ``next_check_at`` is the earliest warning or due time not yet acted on among the open
    clocks; the sweep reads only rows whose moment has come, through its index."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla"
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    paused = models.BooleanField(default=False)
    next_check_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ticket SLA"
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="ticket_sla_next_check",
                condition=models.Q(next_check_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"SLA of ticket {self.ticket_id}"


class SlaClock(models.Model):
    """One measured target of one ticket: first response and resolution once per ticket,
    next response once per customer message an agent has to answer (``cycle`` 0, 1, ...).

    The outcome is the attainment the reports read: ``achieved`` True (met), False
    (missed), None (still open or stopped before it was decided); ``elapsed_minutes`` the
    business minutes the clock ran."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped (ticket solved or closed)"
        DONE = "done", "Done"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(max_length=16, choices=SlaTarget.choices)
    cycle = models.PositiveIntegerField(default=0)
    target_minutes = models.PositiveIntegerField()
    state = models.CharField(max_length=8, choices=State.choices)
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    elapsed_minutes = models.FloatField(default=0)
    achieved = models.BooleanField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "target", "cycle"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target", "cycle"], name="sla_clock_unique_cycle"
            )
        ]
        indexes = [models.Index(fields=["target", "completed_at"], name="sla_clock_report")]

    def __str__(self) -> str:
        return f"{self.get_target_display()} of ticket {self.ticket_id}"


class SlaPeriod(models.Model):
    """The ticket's SLA timeline: from ``started_at`` to ``ended_at`` (None: until now) the
    clocks were running, paused (a pause status) or stopped (solved or closed)."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_periods")
    state = models.CharField(max_length=8, choices=State.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "started_at", "id"]
        indexes = [models.Index(fields=["ticket", "started_at"], name="sla_period_timeline")]

    def __str__(self) -> str:
        return f"{self.get_state_display()} from {self.started_at} on ticket {self.ticket_id}"
