"""The customer portal (/help/portal/): sign in with a one-time link, see your tickets and
reply to them, see your orders. Every read goes through ``portal.queries`` (the permission
boundary); every write through ``portal.services``."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from customers.models import Customer
from knowledge_base import links
from knowledge_base.portal import auth, queries, services
from knowledge_base.portal.contact import TOO_MANY_REQUESTS, client_address
from knowledge_base.portal.forms import ReplyForm, SignInForm


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    return {
        "help_locale": links.default_locale(),
        "portal_customer": auth.signed_in_customer(request),
        **extra,
    }


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def portal(request: HttpRequest) -> HttpResponse:
    """Signed in: the customer's tickets. Signed out: the sign-in form, which answers every
    address the same way."""
    customer = auth.signed_in_customer(request)
    if customer is not None and request.method == "GET":
        return _tickets_page(request, customer)
    if request.method == "GET":
        return _private(
            render(request, "help/portal/sign_in.html", _context(request, form=SignInForm()))
        )
    form = SignInForm(request.POST)
    if not form.is_valid():
        return _private(
            render(request, "help/portal/sign_in.html", _context(request, form=form), status=400)
        )
    email = form.cleaned_data["email"]
    if not services.allowed(
        (services.SIGN_IN_PER_IP, client_address(request)),
        (services.SIGN_IN_PER_EMAIL, email.lower()),
    ):
        return _private(
            render(
                request,
                "help/portal/sign_in.html",
                _context(
                    request,
                    form=form,
                    refusal="Too many sign-in links were asked for. Please wait a few "
                    "minutes and try again.",
                ),
                status=TOO_MANY_REQUESTS,
            )
        )
    services.request_sign_in_link(email)
    # The same page whether or not we know the address.
    return _private(
        render(
            request,
            "help/portal/check_email.html",
            _context(request, email=email, minutes=settings.HELP_CENTER_PORTAL_LINK_MINUTES),
        )
    )


def _tickets_page(request: HttpRequest, customer: Customer) -> HttpResponse:
    tickets = list(queries.customer_tickets(customer)[: queries.TICKETS_SHOWN])
    return _private(
        render(
            request,
            "help/portal/tickets.html",
            _context(request, tickets=tickets, section="tickets"),
        )
    )


@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """A sign-in link. Opening it asks for one click (a POST) before it is used up: mail
    scanners that fetch every link in a message must not spend it."""
    if request.method == "GET":
        usable = services.usable_link(token) is not None
        return _private(
            render(
                request,
                "help/portal/link.html",
                _context(request, usable=usable, token=token),
                status=200 if usable else 410,
            )
        )
    customer = services.use_sign_in_link(token)
    if customer is None:
        return _private(
            render(request, "help/portal/link.html", _context(request, usable=False), status=410)
        )
    auth.sign_in(request, customer)
    return HttpResponseRedirect(reverse("help:portal"))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    auth.sign_out(request)
    return HttpResponseRedirect(reverse("help:portal"))


@auth.portal_view
@require_http_methods(["GET", "POST"])
def ticket(request: HttpRequest, customer: Customer, number: int) -> HttpResponse:
    found = queries.customer_ticket(customer, number)
    if found is None:
        raise Http404("No such request.")
    if found.number != number:  # merged into another of theirs
        return HttpResponseRedirect(reverse("help:portal-ticket", args=[found.number]))
    form = ReplyForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST":
        if not services.allowed((services.PORTAL_REPLY_PER_CUSTOMER, customer.pk)):
            error, status = "You have sent many replies in a short time; please wait.", 429
        elif form.is_valid():
            try:
                message = services.add_portal_reply(found, customer, form.cleaned_data["text"])
            except services.PortalReplyError as refusal:
                error, status = str(refusal), 409
            else:
                # A closed ticket's reply opens a follow-up: show where it went.
                target = queries.customer_ticket(customer, message.ticket.number)
                number = target.number if target is not None else found.number
                return HttpResponseRedirect(
                    reverse("help:portal-ticket", args=[number]) + "#latest"
                )
        else:
            status = 400
    team_name = found.team.name if found.team is not None else settings.HELP_CENTER_NAME
    return render(
        request,
        "help/portal/ticket.html",
        _context(
            request,
            ticket=found,
            conversation=queries.public_messages(found, team_name=team_name),
            form=form,
            error=error,
            section="tickets",
        ),
        status=status,
    )


@auth.portal_view
def orders(request: HttpRequest, customer: Customer) -> HttpResponse:
    return render(
        request,
        "help/portal/orders.html",
        _context(
            request,
            orders=queries.customer_orders(customer),
            section="orders",
        ),
    )
