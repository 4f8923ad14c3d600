"""Auto-acknowledgements: the first answer a customer gets, per channel account."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from tickets.models import Message, Ticket

__all__: list[str] = ["AutoAcknowledgement", "AutoAcknowledgementSent"]

DEFAULT_BODY = (
    "Hello {{ customer.first_name }}, thank you for your message. We have received it and "
    "will reply {{ expected_reply }}. Your ticket number is {{ ticket.number }}."
)


class AutoAcknowledgement(models.Model):
    """What a channel account answers a new customer message with, at most once per ticket
    per ``period_hours``; ``{{ expected_reply }}`` says when a person will answer,
    depending on ``business_hours``."""

    channel_account = models.OneToOneField(
        "channels_inbox.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="auto_acknowledgement",
    )
    enabled = models.BooleanField(default=True)
    body = models.TextField(default=DEFAULT_BODY)
    business_hours = models.ForeignKey(
        "automation.BusinessHours",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="auto_acknowledgements",
        help_text="Empty: always open.",
    )
    expected_reply_minutes = models.PositiveIntegerField(
        default=120, help_text="How soon an agent answers during business hours."
    )
    period_hours = models.PositiveIntegerField(
        default=24, help_text="At most one acknowledgement per ticket in this many hours."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel_account__name", "id"]

    def __str__(self) -> str:
        return f"Auto-acknowledgement of {self.channel_account}"

    @property
    def expected_reply_label(self) -> str:
        """The expected reply time as the customer reads it: "2 hours", "45 minutes"."""
        minutes = self.expected_reply_minutes
        if minutes % 60 == 0:
            hours = minutes // 60
            return f"{hours} hour{'s' if hours != 1 else ''}"
        return f"{minutes} minute{'s' if minutes != 1 else ''}"

    def clean(self) -> None:
        from automation.macros.templating import AUTO_ACK_VARIABLES, validate_template

        errors: dict[str, object] = {}
        if not self.body.strip():
            errors["body"] = "Write the acknowledgement."
        else:
            try:
                validate_template(self.body, variables=AUTO_ACK_VARIABLES)
            except ValidationError as error:
                errors["body"] = error.messages
        if not 1 <= self.expected_reply_minutes <= 60 * 24 * 14:
            errors["expected_reply_minutes"] = "Between 1 minute and 14 days."
        if not 1 <= self.period_hours <= 24 * 90:
            errors["period_hours"] = "Between 1 hour and 90 days."
        if errors:
            raise ValidationError(errors)


class AutoAcknowledgementSent(models.Model):
    """One acknowledgement sent on a ticket, for the customer message that caused it.

    The unique ``(ticket, trigger_message)`` is the last line against sending twice for one
    message (the ticket.created and message.created of a new ticket, a retried task, two
    workers); the period is checked under the ticket's row lock."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    trigger_message = models.ForeignKey(
        Message, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(Message, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "trigger_message"], name="autoack_once_per_trigger"
            )
        ]
        indexes = [models.Index(fields=["ticket", "-sent_at"], name="autoack_ticket_sent")]

    def __str__(self) -> str:
        return f"Acknowledged ticket {self.ticket_id} at {self.sent_at:%Y-%m-%d %H:%M}"
