"""Actions on one message of the ticket page, and on the ticket's orders: send a failed
reply again, download an email as it was received, split a customer message into a new
ticket, link or unlink one of the customer's orders.

Thin, like the rest of the workspace: the services decide; a message or an order that is not
the ticket's is a 404; a refusal of the service is a 409 with its reason."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from customers.models import Order
from customers.queries import customer_for_detail
from tickets import services
from tickets.models import Attachment, Message, Ticket
from tickets.workspace.timeline import ticket_timeline
from tickets.workspace.views import (
    BAD_REQUEST,
    CONFLICT,
    _agent,
    _back_to_ticket,
    _error_page,
    _header_context,
    _is_htmx,
    _ticket,
    agent_view,
    reply_check_context,
)

ORIGINAL_CONTENT_TYPE = "message/rfc822"
ORIGINAL_NAME = "original.eml"


def _message(ticket: Ticket, message_id: int) -> Message:
    return get_object_or_404(Message, pk=message_id, ticket=ticket)


def _live(
    request: HttpRequest, ticket: Ticket, *, error: str = "", status: int = 200
) -> HttpResponse:
    """The ticket's changing parts, as out-of-band swaps, with an error in the header."""
    context = _header_context(request, ticket)
    context["timeline"] = ticket_timeline(ticket)
    context.update(reply_check_context(ticket))
    context["header_error"] = error
    return render(request, "workspace/_ticket_live.html", context, status=status)


@agent_view
@require_POST
def message_retry(request: HttpRequest, number: int, message_id: int) -> HttpResponse:
    """Send a failed reply again through the delivery pipeline."""
    ticket = _ticket(number)
    message = _message(ticket, message_id)
    status, error = 200, ""
    try:
        services.retry_delivery(message, actor=_agent(request))
    except services.TicketError as refusal:
        status, error = CONFLICT, str(refusal)
    if not _is_htmx(request):
        if status != 200:
            return _error_page(request, ticket, error, status)
        return _back_to_ticket(ticket)
    return _live(request, _ticket(number), error=error, status=status)


def original_source(message: Message) -> bytes | None:
    """An email as it was received: the ``original.eml`` the email channel keeps with each
    message, else the stored delivery it came in (``InboundEvent``, looked up by name: this
    app imports no channel code), keyed ``<Message-ID>:<recipient>``."""
    attachment = (
        Attachment.objects.filter(
            message=message, content_type=ORIGINAL_CONTENT_TYPE, name=ORIGINAL_NAME
        )
        .order_by("id")
        .first()
    )
    if attachment is not None:
        with attachment.file.open("rb") as handle:
            return bytes(handle.read())
    if not (message.channel_account_id and message.provider_message_id):
        return None
    event_model = apps.get_model("channels_inbox", "InboundEvent")
    event = (
        event_model._default_manager.filter(
            channel_account_id=message.channel_account_id,
            external_id__startswith=f"{message.provider_message_id}:",
        )
        .only("payload")
        .first()
    )
    return bytes(event.payload) if event is not None else None


@agent_view
@require_GET
def message_original(request: HttpRequest, number: int, message_id: int) -> HttpResponse:
    """Download a customer's email as received (RFC 822), for a signed-in agent only."""
    ticket = _ticket(number)
    message = _message(ticket, message_id)
    if message.kind != Message.Kind.CUSTOMER or ticket.channel != "email":
        return HttpResponse("Only emails have an original.", status=404)
    raw = original_source(message)
    if raw is None:
        return HttpResponse("The original of this email was not kept.", status=404)
    response = HttpResponse(raw, content_type=ORIGINAL_CONTENT_TYPE)
    filename = f"ticket-{ticket.number}-message-{message.pk}.eml"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A customer's mail must never run as a page of the help desk's origin.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@agent_view
@require_POST
def message_split(request: HttpRequest, number: int, message_id: int) -> HttpResponse:
    """Move a customer message to a new ticket, then open that ticket."""
    ticket = _ticket(number)
    message = _message(ticket, message_id)
    try:
        new_ticket = services.split_message_to_new_ticket(message, actor=_agent(request))
    except services.TicketError as refusal:
        if _is_htmx(request):
            return _live(request, _ticket(number), error=str(refusal), status=CONFLICT)
        return _error_page(request, ticket, str(refusal), CONFLICT)
    address = reverse("tickets:ticket", args=[new_ticket.number])
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Location"] = address
        return response
    return HttpResponseRedirect(address)


def _customer_context(ticket: Ticket) -> dict[str, Any]:
    customer = customer_for_detail().get(pk=ticket.customer_id)
    return {
        "ticket": ticket,
        "customer": customer,
        "linked_order_ids": set(ticket.orders.values_list("pk", flat=True)),
        "other_tickets": [t for t in customer.recent_tickets if t.pk != ticket.pk],  # type: ignore[attr-defined]
    }


@agent_view
@require_POST
def ticket_order(request: HttpRequest, number: int, order_id: int) -> HttpResponse:
    """Link one of the customer's orders to the ticket (``action=link``) or unlink it."""
    ticket = _ticket(number)
    order = get_object_or_404(Order, pk=order_id, customer_id=ticket.customer_id)
    action = request.POST.get("action", "")
    status, error = 200, ""
    if action not in ("link", "unlink"):
        status, error = BAD_REQUEST, "Choose to link or unlink the order."
    else:
        try:
            if action == "link":
                services.link_order(ticket, order, actor=_agent(request))
            else:
                services.unlink_order(ticket, order, actor=_agent(request))
        except services.TicketError as refusal:
            status, error = CONFLICT, str(refusal)
    if not _is_htmx(request):
        if status != 200:
            return _error_page(request, ticket, error, status)
        return _back_to_ticket(ticket)
    ticket = _ticket(number)
    context = _customer_context(ticket)
    context["order_error"] = error
    context["timeline"] = ticket_timeline(ticket)
    return render(request, "workspace/_customer_result.html", context, status=status)
