"""Query-string filters for customers, merges and orders."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from customers.models import Customer, CustomerMerge, Order
from customers.queries import exclude_merged, search_customers, with_tag
from helpdesk.api.filters import (
    DATE_TIME_SCHEMA,
    StrictBooleanFilter,
    UpdatedSinceFilter,
    documented,
)


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        max_length=200,
        help_text="Part of a name, an email or any handle (a phone number in any format).",
    )
    tag = django_filters.CharFilter(method="filter_tag", max_length=50, help_text="Exact tag.")
    updated_since = documented(
        UpdatedSinceFilter(
            field_name="updated_at",
            help_text="Customers changed at or after this ISO 8601 datetime, which must carry a "
            "time zone (2025-01-31T09:00:00Z).",
        ),
        DATE_TIME_SCHEMA,
    )
    include_merged = StrictBooleanFilter(
        method="filter_include_merged",
        help_text="Also list customers merged into another one (left out by default).",
    )

    class Meta:
        model = Customer
        fields = ["q", "tag", "updated_since", "include_merged"]

    def filter_q(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return search_customers(queryset, value)

    def filter_tag(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return with_tag(queryset, value.strip().lower())

    def filter_include_merged(
        self, queryset: QuerySet[Customer], name: str, value: bool
    ) -> QuerySet[Customer]:
        # Applied in filter_queryset, because the default (absent) must filter too.
        return queryset

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_merged"):
            queryset = exclude_merged(queryset)
        return queryset


class CustomerMergeFilter(django_filters.FilterSet):
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.all(),
        method="filter_customer",
        help_text="Merges in which this customer was the source or the target.",
    )
    undone = StrictBooleanFilter(field_name="undone_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = CustomerMerge
        fields = ["customer", "undone"]

    def filter_customer(
        self, queryset: QuerySet[CustomerMerge], name: str, value: Customer
    ) -> QuerySet[CustomerMerge]:
        return queryset.filter(Q(source=value) | Q(target=value))


class OrderFilter(django_filters.FilterSet):
    customer = django_filters.ModelChoiceFilter(queryset=Customer.objects.all())
    number = django_filters.CharFilter(
        method="filter_number",
        max_length=50,
        help_text="The order number as the customer sees it, with or without the leading #.",
    )
    store = django_filters.CharFilter(max_length=100)
    financial_status = django_filters.ChoiceFilter(choices=Order.FinancialStatus.choices)
    fulfillment_status = django_filters.ChoiceFilter(choices=Order.FulfillmentStatus.choices)

    class Meta:
        model = Order
        fields = ["customer", "number", "store", "financial_status", "fulfillment_status"]

    def filter_number(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        bare = value.strip().lstrip("#")
        return queryset.filter(number__in=[bare, f"#{bare}"])
