"""Shapes of the ticket API. Read serializers describe what the API shows; write serializers
only validate input, and the views hand the validated data to ``tickets.services``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Manager, prefetch_related_objects
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from channels_inbox.models import ChannelAccount
from customers.models import Customer, Order
from helpdesk.api.serializers import NamedRefSerializer, StrictSerializer
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import Team, User
from tickets.html import resolve_inline_images
from tickets.models import Attachment, Message, Tag, Ticket, TicketActivity
from tickets.queries import TicketRow, ticket_row
from tickets.services import MAX_TAG_LENGTH, REPLY_STATUSES, normalize_tag_names

# The statuses a reply may set, as (value, label) pairs; named in SPECTACULAR_SETTINGS'
# ENUM_NAME_OVERRIDES so the schema calls it ReplyStatusEnum.
REPLY_STATUS_CHOICES = [choice for choice in Ticket.Status.choices if choice[0] in REPLY_STATUSES]


def _does_not_exist(noun: str) -> dict[str, Any]:
    return {"does_not_exist": f"No {noun} with id {{pk_value}}.", "incorrect_type": "Enter an id."}


# --- References to other rows ----------------------------------------------------------------


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email"]
        read_only_fields = fields


class ChannelAccountRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChannelAccount
        fields = ["id", "name", "kind"]
        read_only_fields = fields


class OrderRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["id", "number", "placed_at", "financial_status", "fulfillment_status"]
        read_only_fields = fields


# --- Tickets ----------------------------------------------------------------------------------


class TicketListSerializer(serializers.ListSerializer):
    """A page of tickets, the current time zone looked up once for the page (it reads a
    context variable, a few microseconds a row) rather than once a ticket."""

    def to_representation(self, data: Manager[Any] | Iterable[Any]) -> list[dict[str, Any]]:
        tickets = data.all() if isinstance(data, Manager) else data
        zone = timezone.get_current_timezone()
        child = cast(TicketSerializer, self.child)
        return [child.represent(ticket, zone) for ticket in tickets]


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as the list and the ticket page show it."""

    channel_account = ChannelAccountRefSerializer(read_only=True, allow_null=True)
    customer = CustomerRefSerializer(read_only=True)
    assignee = NamedRefSerializer(read_only=True, allow_null=True)
    team = NamedRefSerializer(read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField[Tag](many=True, read_only=True, slug_field="name")
    orders = OrderRefSerializer(many=True, read_only=True)
    merged_into = serializers.PrimaryKeyRelatedField[Ticket](read_only=True, allow_null=True)
    follow_up_of = serializers.PrimaryKeyRelatedField[Ticket](read_only=True, allow_null=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "status",
            "priority",
            "channel",
            "channel_account",
            "customer",
            "assignee",
            "team",
            "tags",
            "orders",
            "merged_into",
            "follow_up_of",
            "first_response_due_at",
            "next_response_due_at",
            "resolution_due_at",
            "first_responded_at",
            "solved_at",
            "closed_at",
            "last_customer_message_at",
            "last_agent_message_at",
            "last_message_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        list_serializer_class = TicketListSerializer

    def to_representation(self, ticket: Ticket | TicketRow) -> dict[str, Any]:
        return self.represent(ticket, timezone.get_current_timezone())

    @staticmethod
    def represent(ticket: Ticket | TicketRow, zone: tzinfo) -> dict[str, Any]:
        """The declared fields, built by hand from a row of ``tickets.queries``
        (``ticket_list_queryset`` completed by ``attach_related``), or from an instance
        through ``ticket_row``, with datetimes in ``zone``: the nested serializers cost more
        CPU than the rest of a list request. The declarations above still describe the
        shape (the API schema reads them); ``test_hand_built_row_equals_the_declared_fields``
        keeps the two equal."""
        row = ticket if isinstance(ticket, dict) else ticket_row(ticket)
        # A relation is shown when its row was found (``TicketRow``), not merely named.
        account_name = row["channel_account__name"]
        assignee_name = row["assignee__name"]
        team_name = row["team__name"]
        data: dict[str, Any] = {
            "id": row["id"],
            "number": row["number"],
            "subject": row["subject"],
            "status": row["status"],
            "priority": row["priority"],
            "channel": row["channel"],
            "channel_account": None
            if account_name is None
            else {
                "id": row["channel_account_id"],
                "name": account_name,
                "kind": row["channel_account__kind"],
            },
            "customer": {
                "id": row["customer__id"],
                "name": row["customer__name"],
                "email": row["customer__email"],
            },
            "assignee": None
            if assignee_name is None
            else {"id": row["assignee_id"], "name": assignee_name},
            "team": None if team_name is None else {"id": row["team_id"], "name": team_name},
            "tags": list(row["tag_names"]),
            "orders": [
                {
                    "id": order_id,
                    "number": number,
                    "placed_at": _iso_datetime(placed_at, zone),
                    "financial_status": financial_status,
                    "fulfillment_status": fulfillment_status,
                }
                for order_id, number, placed_at, financial_status, fulfillment_status in row[
                    "order_refs"
                ]
            ],
            "merged_into": row["merged_into_id"],
            "follow_up_of": row["follow_up_of_id"],
        }
        for name in TICKET_DATETIME_FIELDS:
            data[name] = _iso_datetime(row[name], zone)
        return data


TICKET_DATETIME_FIELDS = (
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "solved_at",
    "closed_at",
    "last_customer_message_at",
    "last_agent_message_at",
    "last_message_at",
    "created_at",
    "updated_at",
)


def _iso_datetime(value: datetime | None, zone: tzinfo) -> str | None:
    """As DRF's ``DateTimeField`` writes it: in the current time zone, UTC as ``Z``."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class TicketCreateSerializer(StrictSerializer):
    """An agent opens a ticket for a customer, e.g. after a phone call."""

    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), error_messages=_does_not_exist("customer")
    )
    subject = serializers.CharField(max_length=300)
    channel = serializers.ChoiceField(choices=ChannelKind.choices)
    channel_account = serializers.PrimaryKeyRelatedField(
        queryset=ChannelAccount.objects.all(),
        required=False,
        allow_null=True,
        error_messages=_does_not_exist("channel account"),
        help_text="The account replies go out through; its kind must be the channel.",
    )
    priority = serializers.ChoiceField(
        choices=Ticket.Priority.choices, default=Ticket.Priority.NORMAL
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        error_messages=_does_not_exist("team"),
        help_text="Defaults to the channel account's team.",
    )
    note = serializers.CharField(
        required=False, help_text="The text of a first internal note, e.g. what the call was about."
    )

    def validate_customer(self, customer: Customer) -> Customer:
        if customer.merged_into_id is not None:
            raise serializers.ValidationError(
                f"Customer {customer.pk} was merged into customer {customer.merged_into_id}; "
                "open the ticket for that one."
            )
        return customer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        account: ChannelAccount | None = attrs.get("channel_account")
        if account is not None:
            if account.kind != attrs["channel"]:
                raise serializers.ValidationError(
                    {"channel_account": [f"This account is a {account.kind} account, not "
                                         f"{attrs['channel']}."]}
                )  # fmt: skip
            if not account.is_active:
                raise serializers.ValidationError(
                    {"channel_account": ["This channel account is deactivated."]}
                )
        return attrs


class TicketUpdateSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        error_messages=_does_not_exist("agent"),
        help_text="An agent's id, or null to unassign.",
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        error_messages=_does_not_exist("team"),
        help_text="A team's id, or null for no team.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                "Send at least one of status, priority, assignee and team."
            )
        return attrs


class TagNameField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=MAX_TAG_LENGTH, **kwargs)


class TicketTagsSerializer(StrictSerializer):
    add = serializers.ListField(child=TagNameField(), required=False, max_length=50)
    remove = serializers.ListField(child=TagNameField(), required=False, max_length=50)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        add = normalize_tag_names(attrs.get("add", []))
        remove = normalize_tag_names(attrs.get("remove", []))
        if not add and not remove:
            raise serializers.ValidationError("Send tag names to add or to remove.")
        both = sorted(set(add) & set(remove))
        if both:
            raise serializers.ValidationError(
                f"A tag cannot be added and removed at once: {', '.join(both)}."
            )
        return {"add": add, "remove": remove}


class TicketMergeSerializer(StrictSerializer):
    into = serializers.PrimaryKeyRelatedField(
        queryset=Ticket.objects.all(),
        error_messages=_does_not_exist("ticket"),
        help_text="The ticket that receives this ticket's messages, tags and orders.",
    )

    def validate_into(self, target: Ticket) -> Ticket:
        if target.pk == self.context["ticket"].pk:
            raise serializers.ValidationError("A ticket cannot be merged into itself.")
        return target


class MessageSplitSerializer(StrictSerializer):
    """No fields: the message in the URL goes to a new ticket."""


class MessageMoveSerializer(StrictSerializer):
    ticket = serializers.PrimaryKeyRelatedField(
        queryset=Ticket.objects.all(),
        error_messages=_does_not_exist("ticket"),
        help_text="The ticket of the same customer that receives the message.",
    )

    def validate_ticket(self, target: Ticket) -> Ticket:
        if target.pk == self.context["ticket"].pk:
            raise serializers.ValidationError("The message is already on this ticket.")
        return target


class TicketOrderLinkSerializer(StrictSerializer):
    order = serializers.PrimaryKeyRelatedField(
        queryset=Order.objects.all(), error_messages=_does_not_exist("order")
    )


# --- Messages ---------------------------------------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "url"]
        read_only_fields = fields

    def get_url(self, attachment: Attachment) -> str:
        return attachment_url(attachment, self.context)


def attachment_url(attachment: Attachment, context: Mapping[str, Any]) -> str:
    """Where the attachment is downloaded: absolute when the serializer has the request."""
    url = attachment.get_absolute_url()
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


class MessageAuthorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["agent", "customer"], read_only=True)
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)
    threading_reason_label = serializers.CharField(
        source="get_threading_reason_display",
        read_only=True,
        help_text='Why the message landed on this ticket, for agents: "Threaded by References".',
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "ticket",
            "kind",
            "direction",
            "author",
            "channel_account",
            "text",
            "html",
            "delivery_status",
            "delivery_error",
            "delivery_updated_at",
            "threading_reason",
            "threading_reason_label",
            "is_automated",
            "attachments",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, message: Message) -> dict[str, Any]:
        # One query for the attachments whether or not the caller prefetched them: the
        # nested field and the inline images below then read the same cache.
        prefetch_related_objects([message], "attachments")
        data: dict[str, Any] = super().to_representation(message)
        data["html"] = resolve_inline_images(message.html, self._inline_image_urls(message))
        return data

    def _inline_image_urls(self, message: Message) -> dict[str, str]:
        """Content-ID → download URL of the attachments an email shows inline."""
        if "cid:" not in message.html.lower():
            return {}
        return {
            attachment.content_id: attachment_url(attachment, self.context)
            for attachment in message.attachments.all()
            if attachment.content_id
        }

    @extend_schema_field(MessageAuthorSerializer(allow_null=True))
    def get_author(self, message: Message) -> dict[str, Any] | None:
        """The agent or the customer who wrote it; null for system messages."""
        if message.author_agent is not None:
            agent = message.author_agent
            return {"type": "agent", "id": agent.pk, "name": agent.name}
        if message.author_customer is not None:
            customer = message.author_customer
            return {"type": "customer", "id": customer.pk, "name": str(customer)}
        return None


def _require_text(attrs: dict[str, Any], what: str) -> None:
    if not (attrs.get("text", "").strip() or attrs.get("html", "").strip()):
        raise serializers.ValidationError({"text": [f"{what} needs text."]})


class NoteSerializer(StrictSerializer):
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    html = serializers.CharField(
        required=False, allow_blank=True, help_text="Sanitized before it is stored."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _require_text(attrs, "A note")
        return attrs


class ReplySerializer(NoteSerializer):
    status = serializers.ChoiceField(
        choices=REPLY_STATUS_CHOICES,
        required=False,
        help_text="Submit the reply as open, pending, on hold or solved.",
    )
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="Files, in a multipart/form-data request.",
    )

    def validate_attachments(self, files: list[UploadedFile]) -> list[UploadedFile]:
        # Checked here as well as in the service, so an oversized upload is refused before
        # anything is written and the agent learns which file and which limit.
        limit = settings.MAX_ATTACHMENTS_PER_MESSAGE
        if len(files) > limit:
            raise serializers.ValidationError(f"At most {limit} attachments per message.")
        max_bytes = settings.MAX_ATTACHMENT_BYTES
        too_large = [upload.name for upload in files if (upload.size or 0) > max_bytes]
        if too_large:
            raise serializers.ValidationError(
                f"Larger than the {max_bytes}-byte limit: {', '.join(map(str, too_large))}."
            )
        return files

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _require_text(attrs, "A reply")
        return attrs


# --- Activities -------------------------------------------------------------------------------


class TicketActivitySerializer(serializers.ModelSerializer):
    actor = NamedRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TicketActivity
        fields = ["id", "actor", "verb", "data", "created_at"]
        read_only_fields = fields
