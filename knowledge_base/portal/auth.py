"""Who is signed in to the customer portal.

A customer's sign-in is one key in the Django session, apart from the agents' sign-in
(``django.contrib.auth``): a customer never becomes a ``User``, and signing in or out of the
portal changes nothing for an agent in the same browser. The session key is rotated on
both, so a session id planted before sign-in is worthless after it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from customers.models import Customer
from knowledge_base.portal.services import final_customer

SESSION_KEY = "help_portal_customer_id"


def sign_in(request: HttpRequest, customer: Customer) -> None:
    request.session.cycle_key()
    request.session[SESSION_KEY] = customer.pk


def sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def signed_in_customer(request: HttpRequest) -> Customer | None:
    """The signed-in customer (merges followed), or None."""
    customer_id = request.session.get(SESSION_KEY)
    if not isinstance(customer_id, int):
        return None
    customer = Customer.objects.filter(pk=customer_id).first()
    return None if customer is None else final_customer(customer)


def portal_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in customers only: others go to the portal's sign-in form. The view gets the
    customer as its second argument. Pages are private: never cached by a proxy."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        customer = signed_in_customer(request)
        if customer is None:
            return HttpResponseRedirect(reverse("help:portal"))
        response = view(request, customer, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapped
