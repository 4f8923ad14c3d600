from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from customers.models import Customer, Order
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import Team


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True, help_text="Lower-case, e.g. refund.")
    color = models.CharField(max_length=7, blank=True, help_text="#rrggbb")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """One conversation with one customer, on the channel it started on."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        ON_HOLD = "on_hold", "On hold"
        SOLVED = "solved", "Solved"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    # Statuses in which a customer message continues the ticket instead of opening a new one.
    ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)

    number = models.PositiveIntegerField(unique=True, editable=False)
    subject = models.CharField(max_length=300, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=16, choices=ChannelKind.choices)
    # A lazy reference, not an import: channels_inbox depends on tickets, never the reverse.
    channel_account = models.ForeignKey(
        "channels_inbox.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = models.ManyToManyField(Tag, related_name="tickets", blank=True)
    orders = models.ManyToManyField(Order, related_name="tickets", blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_message_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The inbox views: a status (or set of statuses) per assignee, team or channel,
            # newest activity first.
            models.Index(fields=["status", "-updated_at"], name="ticket_status_updated"),
            models.Index(fields=["assignee", "status", "-updated_at"], name="ticket_assignee"),
            models.Index(fields=["team", "status", "-updated_at"], name="ticket_team"),
            models.Index(fields=["channel", "status", "-updated_at"], name="ticket_channel"),
            models.Index(fields=["customer", "-id"], name="ticket_customer"),
            models.Index(fields=["updated_at", "id"], name="ticket_updated"),
            # The inbox's counts (tickets.inbox.view_counts) read only unsolved and recently
            # solved tickets; these let them do so without visiting the table's pages.
            models.Index(
                fields=["status", "channel", "assignee", "team"],
                include=[
                    "id",
                    "first_response_due_at",
                    "first_responded_at",
                    "next_response_due_at",
                    "resolution_due_at",
                ],
                condition=models.Q(
                    status__in=["new", "open", "pending", "on_hold"], merged_into__isnull=True
                ),
                name="ticket_unsolved_counts",
            ),
            models.Index(
                fields=["solved_at"],
                condition=models.Q(solved_at__isnull=False, merged_into__isnull=True),
                name="ticket_solved_at",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        INTERNAL = "internal", "Internal"

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer message"
        REPLY = "reply", "Reply"
        NOTE = "note", "Internal note"
        SYSTEM = "system", "System"

    class ThreadingReason(models.TextChoices):
        """Why an inbound message landed on its ticket, shown to agents."""

        NEW_CONVERSATION = "new_conversation", "Started a new conversation"
        REFERENCES = "references", "Threaded by References"
        TICKET_TOKEN_ADDRESS = "ticket_token_address", "Threaded by ticket token in reply address"
        TICKET_TOKEN_SUBJECT = "ticket_token_subject", "Threaded by ticket number in subject"
        SUBJECT_MATCH = "subject_match", "Threaded by same sender and subject"
        ACTIVE_CONVERSATION = "active_conversation", "Continues the active conversation"
        FOLLOW_UP = "follow_up", "Follow-up to a closed ticket"
        SPLIT = "split", "Split from another ticket"
        MOVED = "moved", "Moved from another ticket"

    class DeliveryStatus(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    author_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    channel_account = models.ForeignKey(
        "channels_inbox.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitized before it is stored.")
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    threading_reason = models.CharField(max_length=32, choices=ThreadingReason.choices, blank=True)
    is_automated = models.BooleanField(
        default=False, help_text="An auto-reply or a bounce: recorded, never answered."
    )
    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, blank=True, help_text="Outbound only."
    )
    delivery_error = models.TextField(blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    # The earliest time a delivery worker may (re)claim a queued message: a lease while one
    # is sending it, the backoff after a transient failure.
    next_delivery_at = models.DateTimeField(null=True, blank=True)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="mentioned_in",
        help_text="Agents an internal note @mentions; they are notified.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # The last line against a provider delivering one message twice at the same moment.
            models.UniqueConstraint(
                fields=["channel_account", "provider_message_id"],
                condition=models.Q(direction="inbound") & ~models.Q(provider_message_id=""),
                name="message_unique_inbound_provider_id",
            )
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="message_timeline"),
            models.Index(fields=["delivery_status", "next_delivery_at"], name="message_delivery"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on ticket {self.ticket_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.message.ticket_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_id = models.CharField(
        max_length=255, blank=True, help_text="For images shown inline in an email body."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tickets:attachment", args=[self.pk, self.name])


class TicketActivity(models.Model):
    """The audit trail and the small grey lines of the timeline."""

    class Verb(models.TextChoices):
        CREATED = "created", "Created"
        MESSAGE_RECEIVED = "message_received", "Customer wrote"
        REPLIED = "replied", "Replied"
        NOTE_ADDED = "note_added", "Added a note"
        ASSIGNED = "assigned", "Assigned"
        UNASSIGNED = "unassigned", "Unassigned"
        TEAM_CHANGED = "team_changed", "Changed team"
        STATUS_CHANGED = "status_changed", "Changed status"
        REOPENED = "reopened", "Reopened"
        PRIORITY_CHANGED = "priority_changed", "Changed priority"
        TAGGED = "tagged", "Added tags"
        UNTAGGED = "untagged", "Removed tags"
        MERGED_INTO = "merged_into", "Merged into another ticket"
        MERGED_FROM = "merged_from", "Merged another ticket in"
        FOLLOW_UP_OPENED = "follow_up_opened", "Follow-up opened"
        MESSAGE_SPLIT = "message_split", "Split a message into a new ticket"
        SPLIT_FROM = "split_from", "Opened from a message split off another ticket"
        MESSAGE_MOVED_OUT = "message_moved_out", "Moved a message to another ticket"
        MESSAGE_MOVED_IN = "message_moved_in", "Received a message from another ticket"
        ORDER_LINKED = "order_linked", "Linked an order"
        ORDER_UNLINKED = "order_unlinked", "Unlinked an order"
        DELIVERY_FAILED = "delivery_failed", "A message could not be delivered"
        DELIVERY_RETRIED = "delivery_retried", "Sent a failed message again"
        # Written by automation through tickets.services.record_automation_activity; the
        # data's "summary" is the sentence the timeline shows ("rule “VIP” assigned …").
        RULE_APPLIED = "rule_applied", "Applied a rule"
        MACRO_APPLIED = "macro_applied", "Applied a macro"
        ROUTED = "routed", "Routed"
        SLA_APPLIED = "sla_applied", "SLA policy applied"
        SLA_WARNING = "sla_warning", "SLA target about to be missed"
        SLA_BREACHED = "sla_breached", "SLA target missed"
        ESCALATED = "escalated", "Escalated"
        AUTO_ACKNOWLEDGED = "auto_acknowledged", "Sent an automatic acknowledgement"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_activities",
        help_text="Empty for the customer or the system.",
    )
    verb = models.CharField(max_length=32, choices=Verb.choices)
    data = models.JSONField(default=dict, blank=True, help_text='{"before": ..., "after": ...}')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "ticket activities"
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="activity_timeline")]

    def __str__(self) -> str:
        return f"{self.get_verb_display()} on ticket {self.ticket_id}"


class SavedView(models.Model):
    """An agent's own inbox view: a name for a view with its filters and sort, kept as the
    inbox's query string."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=60)
    query = models.CharField(
        max_length=1000, help_text="The inbox's query string, e.g. view=open&tag=refund."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
