"""The customer page: every handle, every ticket and the orders of one customer, with merge
into another customer and un-merge, through ``customers.services``.

It lives beside the other workspace screens because it shows tickets and sits in the same
frame (the views and the list stay beside it); customers never import tickets.
"""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from customers.models import Customer, CustomerMerge
from customers.queries import customer_for_detail
from customers.services import CustomerError, merge_customers, undo_customer_merge
from tickets.models import Ticket
from tickets.workspace.views import (
    BAD_REQUEST,
    CONFLICT,
    _agent,
    _inbox_form,
    _workspace_context,
    agent_view,
)

# A customer with more tickets than this is a shop's test account; the page says how many.
MAX_TICKETS_SHOWN = 200


class MergeIntoForm(django_forms.Form):
    """The customer to merge into: their number or email address, as the agent finds it."""

    into = django_forms.CharField(
        max_length=320, error_messages={"required": "Type the customer to merge into."}
    )

    def clean_into(self) -> Customer:
        value = self.cleaned_data["into"].strip().removeprefix("#")
        if value.isdigit() and len(value) <= 18:
            found = Customer.objects.filter(pk=int(value)).first()
        else:
            found = Customer.objects.filter(email__iexact=value).first()
        if found is None:
            raise ValidationError("No customer has that number or email address.")
        return found


def _customer_context(customer_id: int) -> dict[str, Any]:
    customer = get_object_or_404(customer_for_detail(), pk=customer_id)
    tickets = list(
        Ticket.objects.filter(customer=customer)
        .only("id", "number", "subject", "status", "channel", "updated_at", "merged_into_id")
        .order_by("-updated_at", "-id")[: MAX_TICKETS_SHOWN + 1]
    )
    merges = list(
        CustomerMerge.objects.filter(target=customer, undone_at__isnull=True)
        .select_related("source", "merged_by")
        .order_by("-merged_at")
    )
    merged_away = (
        CustomerMerge.objects.filter(source=customer, undone_at__isnull=True)
        .select_related("target")
        .order_by("-merged_at")
        .first()
        if customer.merged_into_id
        else None
    )
    return {
        "customer": customer,
        "customer_tickets": tickets[:MAX_TICKETS_SHOWN],
        "more_tickets": len(tickets) > MAX_TICKETS_SHOWN,
        "merges_in": merges,
        "merged_away": merged_away,
        "linked_order_ids": set(),
    }


def _page(
    request: HttpRequest, customer_id: int, *, status: int = 200, **extra: Any
) -> HttpResponse:
    form, error = _inbox_form(request)
    context = _workspace_context(request, form, error)
    context.update(_customer_context(customer_id))
    context.setdefault("merge_form", MergeIntoForm())
    context.update(extra)
    return render(request, "workspace/customer.html", context, status=status)


@agent_view
@require_GET
def customer_page(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer: handles on every channel, all their tickets, their orders, and the
    merges into them, each of which can be undone."""
    return _page(request, customer_id)


def _customer_url(customer_id: int) -> str:
    return reverse("tickets:customer", args=[customer_id])


@agent_view
@require_POST
def customer_merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Merge this customer into another; the other one's page shows the result."""
    source = get_object_or_404(Customer, pk=customer_id)
    form = MergeIntoForm(request.POST)
    if not form.is_valid():
        message = next(iter(form.errors.values()))[0]
        return _page(request, customer_id, status=BAD_REQUEST, merge_form=form, merge_error=message)
    try:
        merge_customers(source, form.cleaned_data["into"], actor=_agent(request))
    except CustomerError as refusal:
        return _page(
            request, customer_id, status=CONFLICT, merge_form=form, merge_error=str(refusal)
        )
    return HttpResponseRedirect(_customer_url(form.cleaned_data["into"].pk))


@agent_view
@require_POST
def customer_unmerge(request: HttpRequest, merge_id: int) -> HttpResponse:
    """Undo a merge: the merged customer gets back what moved, and its page is shown."""
    merge = get_object_or_404(CustomerMerge, pk=merge_id)
    try:
        undo_customer_merge(merge, actor=_agent(request))
    except CustomerError as refusal:
        return _page(request, merge.target_id, status=CONFLICT, merge_error=str(refusal))
    return HttpResponseRedirect(_customer_url(merge.source_id))
