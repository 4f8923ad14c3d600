"""Channel accounts in the API. Credentials go in and never come out: the read shape says
only whether there are any and under which names."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from channels_inbox.models import ChannelAccount
from channels_inbox.services import clean_credentials, normalize_account_address
from helpdesk.api.serializers import StrictModelSerializer


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
    """Leaving ``credentials`` out of an update keeps the stored ones; sending them replaces
    all of them."""

    credentials = CredentialsField(required=False)

    class Meta:
        model = ChannelAccount
        fields = ["kind", "name", "slug", "address", "credentials", "default_team", "is_active"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs.get("kind", getattr(self.instance, "kind", ""))
        if "address" in attrs or "kind" in attrs:
            address = attrs.get("address", getattr(self.instance, "address", ""))
            try:
                normalized = normalize_account_address(kind, address)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.message_dict) from None
            if "address" in attrs:
                attrs["address"] = normalized
        return attrs
