"""Routing per team: who gets the team's new tickets, and what happens when nobody has room.

``TeamRouting`` is the team's configuration and, in ``last_assigned_agent``, the
round-robin pointer. Its row is also the team's routing lock: every assignment routing makes
in the team happens while the row is held (``select_for_update``), so two workers never hand
out the same ticket or the same free seat twice. ``AgentRoutingState`` remembers when
routing last gave an agent a ticket, the tie-break of least-loaded routing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from helpdesk.models import Team

__all__ = ["AgentRoutingState", "TeamRouting", "default_capacity_statuses"]

# Ticket statuses (tickets.models.Ticket.Status values) an agent has to work on; pending and
# on-hold tickets wait for someone else and leave the seat free.
DEFAULT_CAPACITY_STATUSES = ("new", "open")
CAPACITY_STATUS_CHOICES = (
    ("new", "New"),
    ("open", "Open"),
    ("pending", "Pending"),
    ("on_hold", "On hold"),
)


def default_capacity_statuses() -> list[str]:
    return list(DEFAULT_CAPACITY_STATUSES)


class TeamRouting(models.Model):
    class Mode(models.TextChoices):
        OFF = "off", "Off (agents pick tickets themselves)"
        ROUND_ROBIN = "round_robin", "Round-robin"
        LEAST_LOADED = "least_loaded", "Least-loaded"

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, primary_key=True, related_name="routing"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.OFF)
    match_skills = models.BooleanField(
        default=False,
        help_text="Give a ticket to the agents whose skills cover most of its tags.",
    )
    match_language = models.BooleanField(
        default=False,
        help_text="Give a ticket to agents who speak the customer's language, when one does.",
    )
    hand_back_on_offline = models.BooleanField(
        default=False,
        help_text="When an agent goes offline, their open tickets go back to the team.",
    )
    escalation_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalations_from",
        help_text="Tier escalation moves the team's tickets here.",
    )
    capacity_statuses = models.JSONField(
        default=default_capacity_statuses,
        help_text="Ticket statuses that take a seat of the agent's capacity.",
    )
    # The round-robin pointer: the next ticket goes to the first eligible member after them.
    last_assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "team routing"

    def __str__(self) -> str:
        return f"Routing of {self.team}: {self.get_mode_display()}"

    def clean(self) -> None:
        if self.escalation_team_id is not None and self.escalation_team_id == self.team_id:
            raise ValidationError({"escalation_team": "A team cannot escalate to itself."})
        statuses = self.capacity_statuses
        valid = {value for value, _label in CAPACITY_STATUS_CHOICES}
        if (
            not isinstance(statuses, list)
            or not statuses
            or not all(isinstance(status, str) and status in valid for status in statuses)
        ):
            raise ValidationError(
                {"capacity_statuses": "Choose at least one of new, open, pending, on hold."}
            )

    @property
    def is_on(self) -> bool:
        return self.mode != self.Mode.OFF


class AgentRoutingState(models.Model):
    """When routing last gave the agent a ticket, in any team; written under the agent's row
    lock."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="routing_state",
    )
    last_routed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Routing state of {self.user}"
