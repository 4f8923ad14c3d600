"""Routing one ticket: modes, eligibility, matching, the queue, hand-back, escalation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from automation.models import AgentRoutingState, TeamRouting
from automation.routing.services import (
    drain_queue,
    escalate_ticket,
    route_ticket,
    set_availability,
)
from customers.services import create_customer
from helpdesk.models import Team, User
from tests.automation.routing.conftest import Run
from tickets.models import Ticket, TicketActivity
from tickets.services import assign_ticket, change_status, unassign_ticket

pytestmark = pytest.mark.django_db

MakeAgent = Callable[..., User]
OpenIn = Callable[..., Ticket]
ROUTED = TicketActivity.Verb.ROUTED


def routed_lines(ticket: Ticket) -> list[str]:
    return list(
        TicketActivity.objects.filter(ticket=ticket, verb=ROUTED)
        .order_by("pk")
        .values_list("data__summary", flat=True)
    )


def assignee(ticket: Ticket) -> User | None:
    return Ticket.objects.get(pk=ticket.pk).assignee


# --- Modes -----------------------------------------------------------------------------------


def test_round_robin_takes_turns_and_says_why(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    bob = make_agent("bob", routed_team)
    carol = make_agent("carol", routed_team)
    dave = make_agent("dave", routed_team)

    tickets = [open_in(routed_team) for _ in range(6)]

    assert [t.assignee for t in tickets] == [bob, carol, dave, bob, carol, dave]
    assert routed_lines(tickets[0]) == ["Routed to Bob: round-robin in Support"]
    assert TeamRouting.objects.get(team=routed_team).last_assigned_agent == dave


def test_round_robin_skips_the_full_and_the_unavailable(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    bob = make_agent("bob", routed_team, capacity=1)
    make_agent("carol", routed_team, availability=User.Availability.AWAY)
    make_agent("dave", routed_team, availability=User.Availability.OFFLINE)
    erin = make_agent("erin", routed_team)

    tickets = [open_in(routed_team) for _ in range(3)]

    assert [t.assignee for t in tickets] == [bob, erin, erin]


def test_least_loaded_gives_the_ticket_to_the_emptiest_agent(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, shopper: object
) -> None:
    TeamRouting.objects.filter(team=routed_team).update(mode=TeamRouting.Mode.LEAST_LOADED)
    bob = make_agent("bob", routed_team, availability=User.Availability.OFFLINE)
    carol = make_agent("carol", routed_team, capacity=10)
    # Bob holds three open tickets and carol two; then bob comes back online.
    for agent, count in ((bob, 3), (carol, 2)):
        for _ in range(count):
            assign_ticket(open_in(routed_team), agent, actor=None)
    Ticket.objects.filter(assignee__isnull=True).update(status=Ticket.Status.SOLVED)
    User.objects.filter(pk=bob.pk).update(availability=User.Availability.ONLINE)

    ticket = open_in(routed_team)

    assert ticket.assignee == carol
    assert routed_lines(ticket) == ["Routed to Carol: least-loaded in Support, 3 of 10 open"]


def test_least_loaded_ties_go_to_who_waited_longest(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    TeamRouting.objects.filter(team=routed_team).update(mode=TeamRouting.Mode.LEAST_LOADED)
    bob = make_agent("bob", routed_team)
    carol = make_agent("carol", routed_team)
    now = timezone.now()
    AgentRoutingState.objects.create(user=bob, last_routed_at=now - timedelta(minutes=1))
    AgentRoutingState.objects.create(user=carol, last_routed_at=now - timedelta(hours=1))

    first = open_in(routed_team)
    change_status(first, Ticket.Status.SOLVED, actor=None)
    second = open_in(routed_team)

    assert first.assignee == carol
    # Both are empty again; bob has now waited longer than carol.
    assert second.assignee == bob


def test_pending_tickets_do_not_take_a_seat_by_default(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    bob = make_agent("bob", routed_team, capacity=1)
    first = open_in(routed_team)
    second = open_in(routed_team)
    assert (first.assignee, second.assignee) == (bob, None)

    run(change_status, first, Ticket.Status.PENDING, actor=bob)

    assert assignee(second) == bob


def test_routing_off_leaves_tickets_alone(
    support_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    make_agent("bob", support_team)
    TeamRouting.objects.create(team=support_team, mode=TeamRouting.Mode.OFF)

    ticket = open_in(support_team)

    assert ticket.assignee is None
    assert route_ticket(ticket.pk) is None
    assert routed_lines(ticket) == []


def test_a_team_without_routing_and_a_ticket_without_team_are_left_alone(
    support_team: Team, make_agent: MakeAgent, open_in: OpenIn, shopper: object
) -> None:
    make_agent("bob", support_team)
    ticket = open_in(support_team)

    assert ticket.assignee is None
    assert route_ticket(ticket.pk) is None
    assert route_ticket(999_999) is None


# --- Idempotency -----------------------------------------------------------------------------


def test_routing_twice_assigns_once(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    bob = make_agent("bob", routed_team, availability=User.Availability.OFFLINE)
    ticket = open_in(routed_team)
    User.objects.filter(pk=bob.pk).update(availability=User.Availability.ONLINE)

    assert route_ticket(ticket.pk) == bob
    assert route_ticket(ticket.pk) is None

    assert assignee(ticket) == bob
    assert len(routed_lines(ticket)) == 1
    assert TicketActivity.objects.filter(ticket=ticket, verb="assigned").count() == 1


def test_an_assigned_ticket_is_left_alone(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    make_agent("bob", routed_team, availability=User.Availability.OFFLINE)
    carol = make_agent("carol", routed_team)
    TeamRouting.objects.filter(team=routed_team).update(mode=TeamRouting.Mode.OFF)
    ticket = open_in(routed_team)
    assign_ticket(ticket, carol, actor=None)
    TeamRouting.objects.filter(team=routed_team).update(mode=TeamRouting.Mode.ROUND_ROBIN)

    assert route_ticket(ticket.pk) is None
    assert assignee(ticket) == carol


def test_closed_and_merged_tickets_are_not_routed(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    make_agent("bob", routed_team, availability=User.Availability.OFFLINE)
    closed = open_in(routed_team)
    Ticket.objects.filter(pk=closed.pk).update(status=Ticket.Status.CLOSED)
    User.objects.update(availability=User.Availability.ONLINE)

    assert route_ticket(closed.pk) is None
    assert assignee(closed) is None


# --- The queue -------------------------------------------------------------------------------


def test_when_everyone_is_full_tickets_wait_and_go_out_oldest_first(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    bob = make_agent("bob", routed_team, capacity=1)
    held = open_in(routed_team)
    waiting = [open_in(routed_team) for _ in range(3)]
    assert [assignee(t) for t in waiting] == [None, None, None]

    run(change_status, held, Ticket.Status.SOLVED, actor=bob)

    assert [assignee(t) for t in waiting] == [bob, None, None]
    assert routed_lines(waiting[0]) == ["Routed to Bob: round-robin in Support; from the queue"]


def test_an_agent_coming_online_drains_the_queue(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    bob = make_agent("bob", routed_team, capacity=2, availability=User.Availability.OFFLINE)
    waiting = [open_in(routed_team) for _ in range(3)]

    run(set_availability, bob, User.Availability.ONLINE)

    assert [assignee(t) for t in waiting] == [bob, bob, None]


def test_reassigning_frees_the_seat_of_the_previous_agent(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    bob = make_agent("bob", routed_team, capacity=1)
    outsider = make_agent("zed", capacity=5)
    held = open_in(routed_team)
    waiting = open_in(routed_team)
    assert assignee(waiting) is None

    run(assign_ticket, held, outsider, actor=None)

    assert assignee(waiting) == bob


def test_unassigned_ticket_goes_back_to_routing(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    bob = make_agent("bob", routed_team)
    carol = make_agent("carol", routed_team)
    ticket = open_in(routed_team)
    assert ticket.assignee == bob

    run(unassign_ticket, ticket, actor=bob)

    assert assignee(ticket) == carol


def test_drain_passes_over_a_ticket_nobody_qualified_can_take(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    TeamRouting.objects.filter(team=routed_team).update(match_skills=True)
    make_agent("bob", routed_team, skills=["wholesale"], availability=User.Availability.OFFLINE)
    carol = make_agent("carol", routed_team, skills=["refund"], availability="offline")
    wholesale = open_in(routed_team, tags=("wholesale",))
    refund = open_in(routed_team, tags=("refund",))

    run(set_availability, carol, User.Availability.ONLINE)

    assert (assignee(wholesale), assignee(refund)) == (None, carol)
    assert drain_queue(routed_team.pk) == 0


# --- Matching --------------------------------------------------------------------------------


def test_skills_match_ticket_tags(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    TeamRouting.objects.filter(team=routed_team).update(match_skills=True)
    make_agent("bob", routed_team, skills=["wholesale"])
    carol = make_agent("carol", routed_team, skills=["refund", "damaged"])
    make_agent("dave", routed_team, skills=["refund"])

    # "vip" is nobody's skill and does not count; carol covers both of the others.
    ticket = open_in(routed_team, tags=("refund", "damaged", "vip"))

    assert ticket.assignee == carol
    assert routed_lines(ticket) == [
        "Routed to Carol: round-robin in Support; skills damaged, refund"
    ]


def test_a_skilled_ticket_waits_for_the_skilled_agent(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    TeamRouting.objects.filter(team=routed_team).update(match_skills=True)
    make_agent("bob", routed_team)
    carol = make_agent("carol", routed_team, skills=["refund"], capacity=1)
    first = open_in(routed_team, tags=("refund",))
    second = open_in(routed_team, tags=("refund",))
    untagged = open_in(routed_team)

    assert (first.assignee, second.assignee) == (carol, None)
    assert untagged.assignee is not None

    run(change_status, first, Ticket.Status.SOLVED, actor=carol)
    assert assignee(second) == carol


def test_language_match_prefers_speakers_and_falls_back_to_anyone(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    TeamRouting.objects.filter(team=routed_team).update(match_language=True)
    bob = make_agent("bob", routed_team, languages=["en"])
    carol = make_agent("carol", routed_team, languages=["en", "de"])
    german = create_customer(name="Jonas", email="jonas@example.de", locale="de-AT")
    japanese = create_customer(name="Aiko", email="aiko@example.jp", locale="ja")

    tickets = [open_in(routed_team, customer=german) for _ in range(2)]
    other = open_in(routed_team, customer=japanese)

    assert [t.assignee for t in tickets] == [carol, carol]
    assert routed_lines(tickets[0]) == ["Routed to Carol: round-robin in Support; speaks de"]
    assert other.assignee == bob


# --- Hand-back -------------------------------------------------------------------------------


def test_going_offline_hands_open_tickets_back_when_the_team_says_so(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    TeamRouting.objects.filter(team=routed_team).update(hand_back_on_offline=True)
    bob = make_agent("bob", routed_team)
    carol = make_agent("carol", routed_team, availability=User.Availability.AWAY)
    first, second = open_in(routed_team), open_in(routed_team)
    waiting_for_customer = open_in(routed_team)
    run(change_status, waiting_for_customer, Ticket.Status.PENDING, actor=bob)
    assert {first.assignee, second.assignee} == {bob}
    User.objects.filter(pk=carol.pk).update(availability=User.Availability.ONLINE)

    run(set_availability, bob, User.Availability.OFFLINE)

    assert (assignee(first), assignee(second)) == (carol, carol)
    assert assignee(waiting_for_customer) == bob
    assert routed_lines(first)[-2:] == [
        "Handed back to Support: Bob went offline",
        "Routed to Carol: round-robin in Support; from the queue",
    ]


def test_going_offline_keeps_tickets_without_hand_back(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    bob = make_agent("bob", routed_team)
    ticket = open_in(routed_team)

    run(set_availability, bob, User.Availability.OFFLINE)

    assert assignee(ticket) == bob


def test_away_keeps_tickets_even_with_hand_back(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    TeamRouting.objects.filter(team=routed_team).update(hand_back_on_offline=True)
    bob = make_agent("bob", routed_team)
    ticket = open_in(routed_team)

    run(set_availability, bob, User.Availability.AWAY)

    assert assignee(ticket) == bob
    assert open_in(routed_team).assignee is None


def test_set_availability_refuses_an_unknown_value(make_agent: MakeAgent) -> None:
    from helpdesk.services import HelpdeskError

    bob = make_agent("bob")
    with pytest.raises(HelpdeskError):
        set_availability(bob, "asleep")
    assert User.objects.get(pk=bob.pk).availability == User.Availability.ONLINE


# --- Escalation ------------------------------------------------------------------------------


def test_escalation_moves_the_ticket_to_the_next_tier_and_routes_it_there(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn, run: Run
) -> None:
    tier2 = Team.objects.create(name="Tier 2", slug="tier-2")
    TeamRouting.objects.create(team=tier2, mode=TeamRouting.Mode.LEAST_LOADED)
    TeamRouting.objects.filter(team=routed_team).update(escalation_team=tier2)
    bob = make_agent("bob", routed_team)
    expert = make_agent("erin", tier2)
    ticket = open_in(routed_team)
    assert ticket.assignee == bob

    assert run(escalate_ticket, ticket.pk, reason="SLA breached") is True

    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (tier2, expert)
    escalated = TicketActivity.objects.get(ticket=ticket, verb=TicketActivity.Verb.ESCALATED)
    assert escalated.data["summary"] == "Escalated from Support to Tier 2: SLA breached"
    assert routed_lines(ticket)[-1] == (
        "Routed to Erin: least-loaded in Tier 2, 1 of 10 open; escalated from Support"
    )


def test_escalation_without_an_escalation_team_does_nothing(
    routed_team: Team, make_agent: MakeAgent, open_in: OpenIn
) -> None:
    bob = make_agent("bob", routed_team)
    ticket = open_in(routed_team)

    assert escalate_ticket(ticket.pk) is False
    assert escalate_ticket(999_999) is False
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (routed_team, bob)


def test_a_larger_capacity_set_through_the_api_drains_the_queue_at_once(
    routed_team: Team,
    make_agent: MakeAgent,
    open_in: OpenIn,
    admin: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from rest_framework.test import APIClient

    bob = make_agent("bob", routed_team, capacity=1)
    held, *waiting = [open_in(routed_team) for _ in range(3)]
    assert [assignee(t) for t in [held, *waiting]] == [bob, None, None]
    client = APIClient()
    client.force_authenticate(admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(f"/api/v1/agents/{bob.pk}/", {"capacity": 2}, format="json")

    assert response.status_code == 200
    # The queue is drained oldest first by the change's event, not by the next beat sweep.
    assert [assignee(t) for t in waiting] == [bob, None]
    assert routed_lines(waiting[0]) == ["Routed to Bob: round-robin in Support; from the queue"]


def test_only_changes_routing_weighs_wake_it(
    routed_team: Team,
    make_agent: MakeAgent,
    admin: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from helpdesk.services import update_agent

    bob = make_agent("bob", routed_team, capacity=1)

    with django_capture_on_commit_callbacks() as callbacks:
        update_agent(bob, actor=admin, display_name="Bobby")
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        update_agent(bob, actor=admin, capacity=3, teams=[routed_team])
    assert len(callbacks) == 1  # the AgentRoutingChanged event, delivered after commit


def test_queue_lengths_count_each_teams_own_capacity_statuses(
    routed_team: Team, open_in: OpenIn, make_agent: MakeAgent
) -> None:
    from automation.routing.services import queue_lengths

    returns = Team.objects.create(name="Returns", slug="returns")
    TeamRouting.objects.create(
        team=returns, mode=TeamRouting.Mode.LEAST_LOADED, capacity_statuses=["new"]
    )
    quiet = Team.objects.create(name="Quiet", slug="quiet")
    TeamRouting.objects.create(team=quiet, mode=TeamRouting.Mode.OFF)
    for team in (routed_team, returns, quiet):
        open_in(team)
        Ticket.objects.filter(pk=open_in(team).pk).update(status=Ticket.Status.OPEN)
        Ticket.objects.filter(pk=open_in(team).pk).update(status=Ticket.Status.PENDING)

    # Nobody is online to take them: Support waits on new and open, Returns on new only,
    # and a team with routing off has no queue.
    assert queue_lengths() == {routed_team.pk: 2, returns.pk: 1}
