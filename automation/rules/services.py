"""Rule writes (save, switch on/off, reorder) and the simulator.

The simulator is pure evaluation: it loads the last 30 days' tickets with a fixed number of
queries, runs the rule's compiled conditions on each and describes the actions it would
have taken. It never calls an action function, so nothing is written and no webhook, reply
or event leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from automation.models import Rule
from automation.rules.context import TicketContext
from automation.rules.engine import compile_rule
from automation.rules.schema import describe_action, referenced_names
from helpdesk.models import User

SIMULATION_DAYS = 30
SIMULATION_LIMIT = 500


def save_rule(rule: Rule, *, actor: User | None) -> Rule:
    """Validate and save a rule (new rules go last)."""
    rule.full_clean()
    with transaction.atomic():
        if rule.pk is None:
            rule.created_by = actor
            if not rule.position:
                last = Rule.objects.aggregate(last=Max("position"))["last"]
                rule.position = 0 if last is None else last + 1
        rule.save()
    return rule


def set_rule_active(rule: Rule, active: bool) -> Rule:
    if rule.active != active:
        rule.active = active
        rule.save(update_fields=["active", "updated_at"])
    return rule


def move_rule(rule: Rule, offset: int) -> None:
    """Move a rule ``offset`` places up (negative) or down; positions become 0..n-1."""
    with transaction.atomic():
        rules = list(Rule.objects.select_for_update().order_by("position", "id"))
        index = next(i for i, row in enumerate(rules) if row.pk == rule.pk)
        target = max(0, min(len(rules) - 1, index + offset))
        rules.insert(target, rules.pop(index))
        for position, row in enumerate(rules):
            if row.position != position:
                row.position = position
                row.save(update_fields=["position", "updated_at"])


def delete_rule(rule: Rule) -> None:
    rule.delete()


# --- Simulator ------------------------------------------------------------------------------


@dataclass
class SimulatedTicket:
    ticket_id: int
    number: int
    subject: str
    status: str
    created_at: datetime
    actions: list[str]


@dataclass
class Simulation:
    scanned: int
    since: datetime
    truncated: bool
    matches: list[SimulatedTicket] = field(default_factory=list)


def _contexts(tickets: list[Any], now: datetime) -> list[TicketContext]:
    from tickets.models import Message

    bodies: dict[int, str] = {}
    for ticket_id, text in (
        Message.objects.filter(ticket_id__in=[t.pk for t in tickets], kind=Message.Kind.CUSTOMER)
        .order_by("ticket_id", "-created_at", "-id")
        .values_list("ticket_id", "text")
    ):
        bodies.setdefault(ticket_id, text)
    contexts = []
    for ticket in tickets:
        orders = list(ticket.orders.all()) or list(ticket.customer.orders.all())
        orders.sort(key=lambda order: (order.placed_at, order.pk), reverse=True)
        customer = ticket.customer
        addresses = [customer.email.lower()] if customer.email else []
        addresses += [identity.address.lower() for identity in customer.identities.all()]
        contexts.append(
            TicketContext(
                ticket=ticket,
                now=now,
                prefetched={
                    "tags": [tag.name for tag in ticket.tags.all()],
                    "order": orders[0] if orders else None,
                    "body": bodies.get(ticket.pk, ""),
                    "addresses": addresses,
                },
            )
        )
    return contexts


def simulate_rule(
    rule: Rule, *, now: datetime | None = None, limit: int = SIMULATION_LIMIT
) -> Simulation:
    """Which tickets of the last 30 days ``rule`` (saved or not; its definition must be
    valid) matches now, and what it would do to each. Reads only."""
    from automation.rules.time_rules import episode_key
    from customers.models import Order
    from tickets.models import Ticket

    now = now or timezone.now()
    since = now - timedelta(days=SIMULATION_DAYS)
    compiled = compile_rule(rule, names=referenced_names(list(rule.actions)))
    tickets = list(
        Ticket.objects.filter(created_at__gte=since, merged_into__isnull=True)
        .select_related("customer")
        .prefetch_related(
            "tags",
            Prefetch("orders", queryset=Order.objects.all()),
            Prefetch("customer__orders", queryset=Order.objects.all()),
            "customer__identities",
        )
        .order_by("-created_at", "-id")[: limit + 1]
    )
    truncated = len(tickets) > limit
    tickets = tickets[:limit]
    described = [describe_action(action, compiled.names, would=True) for action in rule.actions]
    simulation = Simulation(scanned=len(tickets), since=since, truncated=truncated)
    for ctx in _contexts(tickets, now):
        if rule.trigger == Rule.Trigger.TIME_BASED and rule.time_minutes:
            cutoff = now - timedelta(minutes=rule.time_minutes)
            if episode_key(compiled, ctx, cutoff) is None:
                continue
        if not compiled.matches(ctx):
            continue
        ticket = ctx.ticket
        simulation.matches.append(
            SimulatedTicket(
                ticket_id=ticket.pk,
                number=ticket.number,
                subject=ticket.subject,
                status=ticket.get_status_display(),
                created_at=ticket.created_at,
                actions=described,
            )
        )
    return simulation
