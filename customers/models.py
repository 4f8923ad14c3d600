from __future__ import annotations

from django.conf import settings
from django.db import models

from helpdesk.channel_kinds import ChannelKind


class Customer(models.Model):
    """A person who writes to the shop, on any number of channels (see ``Identity``)."""

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(
        blank=True, help_text="Preferred address for email replies; identities hold all handles."
    )
    locale = models.CharField(max_length=16, blank=True, help_text="e.g. en, de-AT, pt-BR")
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_customers",
        help_text="Set while this record is merged into another; undoing the merge clears it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.name or self.email or f"Customer {self.pk}"


class Identity(models.Model):
    """One handle of a customer on one channel: an email address, a phone number in E.164,
    a Messenger page-scoped id, a Telegram chat id, a chat visitor id."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    address = models.CharField(max_length=320, help_text="Normalized; see customers.identities.")
    display_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "address"]
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "address"], name="identity_unique_address")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.address}"


class CustomerMerge(models.Model):
    """The record of one customer merge, precise enough to undo it: which rows of which
    relation moved from the source to the target."""

    source = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_out")
    target = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_in")
    moved = models.JSONField(
        default=dict, help_text='{"app_label.model.field": [primary keys moved], ...}'
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"


class Order(models.Model):
    class FinancialStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        AUTHORIZED = "authorized", "Authorized"
        PAID = "paid", "Paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        VOIDED = "voided", "Voided"

    class FulfillmentStatus(models.TextChoices):
        UNFULFILLED = "unfulfilled", "Unfulfilled"
        PARTIAL = "partial", "Partially fulfilled"
        FULFILLED = "fulfilled", "Fulfilled"
        RETURNED = "returned", "Returned"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    store = models.CharField(max_length=100, help_text="The store connector's name for the shop.")
    external_id = models.CharField(max_length=100)
    number = models.CharField(max_length=50, help_text="As the customer sees it, e.g. #1001.")
    placed_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    financial_status = models.CharField(
        max_length=32, choices=FinancialStatus.choices, default=FinancialStatus.PENDING
    )
    fulfillment_status = models.CharField(
        max_length=32, choices=FulfillmentStatus.choices, default=FulfillmentStatus.UNFULFILLED
    )
    tracking = models.JSONField(
        default=list, blank=True, help_text='[{"carrier": ..., "number": ..., "url": ...}]'
    )
    shipping_address = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text="The store's payload, as received.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="order_unique_external")
        ]
        indexes = [
            models.Index(fields=["number"]),
            models.Index(fields=["customer", "-placed_at"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def tracking_numbers(self) -> list[str]:
        return [str(item.get("number", "")) for item in self.tracking if item.get("number")]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"
