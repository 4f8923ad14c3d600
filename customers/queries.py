"""Reads of customers, merges and orders that the API and the agent screens share."""

from __future__ import annotations

import contextlib
import re

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, Model, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from customers.identities import normalize_phone
from customers.models import Customer, CustomerMerge, Identity, Order, OrderLine

RECENT_TICKETS = 20
RECENT_ORDERS = 20
MIN_PHONE_DIGITS = 5
PHONE_LIKE = re.compile(r"^[\d\s()+.\-]+$")


def _ticket_model() -> type[Model]:
    # Tickets depend on customers, never the reverse: reach the model through the relation
    # the tickets app declared instead of importing it.
    return Customer._meta.get_field("tickets").related_model  # type: ignore[return-value]


def customers_for_list() -> QuerySet[Customer]:
    """Customers with their handles: two queries per page, whatever its size."""
    return Customer.objects.prefetch_related(
        Prefetch("identities", queryset=Identity.objects.order_by("kind", "address"))
    )


def customer_for_detail() -> QuerySet[Customer]:
    """One customer with handles, latest tickets and latest orders with their lines, in a
    fixed number of queries. The slices are per customer (a window function), not global."""
    tickets = (
        _ticket_model()
        ._default_manager.only(
            "id", "number", "subject", "status", "channel", "updated_at", "customer_id"
        )
        .order_by("-updated_at", "-id")
    )
    orders = Order.objects.order_by("-placed_at", "-id").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )
    return Customer.objects.prefetch_related(
        Prefetch("identities", queryset=Identity.objects.order_by("kind", "address")),
        Prefetch("tickets", queryset=tickets[:RECENT_TICKETS], to_attr="recent_tickets"),
        Prefetch("orders", queryset=orders[:RECENT_ORDERS], to_attr="recent_orders"),
    )


def exclude_merged(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers that were merged into another one live on as that one."""
    return customers.filter(merged_into__isnull=True)


def search_customers(customers: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Case-insensitive substring match on name, email and any handle. A query that reads as
    a phone number also matches the E.164 form handles are stored in: "(415) 555-0100" finds
    "+14155550100", and so does the partial "+1 415 555 01"."""
    text = text.strip()
    if not text:
        return customers
    addresses = {text}
    if PHONE_LIKE.match(text) and sum(c.isdigit() for c in text) >= MIN_PHONE_DIGITS:
        addresses.add(re.sub(r"[^\d+]", "", text))
        with contextlib.suppress(ValidationError):
            addresses.add(normalize_phone(text))
    handle = Q()
    for address in addresses:
        handle |= Q(address__icontains=address)
    # A subquery rather than a join: a customer with three matching handles is one row.
    matching = Identity.objects.filter(handle).values("customer_id")
    return customers.filter(Q(name__icontains=text) | Q(email__icontains=text) | Q(pk__in=matching))


def with_tag(customers: QuerySet[Customer], tag: str) -> QuerySet[Customer]:
    """Customers whose ``tags`` list holds ``tag`` exactly."""
    if connection.features.supports_json_field_contains:
        return customers.filter(tags__contains=[tag])
    # SQLite has no JSON containment operator; json_each gives the same exact match. Only the
    # table name (from the model, not the request) is formatted in; the tag is a parameter.
    table = connection.ops.quote_name(Customer._meta.db_table)
    sql = f"EXISTS (SELECT 1 FROM json_each({table}.tags) WHERE json_each.value = %s)"  # noqa: S608
    has_tag = RawSQL(sql, (tag,), output_field=BooleanField())  # noqa: S611
    return customers.alias(has_tag=has_tag).filter(has_tag=True)


def merges_for_list() -> QuerySet[CustomerMerge]:
    return CustomerMerge.objects.select_related("source", "target", "merged_by", "undone_by")
