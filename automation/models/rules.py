"""Rules: a trigger, a tree of conditions and an ordered list of actions (area: rules).

Conditions and actions are JSON checked by ``automation.rules.schema`` (the one place that
knows their shape); the engine compiles them once per rule version. ``RuleFiring`` is the
memory that makes rules safe to run: one row per time a rule acted on a ticket, used for
the loop cap, for idempotency under retries (``event_key``) and for the "once per episode"
of time-based rules.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

__all__ = ["Rule", "RuleFiring", "RuleWebhookDelivery"]


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class Rule(models.Model):
    class Trigger(models.TextChoices):
        TICKET_CREATED = "ticket_created", "Ticket created"
        CUSTOMER_MESSAGE = "customer_message", "Customer message received"
        AGENT_REPLY = "agent_reply", "Agent reply sent"
        TICKET_UPDATED = "ticket_updated", "Ticket updated"
        SLA_WARNING = "sla_warning", "SLA warning"
        SLA_BREACHED = "sla_breached", "SLA breached"
        TIME_BASED = "time_based", "Time-based"

    class TimeBasis(models.TextChoices):
        STATUS_FOR = "status_for", "In a status for"
        UNASSIGNED_FOR = "unassigned_for", "Unassigned for"
        CUSTOMER_WAITING_FOR = "customer_waiting_for", "Customer waiting for an answer for"

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0, help_text="Lower runs first.")
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    trigger_fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Ticket updated only: run when one of these fields changed (empty: any).",
    )
    time_basis = models.CharField(max_length=32, choices=TimeBasis.choices, blank=True)
    time_status = models.CharField(
        max_length=16, blank=True, help_text="Time-based 'in a status for': the status."
    )
    time_minutes = models.PositiveIntegerField(null=True, blank=True)
    conditions = models.JSONField(default=dict, blank=True, help_text='{"all": [...]}')
    actions = models.JSONField(default=list, help_text='[{"type": "set_status", ...}]')
    stop_processing = models.BooleanField(
        default=False, help_text="When this rule fires, later rules do not run for the event."
    )
    webhook_secret = models.CharField(
        max_length=64,
        default=new_webhook_secret,
        help_text="Signs this rule's outbound webhooks (HMAC-SHA256).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["trigger", "active", "position"], name="rule_trigger")]

    def __str__(self) -> str:
        return self.name

    # The engine caches compiled rules per process; a changed rule must reach every worker.
    # Not a signal: the cache belongs to this model's own rows.
    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _rules_changed()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        _rules_changed()
        return result

    def clean(self) -> None:
        from automation.rules.schema import validate_rule_definition

        errors: dict[str, Any] = {}
        try:
            cleaned = validate_rule_definition(
                trigger=self.trigger,
                trigger_fields=self.trigger_fields,
                time_basis=self.time_basis,
                time_status=self.time_status,
                time_minutes=self.time_minutes,
                conditions=self.conditions,
                actions=self.actions,
            )
        except ValidationError as error:
            errors = error.message_dict
        else:
            self.trigger_fields = cleaned.trigger_fields
            self.conditions = cleaned.conditions
            self.actions = cleaned.actions
        if errors:
            raise ValidationError(errors)


def _rules_changed() -> None:
    from django.db import transaction

    from automation.rules.engine import invalidate_rules

    invalidate_rules()
    transaction.on_commit(invalidate_rules)


class RuleFiring(models.Model):
    """One time a rule acted on a ticket. ``event_key`` names the event (a message id, a
    time-based episode) when it has one: the unique constraint makes a retried or repeated
    event fire the rule once."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    event_key = models.CharField(max_length=120, blank=True)
    actions_done = models.JSONField(default=list, blank=True)
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "ticket", "event_key"],
                condition=~models.Q(event_key=""),
                name="rule_firing_once_per_event",
            )
        ]
        indexes = [models.Index(fields=["rule", "ticket", "-fired_at"], name="rule_firing_recent")]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.ticket_id}"


class RuleWebhookDelivery(models.Model):
    """An outbound webhook of a rule: a row before it is a network call."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="webhook_deliveries")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    # When the next attempt is due (after a failure's backoff); empty: now.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="rule_webhook_due")]

    def __str__(self) -> str:
        return f"{self.url} ({self.status})"
