"""Routing's Celery tasks; automation.tasks imports this module so workers find them."""

from __future__ import annotations

from celery import shared_task

from automation.models import TeamRouting
from automation.routing import services


@shared_task(name="automation.routing_queue_task")
def routing_queue_task() -> int:
    """The safety net (beat, every 30 s): drain every routed team's queue, so no ticket
    stays unassigned while an eligible agent has room, whatever event was missed (a
    lost task, a worker that died mid-way). Returns how many were assigned."""
    team_ids = TeamRouting.objects.exclude(mode=TeamRouting.Mode.OFF).values_list(
        "team_id", flat=True
    )
    return sum(services.drain_queue(team_id) for team_id in list(team_ids))


@shared_task(name="automation.route_ticket_task")
def route_ticket_task(ticket_id: int, reason: str = "") -> int | None:
    """Route one ticket (idempotent: an assigned ticket is left alone); the agent's id."""
    agent = services.route_ticket(ticket_id, reason=reason)
    return None if agent is None else agent.pk


@shared_task(name="automation.drain_routing_queue_task")
def drain_routing_queue_task(team_id: int) -> int:
    return services.drain_queue(team_id)
