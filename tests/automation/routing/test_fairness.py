"""Routing fairness over 1,000 simulated tickets: round-robin evenness, capacity never
exceeded, no ticket waiting while someone has room, the queue drained oldest first."""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Count

from automation.models import TeamRouting
from helpdesk.models import Team, User
from tests.automation.routing.conftest import Run
from tests.automation.routing.event_tasks import ROUTING_ONLY
from tickets.models import Ticket, TicketActivity
from tickets.services import change_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _routing_only(settings: Any) -> None:
    """Events reach routing's handler, through a Celery task after commit as in production,
    and nothing else (see event_tasks)."""
    settings.EVENT_CONSUMER_TASKS = [ROUTING_ONLY]


TICKETS = int(os.environ.get("ROUTING_SIM_TICKETS", "1000"))


def routed_order() -> list[tuple[int, int]]:
    """(ticket id, agent id) of every routing assignment, in the order they happened."""
    return [
        (ticket_id, data["agent"]["id"])
        for ticket_id, data in TicketActivity.objects.filter(
            verb=TicketActivity.Verb.ROUTED, data__agent__isnull=False
        )
        .exclude(data__reason="hand-back")
        .order_by("pk")
        .values_list("ticket_id", "data")
    ]


def open_loads(agents: list[User]) -> dict[int, int]:
    rows = (
        Ticket.objects.filter(assignee__in=agents, status__in=["new", "open"])
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    loads = {agent.pk: 0 for agent in agents}
    loads.update({row["assignee_id"]: row["n"] for row in rows})
    return loads


def test_round_robin_spreads_1000_tickets_evenly(
    routed_team: Team, make_agent: Callable[..., User], open_in: Callable[..., Ticket]
) -> None:
    agents = [make_agent(f"agent{n}", routed_team, capacity=TICKETS) for n in range(7)]

    for _ in range(TICKETS):
        open_in(routed_team)

    counts = Counter(agent_id for _ticket, agent_id in routed_order())
    assert sum(counts.values()) == TICKETS
    assert set(counts) == {agent.pk for agent in agents}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert Ticket.objects.filter(assignee__isnull=True).count() == 0
    # Every ticket was assigned exactly once.
    assert (
        TicketActivity.objects.filter(verb="assigned").values("ticket").distinct().count()
        == TICKETS
    )


@pytest.mark.parametrize("mode", [TeamRouting.Mode.ROUND_ROBIN, TeamRouting.Mode.LEAST_LOADED])
def test_1000_tickets_against_capacity_queue_and_availability(
    mode: str,
    routed_team: Team,
    make_agent: Callable[..., User],
    open_in: Callable[..., Ticket],
    run: Run,
) -> None:
    """Tickets arrive faster than five agents of capacity 4 solve them; agents step away and
    come back. After every step: nobody is over capacity, and a ticket waits only while every
    online agent is full. At the end the queue has gone out strictly oldest first."""
    from automation.routing.services import set_availability

    TeamRouting.objects.filter(team=routed_team).update(mode=mode)
    agents = [make_agent(f"agent{n}", routed_team, capacity=4) for n in range(5)]
    rng = random.Random(6)  # a reproducible simulation

    def check_invariants() -> None:
        loads = open_loads(agents)
        assert all(loads[agent.pk] <= agent.capacity for agent in agents), loads
        waiting = Ticket.objects.filter(assignee__isnull=True, status__in=["new", "open"])
        if waiting.exists():
            online = User.objects.filter(pk__in=[a.pk for a in agents], availability="online")
            assert all(loads[agent.pk] >= agent.capacity for agent in online), loads

    for step in range(TICKETS):
        open_in(routed_team)
        if step % 5 == 4:
            # About as many solved as arrive, so the queue grows and shrinks.
            assigned = list(Ticket.objects.filter(assignee__isnull=False, status="new"))
            for ticket in rng.sample(assigned, min(len(assigned), rng.randint(3, 6))):
                run(change_status, ticket, Ticket.Status.SOLVED, actor=ticket.assignee)
        if step % 97 == 0:
            agent = rng.choice(agents)
            fresh = User.objects.get(pk=agent.pk)
            flipped = "away" if fresh.availability == "online" else "online"
            run(set_availability, fresh, flipped)
        check_invariants()

    for agent in agents:
        run(set_availability, User.objects.get(pk=agent.pk), "online")
    while Ticket.objects.filter(assignee__isnull=True, status="new").exists():
        for ticket in Ticket.objects.filter(assignee__isnull=False, status="new")[:10]:
            run(change_status, ticket, Ticket.Status.SOLVED, actor=ticket.assignee)
        check_invariants()

    order = [ticket_id for ticket_id, _agent in routed_order()]
    assert len(order) == TICKETS
    assert order == sorted(order), "the queue did not go out oldest first"
    assert TicketActivity.objects.filter(verb="assigned").count() == TICKETS
