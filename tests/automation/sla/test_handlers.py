"""Events drive the clocks: the automation consumer recomputes a ticket's SLA on the events
that can move it, and ignores the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from automation.models import SlaClock, SlaPolicy, TicketSla
from automation.sla.handlers import handle_event
from helpdesk.events import MessageCreated, TicketUpdated
from helpdesk.models import User
from tickets.models import Ticket, TicketActivity
from tickets.services import add_note, add_reply, change_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy() -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Standard",
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=24 * 60,
        pause_statuses=["pending"],
    )


def test_events_start_and_stop_the_clocks(
    policy: SlaPolicy,
    make_ticket: Callable[..., Ticket],
    agent: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    ticket = make_ticket()  # runs the automation consumer after commit
    ticket.refresh_from_db()
    assert TicketSla.objects.get(ticket=ticket).policy == policy
    assert ticket.first_response_due_at is not None
    assert ticket.resolution_due_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        add_reply(ticket, author=agent, text="Hello", check_channel=False)
    ticket.refresh_from_db()
    assert ticket.first_response_due_at is None
    assert SlaClock.objects.get(ticket=ticket, target="first_response").achieved is True

    with django_capture_on_commit_callbacks(execute=True):
        change_status(ticket, "pending", actor=agent)
    ticket.refresh_from_db()
    assert ticket.resolution_due_at is None
    assert TicketSla.objects.get(ticket=ticket).paused
    # One "applied" line, however many events were handled.
    assert (
        TicketActivity.objects.filter(ticket=ticket, verb=TicketActivity.Verb.SLA_APPLIED).count()
        == 1
    )


def test_irrelevant_events_do_nothing(
    policy: SlaPolicy,
    make_ticket: Callable[..., Ticket],
    agent: User,
    django_assert_num_queries: Any,
) -> None:
    ticket = make_ticket()
    note = add_note(ticket, author=agent, text="internal")
    with django_assert_num_queries(0):
        handle_event(TicketUpdated(ticket_id=ticket.pk, fields=("assignee", "resolution_due_at")))
        handle_event(MessageCreated(ticket_id=ticket.pk, message_id=note.pk, kind="note"))


def test_an_event_for_a_deleted_ticket_is_ignored(policy: SlaPolicy) -> None:
    handle_event(TicketUpdated(ticket_id=987654, fields=("status",)))
    assert not TicketSla.objects.exists()
