from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import Team


class ChannelAccount(models.Model):
    """One connected inbox: a support mailbox, a WhatsApp number, a Messenger page, a bot.

    ``credentials`` hold provider secrets (API tokens, app secrets, passwords). They are
    write-only in the API, hidden in the admin and never part of ``repr`` or a log line.
    ``options`` hold the account's other settings (servers, ports, limits, switches): an
    admin reads and edits them, and ``channels_inbox.services.clean_options`` checks them.
    """

    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    address = models.CharField(
        max_length=320, blank=True, help_text="What customers write to: an email, a number, a page."
    )
    credentials = models.JSONField(default=dict, blank=True)
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text='Settings that are not secret, e.g. {"smtp_host": "smtp.shop.test"}.',
    )
    default_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="channel_accounts"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def __repr__(self) -> str:
        return f"<ChannelAccount {self.pk} {self.kind} {self.slug}>"

    @property
    def webhook_url(self) -> str:
        """Where the provider posts this account's events (email arrives by SMTP instead)."""
        return f"{settings.PUBLIC_BASE_URL}/webhooks/{self.kind}/{self.slug}/"

    def option(self, name: str) -> Any:
        """The setting ``name`` from ``options``, else from ``credentials``: accounts set up
        before options existed kept their settings there. None when neither has it. Secrets
        are read from ``credentials`` directly, never through this."""
        for source in (self.options, self.credentials):
            if isinstance(source, dict) and name in source:
                return source[name]
        return None


class InboundEvent(models.Model):
    """A provider delivery, stored raw before anything else happens, so a crash or a bug
    never loses a customer message and a repeated delivery is dropped by the constraint."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"

    channel_account = models.ForeignKey(
        ChannelAccount, on_delete=models.PROTECT, related_name="inbound_events"
    )
    external_id = models.CharField(max_length=255, help_text="The provider's id of the delivery.")
    payload = models.BinaryField(help_text="The body as received: JSON, form data or raw MIME.")
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The earliest time a worker may (re)claim the event: a lease while one processes it,
    # the backoff after a failure.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "external_id"], name="inbound_event_unique_delivery"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="inbound_event_status"),
            # The events no worker has tried yet, oldest first: a worker's claim reads the
            # first hundred of them and stops. Without it the claim walked the primary key
            # past every processed event older than the oldest new one (all of them, in a
            # table that keeps its history). "pending" is Status.PENDING.
            models.Index(
                fields=["id"],
                condition=models.Q(status="pending", next_attempt_at__isnull=True),
                name="inbound_event_new",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_account_id}:{self.external_id} ({self.status})"


class MailboxCursor(models.Model):
    """How far the IMAP poller has read one mailbox of an email account.

    UIDs only mean something within one UIDVALIDITY: when the server reports another one,
    the poller starts again from the first message and the (account, external id) constraint
    on InboundEvent drops what it already has.
    """

    channel_account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="mailbox_cursors"
    )
    mailbox = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0, help_text="The highest UID stored so far.")
    # A poller claims the mailbox until then, so a slow poll and the next scheduled one never
    # read the same mailbox at once.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["channel_account", "mailbox"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "mailbox"], name="mailbox_cursor_unique_mailbox"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_account_id}:{self.mailbox} (UID {self.last_uid})"


# The channels' own models live in their packages; importing them here registers them.
from channels_inbox.chat.models import ChatVisitor  # noqa: E402, F401
from channels_inbox.sms.models import OptOut  # noqa: E402, F401
from channels_inbox.whatsapp.models import WhatsAppTemplate  # noqa: E402, F401
