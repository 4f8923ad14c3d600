"""Routing: which agent of a team gets a ticket, the team's queue, hand-back and escalation.

Rules of the game, per team (``TeamRouting``):

- An agent is eligible for a ticket when they are an active member of the ticket's team,
  online (away and offline agents get nothing) and below their ``capacity``: the number of
  tickets assigned to them, in any team, whose status is one of the team's
  ``capacity_statuses`` (new and open by default).
- With skill matching, the eligible agents are those whose skills cover the most of the
  ticket's tags, among the team's active members (so a ticket waits for the agents best
  qualified for it). Tags no member has as a skill do not count.
- With language matching, a ticket whose customer has a locale (``de-AT`` → ``de``) goes to
  members who speak it, when any active member does; otherwise to anyone.
- Round-robin gives the ticket to the first eligible member after the last one it gave a
  ticket to (members in id order, wrapping around); least-loaded to the eligible member with
  the fewest open tickets, ties going to the one who waited longest since routing last gave
  them a ticket.
- When nobody eligible has room the ticket stays unassigned in its team's queue: the team's
  unassigned tickets in a capacity status, oldest first. ``drain_queue`` assigns them as
  seats free up (the event handlers call it, and ``automation.routing_queue_task`` every
  30 s as a safety net).

Concurrency: every assignment in a team happens with the team's ``TeamRouting`` row locked,
then the ticket's row, then the chosen agent's row (always in that order, so two routers
cannot deadlock each other). Inside those locks the ticket is re-read (assigned already:
left alone) and the agent's load is counted again (an agent in two teams may have taken a
seat through the other team's lock a moment ago). So two workers never assign one ticket
twice and never give an agent more than their capacity. Call these functions outside a
ticket lock of your own.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from automation.models import AgentRoutingState, TeamRouting
from helpdesk.events import enqueue_on_commit
from helpdesk.models import Team, User
from helpdesk.services import check_admin
from helpdesk.services import set_availability as set_agent_availability
from tickets.models import Ticket, TicketActivity
from tickets.services import (
    TicketError,
    assign_team,
    assign_ticket,
    record_automation_activity,
    unassign_ticket,
)

logger = logging.getLogger(__name__)

Verb = TicketActivity.Verb
Mode = TeamRouting.Mode

# How many queued tickets one drain looks at; the periodic task takes the rest.
QUEUE_BATCH = 200
# What counts toward capacity where no team says otherwise (the teams page's load column).
DEFAULT_STATUSES = ("new", "open")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- Reading the team ------------------------------------------------------------------------


@dataclasses.dataclass
class Candidate:
    agent: User
    load: int
    last_routed_at: datetime | None

    @property
    def has_room(self) -> bool:
        return self.load < self.agent.capacity


def ticket_language(ticket: Ticket) -> str:
    """The primary language subtag of the customer's locale ("pt-BR" → "pt"), or ""."""
    locale = (ticket.customer.locale or "").strip().lower().replace("_", "-")
    return locale.split("-", 1)[0]


def _language_codes(languages: object) -> set[str]:
    if not isinstance(languages, list):
        return set()
    return {
        str(code).strip().lower().replace("_", "-").split("-", 1)[0]
        for code in languages
        if str(code).strip()
    }


def _skills(agent: User) -> set[str]:
    skills = agent.skills if isinstance(agent.skills, list) else []
    return {str(skill).strip().lower() for skill in skills if str(skill).strip()}


def agent_loads(agent_ids: Iterable[int], statuses: Sequence[str]) -> dict[int, int]:
    """Open tickets per agent: assigned to them, in one of ``statuses``, in any team."""
    ids = list(agent_ids)
    rows = (
        Ticket.objects.filter(assignee_id__in=ids, status__in=list(statuses))
        .values("assignee_id")
        .annotate(open=Count("id"))
        .order_by()
    )
    loads = dict.fromkeys(ids, 0)
    loads.update({row["assignee_id"]: row["open"] for row in rows})
    return loads


def _members(team_id: int) -> list[User]:
    return list(User.objects.filter(teams=team_id, is_active=True).order_by("pk"))


def _candidates(routing: TeamRouting, members: list[User]) -> list[Candidate]:
    loads = agent_loads((member.pk for member in members), routing.capacity_statuses)
    routed = dict(
        AgentRoutingState.objects.filter(user__in=members).values_list("user_id", "last_routed_at")
    )
    return [Candidate(member, loads[member.pk], routed.get(member.pk)) for member in members]


def _qualified(
    routing: TeamRouting, ticket: Ticket, members: list[User]
) -> tuple[list[User], list[str]]:
    """The members routing may give this ticket to, whatever their availability and load,
    and the reasons (for the timeline): matching skills, language."""
    qualified = members
    notes: list[str] = []
    if routing.match_skills:
        team_skills = set().union(*(_skills(member) for member in members)) if members else set()
        wanted = {tag.lower() for tag in ticket.tags.values_list("name", flat=True)} & team_skills
        if wanted:
            best = max(len(_skills(member) & wanted) for member in qualified)
            qualified = [m for m in qualified if len(_skills(m) & wanted) == best]
            notes.append("skills " + ", ".join(sorted(wanted)))
    if routing.match_language:
        language = ticket_language(ticket)
        speakers = [m for m in qualified if language and language in _language_codes(m.languages)]
        if speakers:
            qualified = speakers
            notes.append(f"speaks {language}")
    return qualified, notes


def _order(routing: TeamRouting, candidates: list[Candidate]) -> list[Candidate]:
    """Eligible candidates, best first, per the team's mode."""
    if routing.mode == Mode.ROUND_ROBIN:
        pointer = routing.last_assigned_agent_id or 0
        after = [c for c in candidates if c.agent.pk > pointer]
        before = [c for c in candidates if c.agent.pk <= pointer]
        return after + before
    return sorted(
        candidates,
        key=lambda c: (c.load, c.last_routed_at or EPOCH, c.agent.pk),
    )


def queued_tickets(team_id: int, statuses: Sequence[str]) -> QuerySet[Ticket]:
    """The team's queue, oldest first: unassigned tickets in a capacity status."""
    return Ticket.objects.filter(
        team_id=team_id,
        assignee__isnull=True,
        merged_into__isnull=True,
        status__in=list(statuses),
    ).order_by("created_at", "pk")


def queue_lengths() -> dict[int, int]:
    """Tickets waiting per team that has routing on (see ``queued_tickets``): two queries
    for any number of teams, each team's own capacity statuses applied to the counts."""
    statuses = {
        routing.team_id: set(routing.capacity_statuses)
        for routing in TeamRouting.objects.exclude(mode=Mode.OFF).only(
            "team_id", "capacity_statuses"
        )
    }
    lengths = dict.fromkeys(statuses, 0)
    if not statuses:
        return lengths
    counts = (
        Ticket.objects.filter(
            team_id__in=list(statuses),
            assignee__isnull=True,
            merged_into__isnull=True,
            status__in=sorted(set().union(*statuses.values())),
        )
        .values_list("team_id", "status")
        .annotate(waiting=Count("pk"))
        .order_by()
    )
    for team_id, status, waiting in counts:
        if status in statuses[team_id]:
            lengths[team_id] += waiting
    return lengths


def anyone_has_room(routing: TeamRouting) -> bool:
    """Whether an online, active member of the team is below their capacity."""
    online = [m for m in _members(routing.team_id) if m.availability == User.Availability.ONLINE]
    loads = agent_loads((m.pk for m in online), routing.capacity_statuses)
    return any(loads[m.pk] < m.capacity for m in online)


# --- Routing one ticket ----------------------------------------------------------------------


def route_ticket(ticket_id: int, *, reason: str = "") -> User | None:
    """Assign the ticket within its team per the team's routing and return the agent; None
    when routing did not assign it: the team has routing off, the ticket is assigned
    already, closed, merged or not in a capacity status, or nobody eligible has room (then
    it waits in the team's queue). Idempotent."""
    peek = Ticket.objects.filter(pk=ticket_id).values("team_id", "assignee_id").first()
    if peek is None or peek["team_id"] is None or peek["assignee_id"] is not None:
        return None
    with transaction.atomic():
        routing = (
            TeamRouting.objects.select_for_update()
            .select_related("team")
            .filter(team_id=peek["team_id"])
            .first()
        )
        if routing is None or not routing.is_on:
            return None
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(pk=ticket_id)
            .first()
        )
        if (
            ticket is None
            or ticket.team_id != routing.team_id
            or ticket.assignee_id is not None
            or ticket.merged_into_id is not None
            or ticket.status not in routing.capacity_statuses
        ):
            return None
        members = _members(routing.team_id)
        qualified, notes = _qualified(routing, ticket, members)
        candidates = [
            c
            for c in _candidates(routing, qualified)
            if c.agent.availability == User.Availability.ONLINE and c.has_room
        ]
        for candidate in _order(routing, candidates):
            seat = _claim_seat(routing, candidate.agent)
            if seat is None:
                continue
            agent, load = seat
            try:
                assign_ticket(ticket, agent, actor=None)
            except TicketError:
                logger.warning("Routing could not assign ticket %s", ticket_id, exc_info=True)
                return None
            now = timezone.now()
            routing.last_assigned_agent = agent
            routing.save(update_fields=["last_assigned_agent", "updated_at"])
            AgentRoutingState.objects.update_or_create(user=agent, defaults={"last_routed_at": now})
            summary = _summary(routing, agent, load + 1, notes, reason)
            record_automation_activity(
                ticket,
                Verb.ROUTED,
                summary,
                agent={"id": agent.pk, "name": agent.name},
                team={"id": routing.team_id, "name": routing.team.name},
                mode=routing.mode,
                load=load + 1,
                capacity=agent.capacity,
                reason=reason,
            )
            return agent
        return None


def _claim_seat(routing: TeamRouting, agent: User) -> tuple[User, int] | None:
    """Lock the agent's row and check, with fresh data, that they can still take a ticket:
    another team's router may have just given them their last seat, or they went away.
    Returns the locked agent and their load before this ticket."""
    locked = User.objects.select_for_update().filter(pk=agent.pk).first()
    if (
        locked is None
        or not locked.is_active
        or locked.availability != User.Availability.ONLINE
        or not locked.teams.filter(pk=routing.team_id).exists()
    ):
        return None
    load = agent_loads([locked.pk], routing.capacity_statuses)[locked.pk]
    return (locked, load) if load < locked.capacity else None


def _summary(routing: TeamRouting, agent: User, load: int, notes: list[str], reason: str) -> str:
    if routing.mode == Mode.ROUND_ROBIN:
        why = f"round-robin in {routing.team.name}"
    else:
        why = f"least-loaded in {routing.team.name}, {load} of {agent.capacity} open"
    parts = [why, *notes]
    if reason:
        parts.append(reason)
    return f"Routed to {agent.name}: " + "; ".join(parts)


def drain_queue(team_id: int, *, arriving: int | None = None, limit: int = QUEUE_BATCH) -> int:
    """Assign the team's queued tickets, oldest first, while anyone eligible has room;
    returns how many were assigned. A ticket nobody qualified can take (skills, language)
    is passed over, not waited on, so it does not hold up the tickets behind it.
    ``arriving`` is a ticket that just came in (its timeline does not say "from the
    queue")."""
    routing = TeamRouting.objects.filter(team_id=team_id).exclude(mode=Mode.OFF).first()
    if routing is None:
        return 0
    assigned = 0
    waiting = list(
        queued_tickets(team_id, routing.capacity_statuses).values_list("pk", flat=True)[:limit]
    )
    for ticket_id in waiting:
        reason = "" if ticket_id == arriving else "from the queue"
        if route_ticket(ticket_id, reason=reason) is not None:
            assigned += 1
        elif not anyone_has_room(routing):
            break
    return assigned


def drain_queues_of_agent(user_id: int) -> int:
    """Drain the queues of the agent's teams: a seat of theirs may have come free."""
    team_ids = TeamRouting.objects.filter(team__members=user_id).exclude(mode=Mode.OFF)
    return sum(drain_queue(team_id) for team_id in team_ids.values_list("team_id", flat=True))


# --- Availability, hand-back and escalation --------------------------------------------------


def set_availability(user: User, availability: str) -> None:
    """The agent sets their own availability (online, away, offline); emits
    AgentAvailabilityChanged, on which routing hands out or takes back work."""
    set_agent_availability(user, availability, actor=user)


def hand_back_tickets(user_id: int) -> list[int]:
    """An agent went offline: in each of their teams whose routing hands back, unassign
    their tickets in a capacity status and route them again. Only while the agent is still
    offline (a late event must not take tickets from an agent who is back). Returns the
    ids of the tickets handed back."""
    agent = User.objects.filter(pk=user_id).first()
    if agent is None or agent.availability != User.Availability.OFFLINE:
        return []
    handed_back: list[int] = []
    routings = TeamRouting.objects.filter(team__members=user_id, hand_back_on_offline=True).exclude(
        mode=Mode.OFF
    )
    for routing in routings.select_related("team"):
        tickets = Ticket.objects.filter(
            team_id=routing.team_id,
            assignee_id=user_id,
            status__in=routing.capacity_statuses,
            merged_into__isnull=True,
        ).order_by("created_at", "pk")
        for ticket in tickets:
            with transaction.atomic():
                fresh = unassign_ticket(ticket, actor=None)
                if fresh.assignee_id is not None:
                    continue
                record_automation_activity(
                    fresh,
                    Verb.ROUTED,
                    f"Handed back to {routing.team.name}: {agent.name} went offline",
                    agent={"id": agent.pk, "name": agent.name},
                    team={"id": routing.team_id, "name": routing.team.name},
                    reason="hand-back",
                )
            handed_back.append(ticket.pk)
        drain_queue(routing.team_id)
    return handed_back


def escalate_ticket(ticket_id: int, *, reason: str = "") -> bool:
    """Tier escalation: move the ticket to its team's escalation team, take it from an
    assignee who is not in that team, and route it there. False when the ticket has no
    team, the team has no escalation team, or the ticket is closed or merged. Each call is
    one step up (tier 1 → tier 2); callers that may retry check the team first."""
    ticket = Ticket.objects.select_related("team", "assignee").filter(pk=ticket_id).first()
    if ticket is None or ticket.team_id is None or ticket.merged_into_id is not None:
        return False
    if ticket.status == Ticket.Status.CLOSED:
        return False
    routing = (
        TeamRouting.objects.select_related("escalation_team").filter(team_id=ticket.team_id).first()
    )
    target = routing.escalation_team if routing is not None else None
    if target is None:
        return False
    source = ticket.team
    if source is None:
        return False
    with transaction.atomic():
        ticket = assign_team(ticket, target, actor=None)
        if (
            ticket.assignee_id is not None
            and not target.members.filter(pk=ticket.assignee_id).exists()
        ):
            ticket = unassign_ticket(ticket, actor=None)
        summary = f"Escalated from {source.name} to {target.name}"
        if reason:
            summary += f": {reason}"
        record_automation_activity(
            ticket,
            Verb.ESCALATED,
            summary,
            before={"id": source.pk, "name": source.name},
            after={"id": target.pk, "name": target.name},
            reason=reason,
        )
    route_ticket(ticket.pk, reason=f"escalated from {source.name}")
    return True


# --- Configuration (the settings pages) ------------------------------------------------------


def configure_routing(
    team: Team,
    *,
    actor: User,
    mode: str,
    match_skills: bool,
    match_language: bool,
    hand_back_on_offline: bool,
    escalation_team: Team | None,
    capacity_statuses: Sequence[str],
) -> TeamRouting:
    """Save the team's routing; raises ValidationError on bad values. Turning routing on (or
    freeing seats by counting fewer statuses) hands out the waiting tickets right away."""
    check_admin(actor)
    with transaction.atomic():
        routing, _created = TeamRouting.objects.select_for_update().get_or_create(team=team)
        routing.mode = mode
        routing.match_skills = match_skills
        routing.match_language = match_language
        routing.hand_back_on_offline = hand_back_on_offline
        routing.escalation_team = escalation_team
        routing.capacity_statuses = list(capacity_statuses)
        routing.full_clean()
        routing.save()
        _drain_after_commit(team.pk)
    return routing


def _drain_after_commit(team_id: int) -> None:
    # A worker hands out the waiting tickets, not the admin's request.
    from automation.routing.tasks import drain_routing_queue_task

    enqueue_on_commit(drain_routing_queue_task, team_id)


def check_languages(values: Iterable[str]) -> list[str]:
    """Normalize language codes ("DE", "pt_BR" → "de", "pt-br"); ValidationError on junk."""
    codes: list[str] = []
    for raw in values:
        code = raw.strip().lower().replace("_", "-")
        if not code:
            continue
        parts = code.split("-")
        if not (2 <= len(parts[0]) <= 3 and parts[0].isalpha()) or not all(
            part.isalnum() and 1 <= len(part) <= 8 for part in parts[1:]
        ):
            raise ValidationError(f"“{raw.strip()}” is not a language code such as en or pt-BR.")
        if code not in codes:
            codes.append(code)
    return codes
