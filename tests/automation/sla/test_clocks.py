"""SLA clocks end to end through the services, on a Berlin office calendar, with
time-machine: weekends, the DST change, pauses, solving and reopening, each against times
worked out by hand in the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from automation.models import BusinessHours, SlaClock, SlaPeriod, SlaPolicy, TicketSla
from automation.sla.services import sync_ticket_sla
from helpdesk.models import User
from tickets.models import Ticket, TicketActivity
from tickets.services import (
    InboundMessage,
    add_reply,
    change_priority,
    change_status,
    receive_message,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def office() -> BusinessHours:
    return BusinessHours.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours={day: [["09:00", "17:00"]] for day in WEEKDAYS},
        holiday_country="DE",
    )


@pytest.fixture
def standard(office: BusinessHours) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Standard",
        position=10,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=480,
        business_hours=office,
        pause_statuses=["pending", "on_hold"],
        warning_minutes=15,
    )


@pytest.fixture
def at() -> Iterator[Callable[[datetime], None]]:
    """Move the frozen clock: ``at(moment)``."""
    traveller: list[Any] = []

    def move(moment: datetime) -> None:
        if traveller:
            traveller.pop().stop()
        travel = time_machine.travel(moment, tick=False)
        travel.start()
        traveller.append(travel)

    yield move
    if traveller:
        traveller.pop().stop()


def customer_writes(text: str = "Where is my order?", **extra: Any) -> Ticket:
    message = receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            sender_name="Ana",
            subject="Order 1001",
            text=text,
            starts_conversation=not extra.pop("continues", False),
            ticket_number=extra.pop("ticket_number", None),
            ticket_number_source="address" if extra else "",
            **extra,
        )
    )
    return Ticket.objects.get(pk=message.ticket_id)


def reply(ticket: Ticket, agent: User, **options: Any) -> None:
    add_reply(ticket, author=agent, text="On its way.", check_channel=False, **options)


def follow_up(ticket: Ticket) -> Ticket:
    """The customer writes again on the same ticket."""
    message = receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            text="Any news?",
            ticket_number=ticket.number,
            ticket_number_source="address",
        )
    )
    assert message.ticket_id == ticket.pk
    return Ticket.objects.get(pk=ticket.pk)


def clock(ticket: Ticket, target: str, cycle: int = 0) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, target=target, cycle=cycle)


def synced(ticket: Ticket) -> Ticket:
    sync_ticket_sla(ticket.pk)
    return Ticket.objects.get(pk=ticket.pk)


def test_a_ticket_through_weekend_dst_pause_solve_and_reopen(
    standard: SlaPolicy, agent: User, at: Callable[[datetime], None]
) -> None:
    # Friday 27 March 2026, 16:30 CET: 30 business minutes left that day; Berlin moves to
    # CEST on Sunday 29 March.
    at(berlin(2026, 3, 27, 16, 30))
    ticket = synced(customer_writes())
    # First response 60: 30 on Friday + 30 on Monday → Mon 09:30 CEST = 07:30 UTC.
    assert ticket.first_response_due_at == utc(2026, 3, 30, 7, 30)
    # Resolution 480: 30 on Friday + 450 on Monday → Mon 16:30 CEST = 14:30 UTC.
    assert ticket.resolution_due_at == utc(2026, 3, 30, 14, 30)
    assert ticket.next_response_due_at is None
    assert TicketActivity.objects.filter(
        ticket=ticket,
        verb=TicketActivity.Verb.SLA_APPLIED,
        data__summary="SLA policy “Standard” applied",
    ).exists()

    # Monday 09:10 CEST the agent answers: first response met after 40 business minutes.
    at(berlin(2026, 3, 30, 9, 10))
    reply(ticket, agent)
    ticket = synced(ticket)
    first = clock(ticket, "first_response")
    assert (first.state, first.achieved, first.elapsed_minutes) == ("done", True, 40)
    assert ticket.first_response_due_at is None

    # 10:00 the customer writes: next response due 12:00 CEST = 10:00 UTC.
    at(berlin(2026, 3, 30, 10, 0))
    ticket = synced(follow_up(ticket))
    assert ticket.next_response_due_at == utc(2026, 3, 30, 10, 0)

    # 10:30 the agent sets pending: every clock pauses and has no due time.
    at(berlin(2026, 3, 30, 10, 30))
    change_status(ticket, "pending", actor=agent)
    ticket = synced(ticket)
    assert (ticket.next_response_due_at, ticket.resolution_due_at) == (None, None)
    assert TicketSla.objects.get(ticket=ticket).paused

    # Tuesday 09:00 the customer writes, the ticket reopens and the clocks resume.
    at(berlin(2026, 3, 31, 9, 0))
    ticket = synced(follow_up(ticket))
    # Next response: 30 of 120 used on Monday → 90 more from 09:00 = 10:30 CEST.
    assert ticket.next_response_due_at == utc(2026, 3, 31, 8, 30)
    # Resolution: 30 (Fri) + 90 (Mon 09:00–10:30) = 120 used → 360 more = 15:00 CEST.
    assert ticket.resolution_due_at == utc(2026, 3, 31, 13, 0)
    periods = list(SlaPeriod.objects.filter(ticket=ticket).values_list("state", "started_at"))
    assert periods == [
        ("running", berlin(2026, 3, 27, 16, 30)),
        ("paused", berlin(2026, 3, 30, 10, 30)),
        ("running", berlin(2026, 3, 31, 9, 0)),
    ]

    # 09:30 the agent answers and solves.
    at(berlin(2026, 3, 31, 9, 30))
    reply(ticket, agent, status="solved")
    ticket = synced(ticket)
    next_response = clock(ticket, "next_response")
    assert (next_response.achieved, next_response.elapsed_minutes) == (True, 60)
    resolution = clock(ticket, "resolution")
    assert (resolution.state, resolution.achieved, resolution.elapsed_minutes) == (
        "done",
        True,
        150,
    )
    assert (ticket.next_response_due_at, ticket.resolution_due_at) == (None, None)

    # Wednesday 1 April 10:00 the customer writes again: the ticket reopens, resolution
    # resumes from its 150 minutes (330 left → 15:30 CEST) and is undecided again; a new
    # next-response wait starts (due 12:00 CEST).
    at(berlin(2026, 4, 1, 10, 0))
    ticket = synced(follow_up(ticket))
    assert ticket.resolution_due_at == utc(2026, 4, 1, 13, 30)
    assert ticket.next_response_due_at == utc(2026, 4, 1, 10, 0)
    resolution = clock(ticket, "resolution")
    assert (resolution.state, resolution.achieved) == ("running", None)
    assert clock(ticket, "next_response", 1).state == "running"


def test_syncing_twice_changes_nothing(standard: SlaPolicy, at: Callable[[datetime], None]) -> None:
    at(berlin(2026, 3, 27, 16, 30))
    ticket = synced(customer_writes())
    before = list(SlaClock.objects.filter(ticket=ticket).values())
    activities = TicketActivity.objects.filter(ticket=ticket).count()
    at(berlin(2026, 3, 27, 16, 45))
    assert synced(ticket).first_response_due_at == utc(2026, 3, 30, 7, 30)
    after = list(SlaClock.objects.filter(ticket=ticket).values())
    assert [{**row, "elapsed_minutes": 0} for row in after] == [
        {**row, "elapsed_minutes": 0} for row in before
    ]
    assert TicketActivity.objects.filter(ticket=ticket).count() == activities


def test_on_hold_pauses_only_when_the_policy_says_so(
    standard: SlaPolicy, agent: User, at: Callable[[datetime], None]
) -> None:
    standard.pause_statuses = ["pending"]
    standard.save()
    at(berlin(2026, 6, 1, 9, 0))  # Monday
    ticket = customer_writes()
    change_status(ticket, "on_hold", actor=agent)
    ticket = synced(ticket)
    assert ticket.resolution_due_at == berlin(2026, 6, 1, 17, 0)
    assert not TicketSla.objects.get(ticket=ticket).paused


def test_priority_change_rematches_the_policy(
    standard: SlaPolicy, office: BusinessHours, agent: User, at: Callable[[datetime], None]
) -> None:
    urgent = SlaPolicy.objects.create(
        name="Urgent", position=1, priorities=["urgent"], first_response_minutes=15
    )
    at(utc(2026, 6, 1, 10, 0))
    ticket = synced(customer_writes())
    assert TicketSla.objects.get(ticket=ticket).policy == standard
    at(utc(2026, 6, 1, 10, 5))
    change_priority(ticket, "urgent", actor=agent)
    ticket = synced(ticket)
    assert TicketSla.objects.get(ticket=ticket).policy == urgent
    # 24/7, from creation: 10:00 + 15 min.
    assert ticket.first_response_due_at == utc(2026, 6, 1, 10, 15)
    assert ticket.resolution_due_at is None
    assert TicketActivity.objects.filter(
        ticket=ticket,
        verb=TicketActivity.Verb.SLA_APPLIED,
        data__summary="SLA policy changed from “Standard” to “Urgent”",
    ).exists()


def test_a_ticket_no_policy_matches_gets_no_clocks(
    standard: SlaPolicy, at: Callable[[datetime], None]
) -> None:
    standard.priorities = ["high"]
    standard.save()
    at(utc(2026, 6, 1, 10, 0))
    ticket = synced(customer_writes())
    assert not TicketSla.objects.filter(ticket=ticket).exists()
    assert ticket.first_response_due_at is None
