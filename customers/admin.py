"""The Django admin for customers, their handles, merges and orders.

Customers are created and edited through ``customers.services`` (so a new email becomes a
handle and addresses are normalized as on every channel); handles can be added, not edited
or removed, because there is no service for that; merges and their undoing are admin actions
that call the merge services. Orders mirror the stores and are read-only here: the store
connectors' import (``upsert_order``) would overwrite any hand edit.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from customers.identities import normalize_address
from customers.models import Customer, CustomerMerge, Identity, Order, OrderLine
from customers.services import (
    CustomerError,
    add_identity,
    create_customer,
    merge_customers,
    undo_customer_merge,
    update_customer,
)
from helpdesk.admin import (
    AdminRoleMixin,
    HelpdeskAdmin,
    ReadOnlyAdmin,
    ReadOnlyAdminMixin,
    actor_of,
    changed_fields,
    copy_saved_row,
)

CUSTOMER_FIELDS = ("name", "email", "locale", "notes", "tags")

MAX_TAGS = 50
MAX_TAG_LENGTH = 50


def clean_tag_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise forms.ValidationError('Enter a list of tags, e.g. ["vip", "wholesale"].')
    tags: list[str] = []
    for item in value:
        tag = " ".join(item.split()).lower()
        if len(tag) > MAX_TAG_LENGTH:
            raise forms.ValidationError(f"Tag {tag[:20]!r}… is longer than {MAX_TAG_LENGTH}.")
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise forms.ValidationError(f"A customer has at most {MAX_TAGS} tags.")
    return tags


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("name", "email", "locale", "notes", "tags")

    def clean_email(self) -> str:
        return str(self.cleaned_data.get("email") or "").strip().lower()

    def clean_tags(self) -> list[str]:
        return clean_tag_list(self.cleaned_data.get("tags"))


class IdentityForm(forms.ModelForm):
    """Normalizes the address as the channels do, before the unique (kind, address)
    constraint is checked, so ``Ana@Example.com`` and ``ana@example.com`` collide here too."""

    class Meta:
        model = Identity
        fields = ("customer", "kind", "address", "display_name")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        kind, address = cleaned.get("kind"), cleaned.get("address")
        if kind and address:
            try:
                cleaned["address"] = normalize_address(kind, address)
            except ValidationError as error:
                self.add_error("address", error)
        return cleaned


class IdentityInlineFormSet(BaseInlineFormSet):
    def save_new(self, form: forms.ModelForm, commit: bool = True) -> Identity:
        # A new handle goes through the service, which treats the handle the customer
        # already has (e.g. its email, added by create_customer) as no change.
        data = form.cleaned_data
        return add_identity(
            self.instance,
            kind=data["kind"],
            address=data["address"],
            display_name=data.get("display_name", ""),
        )


class IdentityInline(AdminRoleMixin, admin.TabularInline):
    """Existing handles are shown read-only; new ones can be added below them."""

    model = Identity
    form = IdentityForm
    formset = IdentityInlineFormSet
    fields = ("kind", "address", "display_name", "created_at")
    readonly_fields = ("created_at",)
    extra = 0

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderInline(ReadOnlyAdminMixin, AdminRoleMixin, admin.TabularInline):
    model = Order
    fields = (
        "number",
        "store",
        "placed_at",
        "total",
        "currency",
        "financial_status",
        "fulfillment_status",
    )
    readonly_fields = fields
    show_change_link = True
    extra = 0
    ordering = ("-placed_at", "-id")


class MergedFilter(admin.SimpleListFilter):
    title = "merged"
    parameter_name = "merged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Merged into another customer"), ("no", "Not merged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        if self.value() == "yes":
            return queryset.filter(merged_into__isnull=False)
        if self.value() == "no":
            return queryset.filter(merged_into__isnull=True)
        return queryset


@admin.register(Customer)
class CustomerAdmin(HelpdeskAdmin):
    form = CustomerForm
    refused_errors = (ValidationError, CustomerError)
    list_display = ("id", "name", "email", "locale", "merged_into", "created_at")
    list_display_links = ("id", "name")
    list_select_related = ("merged_into",)
    list_filter = (MergedFilter, "created_at")
    search_fields = ("name", "email", "identities__address")
    search_help_text = "Name, email or any channel address (phone number, chat id)."
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("name", "email", "locale", "tags", "notes")}),
        ("Record", {"fields": ("merged_into", "created_at", "updated_at")}),
    )
    readonly_fields = ("merged_into", "created_at", "updated_at")
    inlines = (IdentityInline, OrderInline)
    actions = ("merge_into_oldest",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Tickets keep their customer (PROTECT) and there is no erasure service yet.
        return False

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        if change:
            self.call_service(
                request, update_customer, obj, **changed_fields(form, CUSTOMER_FIELDS)
            )
            return
        created = self.call_service(
            request,
            create_customer,
            name=obj.name,
            email=obj.email,
            locale=obj.locale,
            notes=obj.notes,
            tags=obj.tags,
        )
        if created is not None:
            copy_saved_row(obj, created)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # New handles go through add_identity(), which refuses one that belongs to
        # someone else or a customer merged away.
        self.call_service(request, formset.save)

    @admin.action(description="Merge selected customers into the oldest", permissions=["change"])
    def merge_into_oldest(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        selected = list(queryset.order_by("pk"))
        if len(selected) < 2:
            self.message_user(request, "Select at least two customers to merge.", messages.ERROR)
            return
        target, sources = selected[0], selected[1:]
        merged = 0
        for source in sources:
            try:
                merge_customers(source, target, actor=actor_of(request))
            except CustomerError as error:
                self.message_user(request, f"{source}: {error}", messages.ERROR)
            else:
                merged += 1
        if merged:
            self.message_user(
                request,
                f"Merged {merged} customer(s) into {target} (#{target.pk}).",
                messages.SUCCESS,
            )


@admin.register(Identity)
class IdentityAdmin(HelpdeskAdmin):
    """Handles can be looked up and added; moving one to another customer is a merge."""

    form = IdentityForm
    refused_errors = (ValidationError, CustomerError)
    list_display = ("address", "kind", "customer", "display_name", "created_at")
    list_select_related = ("customer",)
    list_filter = ("kind",)
    search_fields = ("address", "display_name", "customer__name", "customer__email")
    autocomplete_fields = ("customer",)
    readonly_fields = ("created_at",)
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Identity, form: Any, change: bool) -> None:
        created = self.call_service(
            request,
            add_identity,
            obj.customer,
            kind=obj.kind,
            address=obj.address,
            display_name=obj.display_name,
        )
        if created is not None:
            copy_saved_row(obj, created)


@admin.register(CustomerMerge)
class CustomerMergeAdmin(ReadOnlyAdmin):
    list_display = ("id", "source", "target", "merged_by", "merged_at", "undone_at")
    list_select_related = ("source", "target", "merged_by")
    list_filter = ("merged_at", "undone_at")
    search_fields = ("source__name", "source__email", "target__name", "target__email")
    date_hierarchy = "merged_at"
    readonly_fields = (
        "source",
        "target",
        "moved",
        "merged_by",
        "merged_at",
        "undone_by",
        "undone_at",
    )
    actions = ("undo_merge",)

    def has_undo_permission(self, request: HttpRequest) -> bool:
        # The read-only admin refuses "change", yet undoing is a service call, allowed to
        # whoever may change customers.
        return bool(
            getattr(request.user, "is_admin", False)
            or request.user.has_perm("customers.change_customer")
        )

    @admin.action(description="Undo merge", permissions=["undo"])
    def undo_merge(self, request: HttpRequest, queryset: QuerySet[CustomerMerge]) -> None:
        undone = 0
        # Newest first: a later merge that moved the same rows on is undone before the
        # earlier one, so each undo finds its rows where it left them.
        for merge in queryset.order_by("-merged_at", "-pk"):
            try:
                undo_customer_merge(merge, actor=actor_of(request))
            except CustomerError as error:
                self.message_user(request, f"Merge {merge.pk}: {error}", messages.ERROR)
            else:
                undone += 1
        if undone:
            self.message_user(request, f"Undid {undone} merge(s).", messages.SUCCESS)


class OrderLineInline(ReadOnlyAdminMixin, AdminRoleMixin, admin.TabularInline):
    model = OrderLine
    fields = ("sku", "title", "quantity", "unit_price", "total")
    readonly_fields = fields
    extra = 0


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders as the store connectors imported them; the store is where they change."""

    list_display = (
        "number",
        "store",
        "customer",
        "placed_at",
        "total",
        "currency",
        "financial_status",
        "fulfillment_status",
    )
    list_select_related = ("customer",)
    list_filter = ("financial_status", "fulfillment_status", "store", "placed_at")
    search_fields = ("number", "external_id", "customer__name", "customer__email")
    search_help_text = "Order number or store id, or the customer's name or email."
    show_full_result_count = False
    fields = (
        "number",
        "store",
        "external_id",
        "customer",
        "placed_at",
        "currency",
        "subtotal",
        "shipping_total",
        "tax_total",
        "total",
        "financial_status",
        "fulfillment_status",
        "tracking",
        "shipping_address",
        "raw",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (OrderLineInline,)
