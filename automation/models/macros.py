"""Macros: a reply body with variables plus actions, applied to a ticket in one click."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from helpdesk.models import Team
from tickets.models import Ticket

__all__: list[str] = ["Macro"]

MAX_MACRO_TAGS = 20


class Macro(models.Model):
    """A canned answer. ``owner`` empty: shared, managed by admins and offered to every
    agent; otherwise personal, seen and used by its owner alone. The body may use the
    variables of ``automation.macros.templating.VARIABLES``; the actions run through
    ``tickets.services`` when the macro is applied (``automation.macros.services``)."""

    class Assign(models.TextChoices):
        KEEP = "", "Leave the assignee"
        ME = "me", "Assign to the agent applying it"
        AGENT = "agent", "Assign to a chosen agent"
        UNASSIGN = "unassign", "Unassign"

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        help_text="Empty for a shared macro; otherwise only this agent sees it.",
    )
    body = models.TextField(
        blank=True, help_text="The reply it writes; variables like {{ customer.first_name }}."
    )
    set_status = models.CharField(
        max_length=16, choices=Ticket.Status.choices, blank=True, help_text="Empty: unchanged."
    )
    set_priority = models.CharField(
        max_length=16, choices=Ticket.Priority.choices, blank=True, help_text="Empty: unchanged."
    )
    add_tags = models.JSONField(default=list, blank=True)
    remove_tags = models.JSONField(default=list, blank=True)
    assign = models.CharField(max_length=16, choices=Assign.choices, blank=True)
    assign_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="With “Assign to a chosen agent”.",
    )
    assign_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty: the team is unchanged.",
    )
    is_active = models.BooleanField(default=True)
    usage_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=models.Q(owner__isnull=False),
                name="macro_unique_personal_name",
                violation_error_message="You already have a macro with this name.",
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(owner__isnull=True),
                name="macro_unique_shared_name",
                violation_error_message="A shared macro with this name exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None

    def clean(self) -> None:
        # Imported here: the templating module imports nothing from models, but keeping the
        # model import-light keeps the app registry's start-up order simple.
        from automation.macros.templating import validate_template
        from tickets.services import TicketError, normalize_tag_names

        errors: dict[str, Any] = {}
        try:
            validate_template(self.body)
        except ValidationError as error:
            errors["body"] = error.messages
        for field in ("add_tags", "remove_tags"):
            value = getattr(self, field)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[field] = "A list of tag names."
                continue
            try:
                names = normalize_tag_names(value)
            except TicketError as error:
                errors[field] = str(error)
                continue
            if len(names) > MAX_MACRO_TAGS:
                errors[field] = f"At most {MAX_MACRO_TAGS} tags."
            setattr(self, field, names)
        if not errors and set(self.add_tags) & set(self.remove_tags):
            both = ", ".join(sorted(set(self.add_tags) & set(self.remove_tags)))
            errors["remove_tags"] = f"A tag cannot be both added and removed: {both}."
        if self.assign == self.Assign.AGENT and self.assign_agent_id is None:
            errors["assign_agent"] = "Choose the agent to assign to."
        if self.assign != self.Assign.AGENT and self.assign_agent_id is not None:
            errors["assign_agent"] = "Only with “Assign to a chosen agent”."
        if self.assign_agent is not None and not self.assign_agent.is_active:
            errors["assign_agent"] = f"{self.assign_agent.name} is deactivated."
        if errors:
            raise ValidationError(errors)

    def has_actions(self) -> bool:
        return bool(
            self.set_status
            or self.set_priority
            or self.add_tags
            or self.remove_tags
            or self.assign
            or self.assign_team_id
        )
