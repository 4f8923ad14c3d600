"""Two sweepers at once on PostgreSQL: every breach fires exactly once (row locks with SKIP
LOCKED plus conditional updates)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from automation.models import SlaClock, SlaPolicy, TicketSla
from automation.sla.services import SweepResult, sweep_sla, sync_ticket_sla
from tickets.models import Ticket, TicketActivity

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_sweepers_fire_each_breach_once(make_ticket: Callable[..., Ticket]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; set DATABASE_URL to a PostgreSQL database")
    SlaPolicy.objects.create(name="Fast", first_response_minutes=60, warning_minutes=0)
    tickets = [make_ticket() for _ in range(30)]
    for ticket in tickets:
        sync_ticket_sla(ticket.pk)
    past = timezone.now() - timedelta(minutes=1)
    SlaClock.objects.update(due_at=past)
    TicketSla.objects.update(next_check_at=past)
    results: list[SweepResult] = []
    barrier = threading.Barrier(2)

    def sweeper() -> None:
        try:
            barrier.wait()
            results.append(sweep_sla(batch=4))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(result.breaches for result in results) == 30
    breached = TicketActivity.objects.filter(verb=TicketActivity.Verb.SLA_BREACHED)
    assert breached.count() == 30
    assert sorted(breached.values_list("ticket_id", flat=True)) == sorted(t.pk for t in tickets)
    assert not TicketSla.objects.filter(next_check_at__isnull=False).exists()
