"""The WhatsApp channel's own rows. Imported by ``channels_inbox.models``, so Django finds
them as models of the ``channels_inbox`` app."""

from __future__ import annotations

from django.db import models


class WhatsAppTemplate(models.Model):
    """A message template Meta has approved for one WhatsApp account: the only thing the
    account may send once the 24-hour customer service window has closed.

    ``body`` is the template's body text as approved, with ``{{1}}``, ``{{2}}`` ... where the
    parameters go; it is what the ticket shows once the parameters are filled in. Meta keeps
    the template itself; we send its name, language and parameters. Written through
    ``channels_inbox.whatsapp.templates``, which checks names and placeholders.
    """

    class Category(models.TextChoices):
        MARKETING = "marketing", "Marketing"
        UTILITY = "utility", "Utility"
        AUTHENTICATION = "authentication", "Authentication"

    channel_account = models.ForeignKey(
        "channels_inbox.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="whatsapp_templates",
    )
    name = models.CharField(
        max_length=512, help_text="The template's name in WhatsApp Manager, e.g. order_update."
    )
    language = models.CharField(max_length=15, help_text="Meta's language code, e.g. en_US.")
    category = models.CharField(max_length=16, choices=Category.choices)
    body = models.TextField(help_text="The approved body text, with {{1}}-style parameters.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel_account", "name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "name", "language"],
                name="whatsapp_template_unique_name_language",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class TemplateReply(models.Model):
    """An agent's reply sent as an approved template rather than as free text: the marker
    that makes the WhatsApp adapter send it with ``send_template``. The message's own text
    is the template's body with the parameters filled in, which is what the ticket shows.

    The name and language are copied rather than pointing at the ``WhatsAppTemplate``, so
    forgetting a template later leaves the replies sent with it as they were."""

    message = models.OneToOneField(
        "tickets.Message", on_delete=models.CASCADE, related_name="template_reply"
    )
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=15)
    parameters = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"
