"""The demo plans are pure and deterministic: same input, same shop."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from demo.data import CHANNELS
from demo.plans import SAFETY_MARGIN, STATUSES, plan_customers, plan_tickets

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_customers_are_the_same_on_every_run() -> None:
    first = plan_customers(30, NOW)
    second = plan_customers(30, NOW)

    assert [(c.name, c.email, c.locale) for c in first] == [
        (c.name, c.email, c.locale) for c in second
    ]
    assert [c.identities for c in first] == [c.identities for c in second]


def test_a_customer_does_not_depend_on_how_many_are_planned() -> None:
    """Customer #5 is the same in a 10-customer and a 300-customer demo."""
    assert plan_customers(10, NOW)[5].email == plan_customers(300, NOW)[5].email


def test_tickets_are_the_same_on_every_run_and_add_up_to_the_count() -> None:
    customers = plan_customers(20, NOW)

    first = plan_tickets(customers, 40, NOW)
    second = plan_tickets(customers, 40, NOW)

    assert [(p.key, [s.text for s in p.steps]) for p in first] == [
        (p.key, [s.text for s in p.steps]) for p in second
    ]
    assert sum(plan.ticket_count for plan in first) == 40


def test_plans_cover_channels_and_statuses_and_stay_in_the_past() -> None:
    customers = plan_customers(20, NOW)

    plans = plan_tickets(customers, 40, NOW)

    first_channels = {plan.steps[0].channel for plan in plans}
    assert first_channels == set(CHANNELS)
    status_steps = Counter(s.status for p in plans for s in p.steps if s.action == "status")
    assert {"open", "on_hold", "solved", "closed"} <= set(status_steps)
    assert len(STATUSES) == 6
    for plan in plans:
        assert plan.steps[0].action == "message"
        assert plan.steps[0].starts
        times = [step.at for step in plan.steps]
        assert times == sorted(times)
        assert NOW - timedelta(days=60) < times[0]
        assert times[-1] <= NOW - SAFETY_MARGIN


def test_plans_are_ordered_by_arrival() -> None:
    plans = plan_tickets(plan_customers(20, NOW), 40, NOW)

    starts = [plan.steps[0].at for plan in plans]
    assert starts == sorted(starts)


def test_no_tickets_asked_gives_no_plans() -> None:
    assert plan_tickets(plan_customers(3, NOW), 0, NOW) == []
