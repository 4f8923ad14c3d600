"""How routing reacts to domain events (called by automation.tasks.handle_events_task).

- ticket.created, and ticket.updated that leaves a ticket unassigned in a team (team
  changed, reopened, unassigned): the team's queue is drained, oldest first, which routes
  the ticket if nobody older is waiting for the same seat.
- ticket.updated that frees a seat (the ticket left its assignee, or its status changed
  while assigned): the queues of that agent's teams are drained.
- agent.availability_changed: offline hands the agent's open tickets back where the team
  says so; online drains the queues of the agent's teams.
- agent.routing_changed (teams, capacity, skills or languages): the queues of the agent's
  teams are drained, whichever screen or API made the change.

Routing's own assignments come back as ticket.updated(assignee) with nobody losing a
ticket, which drains nothing: no recursion through the eager task runner.
"""

from __future__ import annotations

from automation.batch import once_per_task
from automation.models import TeamRouting
from automation.routing import services
from helpdesk.events import (
    AgentAvailabilityChanged,
    AgentRoutingChanged,
    Event,
    TicketCreated,
    TicketUpdated,
)
from helpdesk.models import User
from tickets.models import Ticket, TicketActivity

RELEVANT_FIELDS = frozenset({"team", "status", "assignee"})


def _routed_teams() -> frozenset[int]:
    """The teams whose routing is on, read once per automation task: on a desk that routes
    nothing, no event costs a query."""
    return once_per_task(
        "routing.teams",
        lambda: frozenset(
            TeamRouting.objects.exclude(mode=TeamRouting.Mode.OFF).values_list("team_id", flat=True)
        ),
    )


def handle_event(event: Event) -> None:
    routed = _routed_teams()
    if not routed:
        return
    if isinstance(event, TicketCreated):
        _drain_team_of(event.ticket_id, routed)
    elif isinstance(event, TicketUpdated):
        if RELEVANT_FIELDS.intersection(event.fields):
            _ticket_updated(event.ticket_id, set(event.fields))
    elif isinstance(event, AgentAvailabilityChanged):
        _availability_changed(event.user_id, event.availability)
    elif isinstance(event, AgentRoutingChanged):
        services.drain_queues_of_agent(event.user_id)


def _drain_team_of(ticket_id: int, routed: frozenset[int]) -> None:
    ticket = Ticket.objects.filter(pk=ticket_id).values("team_id", "assignee_id").first()
    if ticket is None or ticket["team_id"] not in routed:
        return
    if ticket["assignee_id"] is None:
        services.drain_queue(ticket["team_id"], arriving=ticket_id)


def _previous_assignee(ticket_id: int) -> int | None:
    """Who the ticket's latest (un)assignment took it from."""
    data = (
        TicketActivity.objects.filter(
            ticket_id=ticket_id,
            verb__in=[TicketActivity.Verb.ASSIGNED, TicketActivity.Verb.UNASSIGNED],
        )
        .order_by("-created_at", "-pk")
        .values_list("data", flat=True)
        .first()
    )
    before = data.get("before") if isinstance(data, dict) else None
    user_id = before.get("id") if isinstance(before, dict) else None
    return user_id if isinstance(user_id, int) else None


def _ticket_updated(ticket_id: int, fields: set[str]) -> None:
    ticket = Ticket.objects.filter(pk=ticket_id).values("team_id", "assignee_id").first()
    if ticket is None:
        return
    freed: set[int] = set()
    if "assignee" in fields:
        previous = _previous_assignee(ticket_id)
        if previous is not None and previous != ticket["assignee_id"]:
            freed.add(previous)
    if "status" in fields and ticket["assignee_id"] is not None:
        freed.add(ticket["assignee_id"])
    for user_id in sorted(freed):
        services.drain_queues_of_agent(user_id)
    if ticket["team_id"] is not None and ticket["assignee_id"] is None:
        services.drain_queue(ticket["team_id"])


def _availability_changed(user_id: int, availability: str) -> None:
    if availability == User.Availability.OFFLINE:
        services.hand_back_tickets(user_id)
    elif availability == User.Availability.ONLINE:
        current = User.objects.filter(pk=user_id).values_list("availability", flat=True).first()
        if current == User.Availability.ONLINE:
            services.drain_queues_of_agent(user_id)
