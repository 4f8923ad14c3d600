"""The routing and teams settings pages (admins only) and the agent's availability switch.

Thin views: a form reads the request, a service writes, a template renders. Bad input is a
400 with the form's messages on the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from automation.models import TeamRouting
from automation.routing import services
from automation.routing.forms import (
    AddMemberForm,
    AgentRoutingForm,
    AvailabilityForm,
    RoutingForm,
    TeamForm,
)
from automation.web import acting_user, add_errors, admin_required
from helpdesk.models import Team, User
from helpdesk.services import HelpdeskError, create_team, update_agent

admin_only = admin_required("Only admins can change routing and teams.")


# --- Routing ---------------------------------------------------------------------------------


@admin_only
def routing_list(request: HttpRequest) -> HttpResponse:
    teams = list(Team.objects.annotate(member_count=Count("members", distinct=True)))
    routings = {r.team_id: r for r in TeamRouting.objects.select_related("escalation_team")}
    lengths = services.queue_lengths()
    online = dict(
        Team.objects.annotate(
            online=Count(
                "members",
                filter=Q(
                    members__is_active=True,
                    members__availability=User.Availability.ONLINE,
                ),
            )
        ).values_list("pk", "online")
    )
    rows = [
        {
            "team": team,
            "routing": routings.get(team.pk),
            "queue": lengths.get(team.pk),
            "online": online.get(team.pk, 0),
            "members": getattr(team, "member_count", 0),
        }
        for team in teams
    ]
    return render(request, "settings/routing/list.html", {"section": "routing", "rows": rows})


@admin_only
@require_http_methods(["GET", "POST"])
def routing_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    # Unsaved until the admin saves: opening the page changes nothing.
    routing = TeamRouting.objects.filter(team=team).first() or TeamRouting(team=team)
    status = 200
    if request.method == "POST":
        form = RoutingForm(request.POST, team=team)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.configure_routing(
                    team,
                    actor=acting_user(request),
                    mode=data["mode"],
                    match_skills=data["match_skills"],
                    match_language=data["match_language"],
                    hand_back_on_offline=data["hand_back_on_offline"],
                    escalation_team=data["escalation_team"],
                    capacity_statuses=data["capacity_statuses"],
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"Routing of {team.name} saved.")
                return redirect("settings:routing")
        status = 400
    else:
        form = RoutingForm(
            team=team,
            initial={
                "mode": routing.mode,
                "match_skills": routing.match_skills,
                "match_language": routing.match_language,
                "hand_back_on_offline": routing.hand_back_on_offline,
                "escalation_team": routing.escalation_team_id,
                "capacity_statuses": routing.capacity_statuses,
            },
        )
    queue = services.queued_tickets(team.pk, routing.capacity_statuses).count()
    context = {"section": "routing", "team": team, "form": form, "queue": queue}
    return render(request, "settings/routing/edit.html", context, status=status)


# --- Teams and agents ------------------------------------------------------------------------


@admin_only
@require_http_methods(["GET", "POST"])
def team_list(request: HttpRequest) -> HttpResponse:
    status = 200
    form = TeamForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                team = create_team(
                    name=form.cleaned_data["name"],
                    slug=form.cleaned_data["slug"],
                    actor=acting_user(request),
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"Team {team.name} created.")
                return redirect("settings:team", team_id=team.pk)
        status = 400
    teams = Team.objects.prefetch_related("members").order_by("name")
    agents = User.objects.filter(is_active=True).prefetch_related("teams").order_by("username")
    loads = services.agent_loads(
        agents.values_list("pk", flat=True), list(services.DEFAULT_STATUSES)
    )
    context = {
        "section": "teams",
        "teams": teams,
        "agents": [{"agent": agent, "load": loads.get(agent.pk, 0)} for agent in agents],
        "form": form,
    }
    return render(request, "settings/teams/list.html", context, status=status)


@admin_only
@require_http_methods(["GET", "POST"])
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    status = 200
    form = AddMemberForm(request.POST or None, team=team)
    if request.method == "POST":
        if form.is_valid():
            agent = form.cleaned_data["agent"]
            _set_teams(request, agent, [*agent.teams.all(), team])
            messages.success(request, f"{agent.name} joined {team.name}.")
            return redirect("settings:team", team_id=team.pk)
        status = 400
    members = list(team.members.order_by("username"))
    loads = services.agent_loads((m.pk for m in members), list(services.DEFAULT_STATUSES))
    context = {
        "section": "teams",
        "team": team,
        "members": [{"agent": m, "load": loads.get(m.pk, 0)} for m in members],
        "form": form,
    }
    return render(request, "settings/teams/detail.html", context, status=status)


@admin_only
@require_POST
def team_member_remove(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    agent = get_object_or_404(User, pk=user_id, teams=team)
    _set_teams(request, agent, [t for t in agent.teams.all() if t.pk != team.pk])
    messages.success(request, f"{agent.name} left {team.name}.")
    return redirect("settings:team", team_id=team.pk)


def _set_teams(request: HttpRequest, agent: User, teams: list[Team]) -> None:
    # Its AgentRoutingChanged event has a worker drain the queues the agent may now serve.
    update_agent(agent, actor=acting_user(request), teams=teams)


@admin_only
@require_http_methods(["GET", "POST"])
def agent_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    agent = get_object_or_404(User, pk=user_id)
    status = 200
    if request.method == "POST":
        form = AgentRoutingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                update_agent(
                    agent,
                    actor=acting_user(request),
                    capacity=data["capacity"],
                    skills=data["skills"],
                    languages=data["languages"],
                    availability=data["availability"],
                )
            except (ValidationError, HelpdeskError) as error:
                if isinstance(error, ValidationError):
                    add_errors(form, error)
                else:
                    form.add_error(None, str(error))
            else:
                messages.success(request, f"{agent.name} saved.")
                return redirect("settings:teams")
        status = 400
    else:
        form = AgentRoutingForm(
            initial={
                "capacity": agent.capacity,
                "skills": ", ".join(agent.skills or []),
                "languages": ", ".join(agent.languages or []),
                "availability": agent.availability,
            }
        )
    context = {"section": "teams", "agent": agent, "form": form}
    return render(request, "settings/teams/agent.html", context, status=status)


# --- The agent's own availability ------------------------------------------------------------


@login_required
@require_POST
def availability(request: HttpRequest) -> HttpResponse:
    """The signed-in agent's online / away / offline switch in the workspace."""
    form = AvailabilityForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose online, away or offline.", status=400)
    services.set_availability(acting_user(request), form.cleaned_data["availability"])
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/inbox/"
    if request.headers.get("HX-Request"):
        user = User.objects.get(pk=acting_user(request).pk)
        context = {"user": user, "availability_next": target}
        return render(request, "workspace/_availability.html", context)
    return HttpResponseRedirect(target)
