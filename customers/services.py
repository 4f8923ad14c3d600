"""Every write to customers, identities and orders goes through these functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from customers.identities import normalize_address
from customers.models import Customer, CustomerMerge, Identity
from helpdesk.events import CustomerMergeUndone, CustomersMerged, emit
from helpdesk.models import User


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
    customer.save()
    if customer.email:
        add_identity(customer, kind="email", address=customer.email)
    return customer


def add_identity(customer: Customer, *, kind: str, address: str, display_name: str = "") -> Identity:
    """Attach a handle; raises CustomerError when it already belongs to someone else."""
    normalized = normalize_address(kind, address)
    try:
        with transaction.atomic():
            identity, created = Identity.objects.get_or_create(
                kind=kind,
                address=normalized,
                defaults={"customer": customer, "display_name": display_name},
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
    identity = Identity.objects.select_related("customer").filter(kind=kind, address=normalized).first()
    if identity is not None:
        return ResolvedSender(identity.customer, identity, created=False)
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                name=display_name.strip()[:200],
                email=normalized if kind == "email" else "",
            )
            identity = Identity.objects.create(
                customer=customer, kind=kind, address=normalized, display_name=display_name[:200]
            )
    except IntegrityError:
        identity = Identity.objects.select_related("customer").get(kind=kind, address=normalized)
        return ResolvedSender(identity.customer, identity, created=False)
    return ResolvedSender(customer, identity, created=True)


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
        raise CustomerError(f"{target} is merged into customer {target.merged_into_id}; use that one.")


def merge_customers(source: Customer, target: Customer, *, actor: User | None) -> CustomerMerge:
    """Move every handle, ticket and order of ``source`` to ``target``.

    ``source`` is kept, marked as merged, so that ``undo_customer_merge`` can give back
    exactly the rows that moved.
    """
    with transaction.atomic():
        locked = {
            c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
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
        emit(CustomersMerged(merge_id=merge.pk, source_customer_id=source.pk, target_customer_id=target.pk))
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
            for c in Customer.objects.select_for_update().filter(pk__in=[merge.source_id, merge.target_id]).order_by("pk")
        }
        source, target = customers[merge.source_id], customers[merge.target_id]
        references = {_reference_key(model, name): (model, name) for model, name in _customer_references()}
        for key, pks in merge.moved.items():
            if key.startswith("_") or key not in references:
                continue
            model, field_name = references[key]
            model._default_manager.filter(pk__in=pks, **{field_name: target}).update(**{field_name: source})
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
        emit(CustomerMergeUndone(merge_id=merge.pk, source_customer_id=source.pk, target_customer_id=target.pk))
    return merge
