"""The macro picker on the ticket page: the agent's macros, a preview, and Apply.

Apply runs the macro's actions (``apply_macro`` with ``send=False``) and answers with the
rendered body, which ``static/workspace/macros.js`` puts into the reply box: the agent
reads and sends it, so a macro never sends on its own from the ticket page.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from automation.macros.services import apply_macro, preview_macro, visible_macros
from automation.models import Macro
from helpdesk.models import User
from tickets.models import Ticket
from tickets.services import TicketError
from tickets.workspace.views import agent_view

CONFLICT = 409


def _agent(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _ticket(number: int) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("customer"), number=number)


def _macro(request: HttpRequest, macro_id: int) -> Macro:
    """A macro the agent may see; another agent's personal macro is a 404, like a missing
    one, so its existence is not disclosed."""
    macro = visible_macros(_agent(request)).filter(pk=macro_id).first()
    if macro is None:
        raise Http404("No such macro.")
    return macro


@agent_view
@require_GET
def macro_list(request: HttpRequest, number: int) -> HttpResponse:
    """The picker's options: the agent's active macros, shared and personal."""
    ticket = _ticket(number)
    macros = visible_macros(_agent(request)).filter(is_active=True).order_by("name", "id")
    return render(request, "workspace/_macro_list.html", {"ticket": ticket, "macros": list(macros)})


@agent_view
@require_GET
def macro_preview(request: HttpRequest, number: int, macro_id: int) -> HttpResponse:
    """The body as it would be inserted, the actions it would take, and Apply."""
    ticket = _ticket(number)
    macro = _macro(request, macro_id)
    context: dict[str, Any] = {"ticket": ticket, "macro": macro}
    try:
        context["preview"] = preview_macro(ticket, macro, actor=_agent(request))
    except TicketError as refusal:
        context["error"] = str(refusal)
        return render(request, "workspace/_macro_preview.html", context, status=CONFLICT)
    return render(request, "workspace/_macro_preview.html", context)


@agent_view
@require_POST
def macro_apply(request: HttpRequest, number: int, macro_id: int) -> HttpResponse:
    """Apply the macro's actions; JSON ``{"body", "actions", "summary"}`` for the picker,
    ``{"error"}`` with 409 when the ticket refuses a step (nothing is applied then). A plain
    form post goes back to the ticket."""
    ticket = _ticket(number)
    macro = _macro(request, macro_id)
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        result = apply_macro(ticket, macro, actor=_agent(request), send=False)
    except TicketError as refusal:
        if wants_json:
            return JsonResponse({"error": str(refusal)}, status=CONFLICT)
        return HttpResponse(str(refusal), status=CONFLICT, content_type="text/plain")
    if not wants_json:
        return HttpResponseRedirect(reverse("tickets:ticket", args=[ticket.number]))
    return JsonResponse(
        {
            "body": result.body,
            "actions": result.actions,
            "summary": f"Applied “{macro.name}”"
            + (": " + "; ".join(result.actions) if result.actions else "."),
        }
    )
