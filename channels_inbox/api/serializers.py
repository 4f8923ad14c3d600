"""Channel accounts and inbound events in the API. Credentials go in and never come out:
the read shape says only whether there are any and under which names. Options are not
secret: they are read and written as they are, checked by ``clean_options`` for the kind.
Inbound events are read-only; their bodies are downloaded on their own URL, never inlined."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import (
    clean_credentials,
    clean_options,
    normalize_account_address,
)
from helpdesk.api.serializers import StrictModelSerializer, StrictSerializer
from tickets.api.serializers import REPLY_STATUS_CHOICES, ChannelAccountRefSerializer


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "writeOnly": True,
        "description": 'Provider secrets by name, e.g. {"access_token": "..."}. Write-only.',
    }
)
class CredentialsField(serializers.Field):
    """A JSON object of string values; write-only, so no response can carry it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["write_only"] = True
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        try:
            return clean_credentials(data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict["credentials"]) from None

    def to_representation(self, value: Any) -> Any:  # pragma: no cover - write-only
        raise AssertionError("Credentials are never serialized.")


class ChannelAccountSerializer(serializers.ModelSerializer):
    webhook_url = serializers.CharField(
        read_only=True, help_text="Where the provider posts this account's events."
    )
    has_credentials = serializers.SerializerMethodField()
    credential_keys = serializers.SerializerMethodField(
        help_text="The names of the stored credentials; their values are never shown."
    )

    class Meta:
        model = ChannelAccount
        fields = [
            "id",
            "kind",
            "name",
            "slug",
            "address",
            "default_team",
            "is_active",
            "options",
            "webhook_url",
            "has_credentials",
            "credential_keys",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_credentials(self, account: ChannelAccount) -> bool:
        return bool(account.credentials)

    def get_credential_keys(self, account: ChannelAccount) -> list[str]:
        return sorted(account.credentials)


class ChannelAccountWriteSerializer(StrictModelSerializer):
    """Leaving ``credentials`` or ``options`` out of an update keeps the stored ones;
    sending them replaces all of them."""

    credentials = CredentialsField(required=False)
    options = serializers.JSONField(
        required=False,
        help_text=(
            'Settings that are not secret, e.g. {"smtp_host": "smtp.shop.test", '
            '"smtp_port": 587}; which keys a kind takes is in the README.'
        ),
    )

    class Meta:
        model = ChannelAccount
        fields = [
            "kind",
            "name",
            "slug",
            "address",
            "credentials",
            "options",
            "default_team",
            "is_active",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs.get("kind", getattr(self.instance, "kind", ""))
        if "options" in attrs:
            try:
                attrs["options"] = clean_options(kind, attrs["options"])
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.message_dict) from None
        if "address" in attrs or "kind" in attrs:
            address = attrs.get("address", getattr(self.instance, "address", ""))
            try:
                normalized = normalize_account_address(kind, address)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.message_dict) from None
            if "address" in attrs:
                attrs["address"] = normalized
        return attrs


# --- Inbound events --------------------------------------------------------------------------


class InboundEventSerializer(serializers.ModelSerializer):
    """A stored delivery as the list shows it: where it stands, never what it carries."""

    channel_account = ChannelAccountRefSerializer(read_only=True)

    class Meta:
        model = InboundEvent
        fields = [
            "id",
            "channel_account",
            "external_id",
            "status",
            "attempts",
            "error",
            "next_attempt_at",
            "received_at",
            "processed_at",
        ]
        read_only_fields = fields


# The API schema names a choice set after its field only when one component uses it; the
# list and this detail both would, and "status" is taken by the tickets' statuses. Inline
# (not hoisted into a shared enum), the detail's statuses stay documented without a clash.
@extend_schema_field(
    {"allOf": [{"type": "string", "enum": InboundEvent.Status.values}], "readOnly": True}
)
class StatusField(serializers.ChoiceField):
    pass


class InboundEventDetailSerializer(InboundEventSerializer):
    """One delivery with the headers it arrived with. The body can be megabytes of MIME:
    it has its own URL (``raw_url``) instead of a field."""

    status = StatusField(choices=InboundEvent.Status.choices, read_only=True)
    headers = serializers.DictField(child=serializers.CharField(), read_only=True)
    payload_size = serializers.IntegerField(read_only=True, help_text="The body's size in bytes.")
    raw_url = serializers.SerializerMethodField(
        help_text="Where the body is downloaded as received."
    )

    class Meta(InboundEventSerializer.Meta):
        fields = [*InboundEventSerializer.Meta.fields, "headers", "payload_size", "raw_url"]
        read_only_fields = fields

    def get_raw_url(self, event: InboundEvent) -> str:
        path = reverse("api:inbound-event-raw", args=[event.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class InboundEventReprocessSerializer(StrictSerializer):
    """No fields: the event in the URL is processed again from scratch."""


# --- Whether a reply can go out, and template replies --------------------------------------


class TemplateChoiceSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    language = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True, help_text="With {{1}}-style parameters.")
    parameter_count = serializers.IntegerField(read_only=True)


class SendCheckSerializer(serializers.Serializer):
    """The shape of ``channels_inbox.adapters.base.SendCheck``: also the body of the reply
    endpoint's 409, with the reason as ``detail``."""

    allowed = serializers.BooleanField(read_only=True)
    reason = serializers.CharField(read_only=True)
    templates = TemplateChoiceSerializer(many=True, read_only=True)


class TemplateReplySerializer(StrictSerializer):
    template = serializers.CharField(max_length=512, help_text="The approved template's name.")
    language = serializers.CharField(
        max_length=15,
        required=False,
        default="",
        help_text="Needed only when the account has the template in several languages.",
    )
    parameters = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=list,
        max_length=100,
        help_text="The body's {{1}}, {{2}} ... in order.",
    )
    status = serializers.ChoiceField(
        choices=REPLY_STATUS_CHOICES,
        required=False,
        help_text="Submit the reply as open, pending, on hold or solved.",
    )
