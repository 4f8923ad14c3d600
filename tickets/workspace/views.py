"""The agent workspace: the inbox and the ticket page, and the fragments htmx swaps in.

Views are thin: a form reads the request, a ``tickets.services`` function makes the change,
a template shows the result. A request from htmx (``HX-Request``) gets the fragment it
swaps; a plain form post gets a redirect, so every action also works without JavaScript.
Errors keep the page and say what happened: 400 for input the form refuses, 409 when the
service refuses the change (``TicketError``), 404 for a ticket that does not exist.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from customers.queries import customer_for_detail
from helpdesk.models import Team, User
from tickets import inbox, services
from tickets.models import Tag, Ticket
from tickets.search import search_terms
from tickets.workspace import bulk, forms, saved_views
from tickets.workspace.mentions import mention_choices, mentioned_agent_ids, mentions_of
from tickets.workspace.reply_check import composer_check, template_rows
from tickets.workspace.timeline import ticket_timeline

# How many tags the filter bar offers; a shop with more types the name.
FILTER_TAG_LIMIT = 200
CONFLICT = 409
BAD_REQUEST = 400


def agent_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in agents only (others go to the sign-in page), with times shown in the
    agent's own time zone when one is set."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        zone = getattr(request.user, "time_zone", "")
        try:
            tzinfo = zoneinfo.ZoneInfo(zone) if zone else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tzinfo = None
        # The templates render inside the view, so inside the agent's time zone.
        with timezone.override(tzinfo or timezone.get_default_timezone()):
            response = view(request, *args, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response

    return wrapped


def _is_htmx(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _agent(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


# --- The inbox -------------------------------------------------------------------------------


def _list_query(query: QueryDict) -> QueryDict:
    """The list's parameters without the page cursor: what a row link or a refresh keeps."""
    kept = query.copy()
    kept.pop("cursor", None)
    return kept


def _inbox_form(request: HttpRequest) -> tuple[forms.InboxQueryForm, str]:
    """The list's query, checked; on bad input the default view and the message to show."""
    form = forms.InboxQueryForm(request.GET)
    if form.is_valid():
        return form, ""
    error = form.error_text()
    fallback = forms.InboxQueryForm(QueryDict())
    fallback.is_valid()
    return fallback, error


def _list_context(request: HttpRequest, form: forms.InboxQueryForm) -> dict[str, Any]:
    agent = _agent(request)
    view, sort, filters = form.inbox_view, form.sort_order, form.filters
    page = inbox.inbox_page(view, filters, agent, sort, cursor=form.cleaned_data.get("cursor", ""))
    if filters.text:
        inbox.attach_search_snippets(page.tickets, filters.text)
    query = _list_query(request.GET) if form.is_bound and not form.errors else QueryDict()
    return {
        "view": view,
        "sort": sort,
        "filters": filters,
        "page": page,
        "list_query": query,
        "search_terms": search_terms(filters.text),
        "now": timezone.now(),
    }


def _nav_context(request: HttpRequest, current_view: inbox.InboxView) -> dict[str, Any]:
    counts = inbox.view_counts(_agent(request))
    return {
        "current_view": current_view,
        "current_count": counts[current_view.slug],
        "work_views": [(view, counts[view.slug]) for view in inbox.WORK_VIEWS],
        "channel_views": [(view, counts[view.slug]) for view in inbox.CHANNEL_VIEWS],
    }


def _agents_and_teams(request: HttpRequest) -> tuple[list[User], list[Team]]:
    """Active agents and all teams, for the filter bar and the ticket's fields: read once
    per request, however many parts of the page offer them."""
    cached = getattr(request, "_workspace_people", None)
    if cached is None:
        agents = list(
            User.objects.filter(is_active=True)
            .only("id", "username", "display_name", "first_name", "last_name")
            .order_by("display_name", "first_name", "username")
        )
        teams = list(Team.objects.only("id", "name").order_by("name"))
        cached = (agents, teams)
        request._workspace_people = cached  # type: ignore[attr-defined]
    return cached


def _filter_choices(request: HttpRequest) -> dict[str, Any]:
    agents, teams = _agents_and_teams(request)
    return {
        "agents": agents,
        "teams": teams,
        "tags": list(
            Tag.objects.values_list("name", flat=True).order_by("name")[:FILTER_TAG_LIMIT]
        ),
        "channel_choices": forms.InboxQueryForm.base_fields["channel"].choices,  # type: ignore[attr-defined]
        "priority_choices": Ticket.Priority.choices,
        "status_choices": Ticket.Status.choices,
        "sort_choices": [(slug, sort.label) for slug, sort in inbox.SORTS.items()],
    }


def _workspace_context(
    request: HttpRequest, form: forms.InboxQueryForm, error: str
) -> dict[str, Any]:
    context = _list_context(request, form)
    context.update(_nav_context(request, context["view"]))
    context.update(_filter_choices(request))
    context.update(saved_views.nav_context(_agent(request), context["list_query"]))
    context["list_error"] = error
    return context


@agent_view
@require_GET
def inbox_page(request: HttpRequest) -> HttpResponse:
    """The inbox: views with their counts, the filter bar and the first page of tickets."""
    form, error = _inbox_form(request)
    context = _workspace_context(request, form, error)
    return render(
        request,
        "workspace/inbox.html",
        context,
        status=BAD_REQUEST if error else 200,
    )


@agent_view
@require_GET
def inbox_list(request: HttpRequest) -> HttpResponse:
    """The list's rows for a query: the whole list, or with ``cursor`` the next page."""
    form, error = _inbox_form(request)
    if error:
        return render(
            request, "workspace/_list_error.html", {"list_error": error}, status=BAD_REQUEST
        )
    context = _list_context(request, form)
    template = "workspace/_rows.html" if form.cleaned_data.get("cursor") else "workspace/_list.html"
    response = render(request, template, context)
    current = request.headers.get("HX-Current-URL")
    if current and not form.cleaned_data.get("cursor"):
        # The address bar follows the filters, on whichever page the list is shown.
        path = urlsplit(current).path
        encoded = context["list_query"].urlencode()
        response["HX-Replace-Url"] = f"{path}?{encoded}" if encoded else path
    return response


@agent_view
@require_GET
def inbox_row(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """One row, fresh, for a live update; ``X-In-View`` says whether the ticket still
    belongs to the list the query describes."""
    form, error = _inbox_form(request)
    if error:
        return HttpResponse(error, status=BAD_REQUEST, content_type="text/plain; charset=utf-8")
    ticket = inbox.ticket_row(ticket_id)
    if ticket is None:
        return HttpResponse(status=404)
    agent = _agent(request)
    filters = form.filters
    belongs = inbox.in_view(ticket.pk, form.inbox_view, filters, agent)
    if filters.text:
        inbox.attach_search_snippets([ticket], filters.text)
    response = render(
        request,
        "workspace/_row.html",
        {
            "ticket": ticket,
            "in_view": belongs,
            "list_query": _list_query(request.GET),
            "search_terms": search_terms(filters.text),
        },
    )
    response["X-In-View"] = "1" if belongs else "0"
    return response


@agent_view
@require_GET
def inbox_counts(request: HttpRequest) -> HttpResponse:
    """The side bar's views with fresh counts."""
    form, _error = _inbox_form(request)
    context = _nav_context(request, form.inbox_view)
    context["list_query"] = _list_query(request.GET)
    return render(request, "workspace/_nav_views.html", context)


# --- A ticket --------------------------------------------------------------------------------


def _ticket(number: int) -> Ticket:
    return get_object_or_404(
        Ticket.objects.select_related(
            "customer", "assignee", "team", "channel_account", "merged_into"
        ),
        number=number,
    )


def _header_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    agents, teams = _agents_and_teams(request)
    return {
        "ticket": ticket,
        "ticket_tags": list(ticket.tags.order_by("name")),
        "agents": agents,
        "teams": teams,
        "status_choices": Ticket.Status.choices,
        "priority_choices": Ticket.Priority.choices,
        "sla": inbox.sla_state(ticket),
    }


def reply_check_context(
    ticket: Ticket, *, open_key: str = "", values: list[str] | None = None, error: str = ""
) -> dict[str, Any]:
    """What the channel allows now, for the composer: the reason, and the template picker
    when free text is refused (``open_key`` the template tried, with what was typed)."""
    if ticket.merged_into_id is not None or ticket.status == Ticket.Status.CLOSED:
        return {"reply_check": None, "template_rows": []}
    check = composer_check(ticket)
    return {
        "reply_check": check,
        "template_rows": template_rows(check, open_key=open_key, values=values),
        "template_error": error,
    }


def _pane_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    context = _header_context(request, ticket)
    context.update(reply_check_context(ticket))
    customer = customer_for_detail().get(pk=ticket.customer_id)
    linked = set(ticket.orders.values_list("pk", flat=True))
    context.update(
        {
            "timeline": ticket_timeline(ticket),
            "customer": customer,
            "linked_order_ids": linked,
            "other_tickets": [t for t in customer.recent_tickets if t.pk != ticket.pk],  # type: ignore[attr-defined]
            "composer": forms.ComposerForm(initial={"mode": forms.ComposerForm.REPLY}),
            "mention_agents": mention_choices(context["agents"]),
            "reply_statuses": forms.ComposerForm.base_fields["then_status"].choices,  # type: ignore[attr-defined]
        }
    )
    return context


@agent_view
@require_GET
def ticket_page(request: HttpRequest, number: int) -> HttpResponse:
    """A ticket: header with its fields, the timeline, the composer and the customer. From
    htmx only the ticket's pane; otherwise the whole workspace around it, with the list the
    query string describes."""
    ticket = _ticket(number)
    if _is_htmx(request):
        return render(request, "workspace/_ticket_pane.html", _pane_context(request, ticket))
    form, error = _inbox_form(request)
    context = _workspace_context(request, form, error)
    context.update(_pane_context(request, ticket))
    return render(request, "workspace/ticket.html", context)


@agent_view
@require_GET
def ticket_live(request: HttpRequest, number: int) -> HttpResponse:
    """The parts of an open ticket that change under the agent: header and timeline, as
    out-of-band swaps (the composer is left alone, with whatever is being typed)."""
    ticket = _ticket(number)
    context = _header_context(request, ticket)
    context["timeline"] = ticket_timeline(ticket)
    context.update(reply_check_context(ticket))
    return render(request, "workspace/_ticket_live.html", context)


def _back_to_ticket(ticket: Ticket) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("tickets:ticket", args=[ticket.number]))


def _error_page(
    request: HttpRequest, ticket: Ticket, message: str, status: int, **extra: Any
) -> HttpResponse:
    """The whole ticket page with the error shown, for a plain form post."""
    form, error = _inbox_form(request)
    context = _workspace_context(request, form, error)
    context.update(_pane_context(request, ticket))
    context.update(extra)
    context["page_error"] = message
    return render(request, "workspace/ticket.html", context, status=status)


@agent_view
@require_POST
def ticket_compose(request: HttpRequest, number: int) -> HttpResponse:
    """Send a reply to the customer or add an internal note."""
    ticket = _ticket(number)
    agent = _agent(request)
    form = forms.ComposerForm(request.POST, request.FILES)
    status, message = 200, ""
    if not form.is_valid():
        status, message = BAD_REQUEST, forms.first_error(form)
    else:
        data = form.cleaned_data
        try:
            if data["mode"] == forms.ComposerForm.NOTE:
                services.add_note(
                    ticket,
                    author=agent,
                    text=data["text"],
                    mentions=mentioned_agent_ids(data["text"]),
                )
            else:
                services.add_reply(
                    ticket,
                    author=agent,
                    text=data["text"],
                    status=data["then_status"] or None,
                    attachments=[
                        services.OutboundAttachment(
                            name=upload.name or "attachment",
                            content_type=upload.content_type or "application/octet-stream",
                            content=upload.read(),
                        )
                        for upload in data["attachments"]
                    ],
                )
        except services.TicketError as refusal:
            status, message = CONFLICT, str(refusal)
    if not _is_htmx(request):
        if status != 200:
            return _error_page(request, ticket, message, status, composer=form)
        return _back_to_ticket(ticket)
    ticket = _ticket(number)
    context = _header_context(request, ticket)
    context["timeline"] = ticket_timeline(ticket)
    if status == 200:
        mode = form.cleaned_data["mode"]
        context["composer"] = forms.ComposerForm(initial={"mode": mode})
    else:
        context["composer"] = form
        context["composer_error"] = message
    context["reply_statuses"] = forms.ComposerForm.base_fields["then_status"].choices  # type: ignore[attr-defined]
    return render(request, "workspace/_composer_result.html", context, status=status)


def _change(ticket: Ticket, field: str, data: dict[str, Any], agent: User) -> None:
    """Apply one inline edit through its service."""
    if field == "status":
        services.change_status(ticket, data["status"], actor=agent)
    elif field == "priority":
        services.change_priority(ticket, data["priority"], actor=agent)
    elif field == "assignee":
        if data["assignee"] is None:
            services.unassign_ticket(ticket, actor=agent)
        else:
            services.assign_ticket(ticket, data["assignee"], actor=agent)
    elif field == "team":
        services.assign_team(ticket, data["team"], actor=agent)
    elif field == "tags":
        # One change for the agent: both or neither.
        with transaction.atomic():
            if data["add"]:
                services.tag_ticket(ticket, data["add"], actor=agent)
            if data["remove"]:
                services.untag_ticket(ticket, [data["remove"]], actor=agent)


EDIT_FORMS: dict[str, type[forms.forms.Form]] = {
    "status": forms.StatusForm,
    "priority": forms.PriorityForm,
    "assignee": forms.AssigneeForm,
    "team": forms.TeamForm,
    "tags": forms.TagsForm,
}


@agent_view
@require_POST
def ticket_edit(request: HttpRequest, number: int, field: str) -> HttpResponse:
    """Change one of the ticket's fields (status, priority, assignee, team, tags)."""
    ticket = _ticket(number)
    form = EDIT_FORMS[field](request.POST)
    status, message = 200, ""
    if not form.is_valid():
        status, message = BAD_REQUEST, forms.first_error(form)
    else:
        try:
            _change(ticket, field, form.cleaned_data, _agent(request))
        except services.TicketError as refusal:
            status, message = CONFLICT, str(refusal)
    if not _is_htmx(request):
        if status != 200:
            return _error_page(request, ticket, message, status)
        return _back_to_ticket(ticket)
    context = _header_context(request, _ticket(number))
    context["header_error"] = message
    return render(request, "workspace/_ticket_header.html", context, status=status)


# --- Bulk actions ----------------------------------------------------------------------------


@agent_view
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    """Apply one change to the selected tickets, one service call each; the summary says
    what changed and what the services refused. A plain form post gets the inbox back."""
    form = bulk.BulkForm(request.POST)
    outcome, status, message = None, 200, ""
    if not form.is_valid():
        status, message = BAD_REQUEST, forms.first_error(form)
    else:
        action = form.cleaned_data["action"]
        data: dict[str, Any] = {}
        value_form = bulk.VALUE_FORMS.get(action)
        if value_form is not None:
            values = value_form(request.POST)
            if values.is_valid():
                data = values.cleaned_data
            else:
                status, message = BAD_REQUEST, forms.first_error(values)
        if status == 200:
            outcome = bulk.apply_bulk(
                form.cleaned_data["ticket"], action, data, _agent(request), _change
            )
    context = {"outcome": outcome, "bulk_error": message}
    if _is_htmx(request):
        return render(request, "workspace/_bulk_result.html", context, status=status)
    list_form, error = _inbox_form(request)
    page_context = _workspace_context(request, list_form, error)
    page_context.update(context)
    return render(request, "workspace/inbox.html", page_context, status=status)


# --- Saved views -----------------------------------------------------------------------------


@agent_view
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the list's current query under a name, then show it."""
    form = saved_views.SaveViewForm(request.POST)
    message = ""
    if form.is_valid():
        try:
            saved_views.save_view(
                _agent(request), name=form.cleaned_data["name"], query=form.cleaned_data["query"]
            )
        except ValidationError as refusal:
            message = " ".join(refusal.messages)
    else:
        message = forms.first_error(form)
    if not message:
        query = form.cleaned_data["query"]
        return HttpResponseRedirect(reverse("tickets:inbox") + (f"?{query}" if query else ""))
    list_form, error = _inbox_form(request)
    context = _workspace_context(request, list_form, error)
    context["list_error"] = message
    return render(request, "workspace/inbox.html", context, status=BAD_REQUEST)


@agent_view
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    """Delete one of the agent's own saved views; another agent's is not found."""
    if not saved_views.delete_view(_agent(request), view_id):
        return HttpResponse("That saved view does not exist.", status=404)
    return HttpResponseRedirect(reverse("tickets:inbox"))


# --- Mentions --------------------------------------------------------------------------------


@agent_view
@require_GET
def mentions_page(request: HttpRequest) -> HttpResponse:
    """The notes that @mention the agent, newest first, beside the inbox."""
    form, error = _inbox_form(request)
    context = _workspace_context(request, form, error)
    context["mentions"] = list(mentions_of(_agent(request)))
    return render(request, "workspace/mentions.html", context)
