"""The sweep: warnings and breaches fire once each, from the indexed next check, with the
policy's escalations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from automation.models import SlaClock, SlaPolicy, TicketSla
from automation.sla.services import check_ticket_sla, due_checks, sweep_sla, sync_ticket_sla
from automation.sla.tasks import sla_sweep_task
from helpdesk.celery import app as celery_app
from helpdesk.models import Team, User
from tests.helpdesk import event_tasks
from tickets.models import Ticket, TicketActivity
from tickets.services import add_reply, change_status

pytestmark = pytest.mark.django_db

RECORD = "tests.helpdesk.event_tasks.record_event_task"
Verb = TicketActivity.Verb


@pytest.fixture
def events(settings: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    settings.EVENT_CONSUMER_TASKS = [RECORD]
    was_eager = celery_app.conf.get("task_always_eager")
    celery_app.conf.update(task_always_eager=True)
    event_tasks.RECEIVED.clear()
    yield event_tasks.RECEIVED
    event_tasks.RECEIVED.clear()
    celery_app.conf.update(task_always_eager=was_eager)


@pytest.fixture
def policy(returns_team: Team) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Fast",
        first_response_minutes=60,
        warning_minutes=15,
        escalate_raise_priority=True,
        escalate_to_team=returns_team,
    )


@pytest.fixture
def clocked(policy: SlaPolicy, make_ticket: Callable[..., Ticket], events: list[Any]) -> Ticket:
    ticket = make_ticket()
    sync_ticket_sla(ticket.pk)
    return Ticket.objects.get(pk=ticket.pk)


def sla_sweep(at: datetime, capture: Callable[..., Any]) -> tuple[int, int]:
    with capture(execute=True):
        result = sweep_sla(now=at)
    return result.warnings, result.breaches


def names(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in events if name.startswith("sla.")]


def test_warns_once_then_breaches_once_and_escalates(
    clocked: Ticket,
    events: list[Any],
    returns_team: Team,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    start = clocked.created_at
    assert TicketSla.objects.get(ticket=clocked).next_check_at == start + timedelta(minutes=45)
    events.clear()

    assert sla_sweep(start + timedelta(minutes=44), django_capture_on_commit_callbacks) == (0, 0)
    assert sla_sweep(start + timedelta(minutes=45), django_capture_on_commit_callbacks) == (1, 0)
    assert sla_sweep(start + timedelta(minutes=50), django_capture_on_commit_callbacks) == (0, 0)
    assert names(events) == ["sla.warning"]
    assert TicketSla.objects.get(ticket=clocked).next_check_at == start + timedelta(minutes=60)

    assert sla_sweep(start + timedelta(minutes=61), django_capture_on_commit_callbacks) == (0, 1)
    assert sla_sweep(start + timedelta(minutes=90), django_capture_on_commit_callbacks) == (0, 0)
    assert names(events) == ["sla.warning", "sla.breached"]
    assert ("sla.breached", {"ticket_id": clocked.pk, "target": "first_response"}) in events

    ticket = Ticket.objects.get(pk=clocked.pk)
    assert (ticket.priority, ticket.team) == ("high", returns_team)
    verbs = list(
        TicketActivity.objects.filter(ticket=ticket, verb__startswith="sla_").values_list(
            "verb", flat=True
        )
    )
    assert verbs == [Verb.SLA_APPLIED, Verb.SLA_WARNING, Verb.SLA_BREACHED]
    escalated = TicketActivity.objects.get(ticket=ticket, verb=Verb.ESCALATED)
    assert escalated.data["summary"] == (
        "SLA policy “Fast” raised the priority to High and moved it to team Returns "
        "(first response missed)"
    )
    first = SlaClock.objects.get(ticket=ticket, target="first_response")
    assert first.achieved is False
    assert TicketSla.objects.get(ticket=ticket).next_check_at is None


def test_a_late_sweep_breaches_without_a_separate_warning(
    clocked: Ticket, events: list[Any], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    events.clear()
    later = clocked.created_at + timedelta(hours=2)
    assert sla_sweep(later, django_capture_on_commit_callbacks) == (0, 1)
    assert names(events) == ["sla.breached"]


def test_a_second_check_of_the_same_moment_fires_nothing(
    clocked: Ticket, events: list[Any], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """Two sweepers picking the same ticket: the second finds nothing left to do."""
    at = clocked.created_at + timedelta(minutes=61)
    with django_capture_on_commit_callbacks(execute=True):
        first = check_ticket_sla(clocked.pk, now=at)
        second = check_ticket_sla(clocked.pk, now=at)
    assert (first.breaches, second.breaches, second.tickets) == (1, 0, 0)
    assert names(events) == ["sla.breached"]


def test_a_reply_in_time_means_no_warning(
    clocked: Ticket,
    agent: User,
    events: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    add_reply(clocked, author=agent, text="Hello", check_channel=False)
    sync_ticket_sla(clocked.pk)
    assert TicketSla.objects.get(ticket=clocked).next_check_at is None
    events.clear()
    assert sla_sweep(
        clocked.created_at + timedelta(hours=3), django_capture_on_commit_callbacks
    ) == (0, 0)
    assert SlaClock.objects.get(ticket=clocked, target="first_response").achieved is True


def test_a_paused_ticket_is_not_warned(
    policy: SlaPolicy,
    clocked: Ticket,
    agent: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    policy.pause_statuses = ["pending"]
    policy.save()
    change_status(clocked, "pending", actor=agent)
    sync_ticket_sla(clocked.pk)
    assert TicketSla.objects.get(ticket=clocked).next_check_at is None
    assert sla_sweep(
        clocked.created_at + timedelta(hours=3), django_capture_on_commit_callbacks
    ) == (0, 0)


def test_the_sweep_reads_only_due_rows(clocked: Ticket) -> None:
    """The due query is a range on next_check_at: tickets not yet due are not returned."""
    start = clocked.created_at
    assert due_checks(start + timedelta(minutes=10), limit=10) == []
    assert due_checks(start + timedelta(minutes=45), limit=10) == [
        (start + timedelta(minutes=45), clocked.pk)
    ]


def test_the_beat_task_sweeps(clocked: Ticket) -> None:
    TicketSla.objects.filter(ticket=clocked).update(next_check_at=datetime(2000, 1, 1, tzinfo=UTC))
    SlaClock.objects.filter(ticket=clocked).update(warn_at=datetime(2000, 1, 1, tzinfo=UTC))
    assert sla_sweep_task() == {"tickets": 1, "warnings": 1, "breaches": 0}
