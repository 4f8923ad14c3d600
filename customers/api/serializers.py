"""Shapes of customers, their handles, merges and orders in the API."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from customers.identities import normalize_address
from customers.models import Customer, CustomerMerge, Identity, Order, OrderLine
from helpdesk.api.serializers import NamedRefSerializer, StrictSerializer
from helpdesk.channel_kinds import ChannelKind

LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
MAX_TAGS = 50
MAX_TAG_LENGTH = 50
MAX_IDENTITIES_PER_REQUEST = 20
MAX_ORDER_LINES = 500


# --- Reading -------------------------------------------------------------------------------


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = ["id", "kind", "address", "display_name", "created_at"]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    identities = IdentitySerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "email",
            "locale",
            "tags",
            "identities",
            "merged_into",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerTicketSerializer(serializers.Serializer):
    """A ticket as listed on its customer; the full ticket lives at /api/v1/tickets/{id}/."""

    id = serializers.IntegerField(read_only=True)
    number = serializers.IntegerField(read_only=True)
    subject = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    channel = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "sku", "title", "quantity", "unit_price", "total"]
        read_only_fields = fields


class TrackingSerializer(serializers.Serializer):
    carrier = serializers.CharField(required=False, allow_blank=True, max_length=100)
    number = serializers.CharField(max_length=100)
    url = serializers.URLField(required=False, allow_blank=True, max_length=500)


class OrderSerializer(serializers.ModelSerializer):
    tracking = TrackingSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "customer",
            "store",
            "external_id",
            "number",
            "placed_at",
            "currency",
            "subtotal",
            "shipping_total",
            "tax_total",
            "total",
            "financial_status",
            "fulfillment_status",
            "tracking",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    shipping_address = serializers.DictField(read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "shipping_address", "lines"]
        read_only_fields = fields


class CustomerDetailSerializer(CustomerSerializer):
    """The customer with the latest 20 tickets (most recently updated first) and the latest
    20 orders with their lines; older ones are at /tickets/?customer= and /orders/?customer=."""

    tickets = CustomerTicketSerializer(many=True, read_only=True, source="recent_tickets")
    orders = OrderDetailSerializer(many=True, read_only=True, source="recent_orders")

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "notes", "tickets", "orders"]
        read_only_fields = fields


class CustomerMergeSerializer(serializers.ModelSerializer):
    # "source" shadows Field.source in the stubs only; DRF pops declared fields off the class.
    source = NamedRefSerializer(read_only=True)  # type: ignore[assignment]
    target = NamedRefSerializer(read_only=True)
    merged_by = NamedRefSerializer(read_only=True, allow_null=True)
    undone_by = NamedRefSerializer(read_only=True, allow_null=True)
    moved = serializers.SerializerMethodField(
        help_text="How many rows of each relation moved, keyed app_label.model.field."
    )

    class Meta:
        model = CustomerMerge
        fields = [
            "id",
            "source",
            "target",
            "moved",
            "merged_by",
            "merged_at",
            "undone_by",
            "undone_at",
        ]
        read_only_fields = fields

    def get_moved(self, merge: CustomerMerge) -> dict[str, int]:
        return {
            key: len(pks)
            for key, pks in merge.moved.items()
            if not key.startswith("_") and isinstance(pks, list)
        }


# --- Writing -------------------------------------------------------------------------------


def _normalize_tags(values: list[str]) -> list[str]:
    tags: list[str] = []
    for raw in values:
        tag = raw.strip().lower()
        if not tag:
            raise serializers.ValidationError("A tag is empty.")
        if tag not in tags:
            tags.append(tag)
    return tags


def _validate_locale(value: str) -> str:
    value = value.strip()
    if value and not LOCALE.match(value):
        raise serializers.ValidationError(
            f"{value!r} is not a locale; use a code such as en, de-AT or pt-BR."
        )
    return value.replace("_", "-")


class IdentityWriteSerializer(StrictSerializer):
    """A handle; the address is normalized (email lower-cased, phone numbers to E.164) and a
    bad one is a 400 naming the ``address`` field."""

    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    address = serializers.CharField(max_length=320)
    display_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["address"] = normalize_address(attrs["kind"], attrs["address"])
        except DjangoValidationError as error:
            raise serializers.ValidationError({"address": list(error.messages)}) from None
        return attrs


class CustomerFieldsSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    locale = serializers.CharField(max_length=16, required=False, allow_blank=True)
    notes = serializers.CharField(
        max_length=20_000, required=False, allow_blank=True, trim_whitespace=False
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=MAX_TAG_LENGTH),
        required=False,
        max_length=MAX_TAGS,
    )

    def validate_tags(self, value: list[str]) -> list[str]:
        return _normalize_tags(value)

    def validate_locale(self, value: str) -> str:
        return _validate_locale(value)


class CustomerCreateSerializer(CustomerFieldsSerializer):
    """A handle that belongs to another customer is a 409 and nothing is created."""

    # many=True hands max_length to the ListSerializer, which the stubs do not know.
    identities = IdentityWriteSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=MAX_IDENTITIES_PER_REQUEST
    )


class CustomerUpdateSerializer(CustomerFieldsSerializer):
    """Handles are added at /customers/{id}/identities/; merges at /customers/{id}/merge/."""


class MergeIntoSerializer(StrictSerializer):
    into = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(),
        help_text="The customer that keeps everything; this one is marked as merged into it.",
    )


class OrderLineWriteSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=300)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class StrictTrackingSerializer(StrictSerializer, TrackingSerializer):
    pass


class OrderWriteSerializer(StrictSerializer):
    """An order entered by hand, as a store import would bring it. Posting the same
    ``store`` and ``external_id`` again updates that order (200) instead of adding one (201)."""

    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True, default=None
    )
    store = serializers.CharField(max_length=100)
    external_id = serializers.CharField(max_length=100)
    number = serializers.CharField(max_length=50)
    placed_at = serializers.DateTimeField()
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3)
    subtotal = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, default=Decimal(0)
    )
    shipping_total = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, default=Decimal(0)
    )
    tax_total = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, default=Decimal(0)
    )
    total = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    financial_status = serializers.ChoiceField(
        choices=Order.FinancialStatus.choices, default=Order.FinancialStatus.PENDING
    )
    fulfillment_status = serializers.ChoiceField(
        choices=Order.FulfillmentStatus.choices, default=Order.FulfillmentStatus.UNFULFILLED
    )
    tracking = StrictTrackingSerializer(many=True, required=False, default=list)
    shipping_address = serializers.DictField(required=False, default=dict)
    lines = OrderLineWriteSerializer(  # type: ignore[call-arg]
        many=True, required=False, default=list, max_length=MAX_ORDER_LINES
    )
