"""The agent workspace's template picker: a reply sent as an approved WhatsApp template.

It lives here, not in ``tickets.workspace``, because sending a template is channel code
(``add_template_reply``) and ``tickets`` imports no channel; the page around it is the
workspace's own. The API's ``template-reply`` endpoint calls the same service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from channels_inbox.whatsapp.templates import add_template_reply
from tickets.models import Ticket
from tickets.services import REPLY_STATUSES, TicketError
from tickets.workspace.forms import first_error
from tickets.workspace.timeline import ticket_timeline
from tickets.workspace.views import (
    BAD_REQUEST,
    CONFLICT,
    _agent,
    _error_page,
    _header_context,
    _is_htmx,
    _ticket,
    agent_view,
    reply_check_context,
)

MAX_PARAMETERS = 100


class TemplateReplyForm(forms.Form):
    template = forms.CharField(max_length=512)
    language = forms.CharField(max_length=15, required=False)
    then_status = forms.ChoiceField(
        required=False,
        choices=[
            ("", ""),
            *[(value, label) for value, label in Ticket.Status.choices if value in REPLY_STATUSES],
        ],
    )


def _validation_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@agent_view
@require_POST
def template_reply(request: HttpRequest, number: int) -> HttpResponse:
    """Send the chosen template with its parameters ({{1}}, {{2}} ... in order)."""
    ticket = _ticket(number)
    form = TemplateReplyForm(request.POST)
    parameters = request.POST.getlist("parameters")
    status, message, open_key = 200, "", ""
    if not form.is_valid():
        status, message = BAD_REQUEST, first_error(form)
    elif len(parameters) > MAX_PARAMETERS:
        status, message = BAD_REQUEST, "Too many parameters."
    else:
        data = form.cleaned_data
        open_key = f"{data['template']}-{data['language']}"
        try:
            add_template_reply(
                ticket,
                author=_agent(request),
                name=data["template"],
                language=data["language"],
                parameters=parameters,
                status=data["then_status"] or None,
            )
        except ValidationError as refusal:
            status, message = BAD_REQUEST, _validation_text(refusal)
        except TicketError as refusal:
            status, message = CONFLICT, str(refusal)
    if not _is_htmx(request):
        if status != 200:
            extra = reply_check_context(ticket, open_key=open_key, values=parameters, error=message)
            return _error_page(request, ticket, message, status, **extra)
        return HttpResponseRedirect(reverse("tickets:ticket", args=[ticket.number]))
    ticket = _ticket(number)
    context: dict[str, Any] = _header_context(request, ticket)
    if status == 200:
        context.update(reply_check_context(ticket))
        context["sent_template"] = True
    else:
        context.update(
            reply_check_context(ticket, open_key=open_key, values=parameters, error=message)
        )
    context["timeline"] = ticket_timeline(ticket)
    return render(request, "workspace/_template_result.html", context, status=status)
