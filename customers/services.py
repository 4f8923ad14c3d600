"""Every write to customers, identities and orders goes through these functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from customers.identities import normalize_address
from customers.models import Customer, CustomerMerge, Identity, Order, OrderLine
from helpdesk.events import CustomerMergeUndone, CustomersMerged, emit
from helpdesk.models import User
from helpdesk.services import UNSET, Unset


class CustomerError(Exception):
    """A customer change that is not allowed; the message is fit to show the agent."""


@dataclass(frozen=True)
class ResolvedSender:
    customer: Customer
    identity: Identity
    created: bool


def create_customer(
    *,
    name: str = "",
    email: str = "",
    locale: str = "",
    notes: str = "",
    tags: list[str] | None = None,
) -> Customer:
    customer = Customer(
        name=name.strip(), email=email.strip().lower(), locale=locale, notes=notes, tags=tags or []
    )
    customer.full_clean()
    # One transaction: when the email already belongs to someone else, add_identity refuses
    # and no half-made customer without its handle is left behind.
    with transaction.atomic():
        customer.save()
        if customer.email:
            add_identity(customer, kind="email", address=customer.email)
    return customer


def add_identity(
    customer: Customer, *, kind: str, address: str, display_name: str = ""
) -> Identity:
    """Attach a handle; raises CustomerError when it already belongs to someone else or
    ``customer`` is merged into another customer (the handle belongs on that one)."""
    normalized = normalize_address(kind, address)
    if customer.merged_into_id is not None:
        raise CustomerError(
            f"{customer} is merged into customer {customer.merged_into_id}; add the handle there."
        )
    try:
        with transaction.atomic():
            identity, created = Identity.objects.get_or_create(
                kind=kind,
                address=normalized,
                defaults={"customer": customer, "display_name": display_name.strip()[:200]},
            )
    except IntegrityError:
        identity, created = Identity.objects.get(kind=kind, address=normalized), False
    if not created and identity.customer_id != customer.pk:
        raise CustomerError(
            f"{identity} already belongs to customer {identity.customer_id}; merge them instead."
        )
    return identity


def resolve_sender(kind: str, address: str, *, display_name: str = "") -> ResolvedSender:
    """The customer behind a channel address, created on first contact.

    Safe under concurrency: the unique (kind, address) constraint decides which of two
    simultaneous first messages creates the customer; the other one finds it.
    """
    normalized = normalize_address(kind, address)
    # get(), not first(): the address is unique, and first() would sort the joined rows,
    # which Django compiles at a cost that shows on every inbound message.
    try:
        identity = Identity.objects.select_related("customer").get(kind=kind, address=normalized)
    except Identity.DoesNotExist:
        pass
    else:
        return ResolvedSender(identity.customer, identity, created=False)
    customer, identity = _first_contact(kind, normalized, display_name)
    try:
        with transaction.atomic():
            customer.save()
            identity.customer = customer
            identity.save()
    except IntegrityError:
        identity = Identity.objects.select_related("customer").get(kind=kind, address=normalized)
        return ResolvedSender(identity.customer, identity, created=False)
    return ResolvedSender(customer, identity, created=True)


def _first_contact(kind: str, normalized: str, display_name: str) -> tuple[Customer, Identity]:
    """The unsaved customer and identity a first message from ``normalized`` creates."""
    name = display_name.strip()[:200]
    customer = Customer(name=name, email=normalized if kind == "email" else "")
    return customer, Identity(customer=customer, kind=kind, address=normalized, display_name=name)


def resolve_senders(
    senders: Sequence[tuple[str, str, str]],
) -> dict[tuple[str, str], ResolvedSender]:
    """``resolve_sender`` for many (kind, address, display name) at once, keyed by (kind,
    address) as given: one query finds the known senders, one INSERT each creates the
    customers and the identities of the others. Two addresses that normalize alike get the
    same customer, created once (``created`` is True for both).

    Raises ValidationError for an address that cannot be normalized. Another writer may be
    creating some of these identities at the same moment (another worker's batch from the
    same new sender): the INSERT then waits for it, and if it committed, looks again and
    finds its customers. Raises IntegrityError only if that keeps happening.
    """
    normalized = {(kind, address): normalize_address(kind, address) for kind, address, _ in senders}
    by_kind: dict[str, set[str]] = {}
    for (kind, _), address in normalized.items():
        by_kind.setdefault(kind, set()).add(address)
    query = models.Q()
    for kind, addresses in by_kind.items():
        query |= models.Q(kind=kind, address__in=addresses)
    attempt = 1
    while True:
        found: dict[tuple[str, str], ResolvedSender] = {}
        if by_kind:
            for identity in Identity.objects.select_related("customer").filter(query):
                found[identity.kind, identity.address] = ResolvedSender(
                    identity.customer, identity, created=False
                )
        new: dict[tuple[str, str], tuple[Customer, Identity]] = {}
        for kind, address, display_name in senders:
            key = (kind, normalized[kind, address])
            if key not in found and key not in new:
                new[key] = _first_contact(kind, key[1], display_name)
        try:
            found.update(_create_senders(new))
        except IntegrityError:
            if attempt == SENDER_ATTEMPTS:
                raise
            attempt += 1
            continue
        return {
            (kind, address): found[kind, normalized[kind, address]] for kind, address, _ in senders
        }


# One conflict is another writer's first message from the same sender; a second in a row
# would need a third writer racing on another of the same batch's senders.
SENDER_ATTEMPTS = 3


def _create_senders(
    new: dict[tuple[str, str], tuple[Customer, Identity]],
) -> dict[tuple[str, str], ResolvedSender]:
    if not new:
        return {}
    # Inserted in address order, as every batch inserts them: two batches with two new
    # senders in common then wait on each other in turn, never in a deadlock. A savepoint:
    # a conflict takes back only these rows.
    new = dict(sorted(new.items()))
    with transaction.atomic():
        Customer.objects.bulk_create([customer for customer, _ in new.values()])
        for customer, identity in new.values():
            identity.customer = customer
        Identity.objects.bulk_create([identity for _, identity in new.values()])
    return {
        key: ResolvedSender(customer, identity, created=True)
        for key, (customer, identity) in new.items()
    }


# --- Merging -------------------------------------------------------------------------------

FILLABLE_FIELDS = ("name", "email", "locale")


def _customer_references() -> list[tuple[type[models.Model], str]]:
    """Every foreign key in the project that points at Customer, found by introspection so
    that tickets, orders and whatever later apps add move with a merge without this app
    importing them. The merge bookkeeping itself is left alone."""
    references = []
    for model in apps.get_models(include_auto_created=True):
        if model in (Customer, CustomerMerge):
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is Customer:
                references.append((model, field.name))
    return references


def _reference_key(model: type[models.Model], field_name: str) -> str:
    return f"{model._meta.label_lower}.{field_name}"


def check_merge_customers(source: Customer, target: Customer) -> None:
    if source.pk == target.pk:
        raise CustomerError("A customer cannot be merged into itself.")
    if source.merged_into_id is not None:
        raise CustomerError(f"{source} is already merged into customer {source.merged_into_id}.")
    if target.merged_into_id is not None:
        raise CustomerError(
            f"{target} is merged into customer {target.merged_into_id}; use that one."
        )


def merge_customers(source: Customer, target: Customer, *, actor: User | None) -> CustomerMerge:
    """Move every handle, ticket and order of ``source`` to ``target``.

    ``source`` is kept, marked as merged, so that ``undo_customer_merge`` can give back
    exactly the rows that moved.
    """
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(pk__in=[source.pk, target.pk])
            .order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        check_merge_customers(source, target)
        moved: dict[str, Any] = {}
        for model, field_name in _customer_references():
            rows = model._default_manager.filter(**{field_name: source})
            pks = list(rows.values_list("pk", flat=True))
            if pks:
                model._default_manager.filter(pk__in=pks).update(**{field_name: target})
                moved[_reference_key(model, field_name)] = pks
        filled = {}
        for field in FILLABLE_FIELDS:
            if not getattr(target, field) and getattr(source, field):
                filled[field] = getattr(target, field)
                setattr(target, field, getattr(source, field))
        added_tags = [tag for tag in source.tags if tag not in target.tags]
        target.tags = [*target.tags, *added_tags]
        target.save()
        source.merged_into = target
        source.save(update_fields=["merged_into", "updated_at"])
        merge = CustomerMerge.objects.create(
            source=source,
            target=target,
            moved={**moved, "_filled_fields": filled, "_added_tags": added_tags},
            merged_by=actor,
        )
        emit(
            CustomersMerged(
                merge_id=merge.pk, source_customer_id=source.pk, target_customer_id=target.pk
            )
        )
    return merge


def undo_customer_merge(merge: CustomerMerge, *, actor: User | None) -> CustomerMerge:
    """Give ``merge.source`` back every row that moved and still belongs to the target.

    Rows moved on since (to a third customer by a later merge) stay where they are.
    """
    with transaction.atomic():
        merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise CustomerError("This merge has already been undone.")
        customers = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(pk__in=[merge.source_id, merge.target_id])
            .order_by("pk")
        }
        source, target = customers[merge.source_id], customers[merge.target_id]
        references = {
            _reference_key(model, name): (model, name) for model, name in _customer_references()
        }
        for key, pks in merge.moved.items():
            if key.startswith("_") or key not in references:
                continue
            model, field_name = references[key]
            model._default_manager.filter(pk__in=pks, **{field_name: target}).update(
                **{field_name: source}
            )
        for field, previous in merge.moved.get("_filled_fields", {}).items():
            if getattr(target, field) == getattr(source, field):
                setattr(target, field, previous)
        added_tags = set(merge.moved.get("_added_tags", []))
        target.tags = [tag for tag in target.tags if tag not in added_tags]
        target.save()
        source.merged_into = None
        source.save(update_fields=["merged_into", "updated_at"])
        merge.undone_at = timezone.now()
        merge.undone_by = actor
        merge.save(update_fields=["undone_at", "undone_by"])
        emit(
            CustomerMergeUndone(
                merge_id=merge.pk, source_customer_id=source.pk, target_customer_id=target.pk
            )
        )
    return merge


# --- Editing customers ---------------------------------------------------------------------


def register_customer(
    *,
    name: str = "",
    email: str = "",
    locale: str = "",
    notes: str = "",
    tags: list[str] | None = None,
    identities: Sequence[tuple[str, str]] = (),
) -> Customer:
    """``create_customer`` plus handles given as ``(kind, address)``, all or nothing: when one
    handle is not valid (ValidationError) or belongs to someone else (CustomerError), no
    customer is left behind."""
    with transaction.atomic():
        customer = create_customer(name=name, email=email, locale=locale, notes=notes, tags=tags)
        for kind, address in identities:
            add_identity(customer, kind=kind, address=address)
    return customer


def update_customer(
    customer: Customer,
    *,
    name: str | Unset = UNSET,
    email: str | Unset = UNSET,
    locale: str | Unset = UNSET,
    notes: str | Unset = UNSET,
    tags: list[str] | Unset = UNSET,
) -> Customer:
    """Change the given fields. A new email also becomes one of the customer's handles (the
    old ones stay); CustomerError when it belongs to someone else, and nothing changes."""
    changes: dict[str, Any] = {
        "name": name.strip() if isinstance(name, str) else name,
        "email": email.strip().lower() if isinstance(email, str) else email,
        "locale": locale,
        "notes": notes,
        "tags": list(tags) if isinstance(tags, list) else tags,
    }
    changed = [field for field, value in changes.items() if not isinstance(value, Unset)]
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        new_email = "email" in changed and changes["email"] and changes["email"] != customer.email
        for field in changed:
            setattr(customer, field, changes[field])
        customer.full_clean()
        if changed:
            customer.save(update_fields=[*changed, "updated_at"])
        if new_email:
            add_identity(customer, kind="email", address=customer.email)
    return customer


# --- Orders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineData:
    title: str
    unit_price: Decimal
    total: Decimal
    quantity: int = 1
    sku: str = ""

    def key(self) -> tuple[str, str, int, Decimal, Decimal]:
        return (self.sku, self.title, self.quantity, self.unit_price, self.total)


def _line_key(line: OrderLine) -> tuple[str, str, int, Decimal, Decimal]:
    return (line.sku, line.title, line.quantity, line.unit_price, line.total)


def upsert_order(
    *,
    store: str,
    external_id: str,
    number: str,
    placed_at: datetime,
    currency: str,
    total: Decimal,
    customer: Customer | None = None,
    subtotal: Decimal = Decimal(0),
    shipping_total: Decimal = Decimal(0),
    tax_total: Decimal = Decimal(0),
    financial_status: str = Order.FinancialStatus.PENDING,
    fulfillment_status: str = Order.FulfillmentStatus.UNFULFILLED,
    tracking: Sequence[dict[str, str]] = (),
    shipping_address: dict[str, Any] | None = None,
    lines: Sequence[OrderLineData] = (),
    raw: dict[str, Any] | None = None,
) -> tuple[Order, bool]:
    """Create or update the order the store knows as ``(store, external_id)``; returns it and
    whether it was created.

    Idempotent: importing the same order twice writes nothing the second time, and the lines
    are replaced only when they differ, so their ids stay stable across re-imports. An order
    for a customer merged into another lands on that other customer. ``raw=None`` keeps the
    stored payload of an existing order.
    """
    if customer is not None and customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    fields: dict[str, Any] = {
        "customer": customer,
        "number": number.strip(),
        "placed_at": placed_at,
        "currency": currency.upper(),
        "subtotal": subtotal,
        "shipping_total": shipping_total,
        "tax_total": tax_total,
        "total": total,
        "financial_status": financial_status,
        "fulfillment_status": fulfillment_status,
        "tracking": [dict(item) for item in tracking],
        "shipping_address": dict(shipping_address or {}),
    }
    if raw is not None:
        fields["raw"] = raw
    with transaction.atomic():
        candidate = Order(store=store, external_id=external_id, **fields)
        # Unique (store, external_id) is checked by the constraint below, not here.
        candidate.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                order, created = Order.objects.select_for_update().get_or_create(
                    store=store, external_id=external_id, defaults=fields
                )
        except IntegrityError:
            order = Order.objects.select_for_update().get(store=store, external_id=external_id)
            created = False
        if not created:
            changed = [name for name, value in fields.items() if getattr(order, name) != value]
            for name in changed:
                setattr(order, name, fields[name])
            if changed:
                order.save(update_fields=[*changed, "updated_at"])
        existing = [] if created else list(order.lines.all())
        if [_line_key(line) for line in existing] != [line.key() for line in lines]:
            order.lines.all().delete()
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    sku=line.sku,
                    title=line.title,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    total=line.total,
                )
                for line in lines
            )
    return order, created
