"""Automation's consumer task over a list of events, as a batch of inbound messages hands it
over: every event handled in order, the configuration read once for the list."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from automation.macros.services import save_auto_acknowledgement
from automation.models import AutoAcknowledgement, SlaPolicy, TeamRouting, TicketSla
from automation.tasks import handle_events_task
from channels_inbox.models import ChannelAccount
from helpdesk.models import Team, User
from tickets.models import Message, Ticket
from tickets.services import InboundMessage, receive_message

pytestmark = pytest.mark.django_db


def new_ticket_events(tickets: list[Ticket]) -> list[list[Any]]:
    """What a batch of new customers' messages hands automation."""
    events: list[list[Any]] = []
    for ticket in tickets:
        message = ticket.messages.get(kind="customer")
        events.append(["ticket.created", {"ticket_id": ticket.pk}])
        events.append(
            [
                "message.created",
                {"ticket_id": ticket.pk, "message_id": message.pk, "kind": "customer"},
            ]
        )
    return events


def test_a_list_on_a_desk_without_configuration_reads_it_once(
    make_ticket: Callable[..., Ticket], django_assert_num_queries: Any
) -> None:
    """One query each for the whole list, however long: the routed teams, the SLA policies,
    the tickets' clocks and the acknowledgements."""
    tickets = [make_ticket() for _ in range(20)]
    events = new_ticket_events(tickets)

    with django_assert_num_queries(4):
        handle_events_task(events)


def test_every_ticket_of_a_list_gets_its_clocks(
    make_ticket: Callable[..., Ticket],
) -> None:
    tickets = [make_ticket() for _ in range(5)]
    assert not TicketSla.objects.exists()
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=60)

    handle_events_task(new_ticket_events(tickets))

    assert set(TicketSla.objects.values_list("ticket_id", "policy_id")) == {
        (ticket.pk, policy.pk) for ticket in tickets
    }
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.first_response_due_at is not None


def test_a_list_stops_the_clocks_of_its_tickets_once_no_policy_applies(
    make_ticket: Callable[..., Ticket],
) -> None:
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=60)
    clocked, *others = [make_ticket() for _ in range(3)]
    TicketSla.objects.exclude(ticket=clocked).delete()
    SlaPolicy.objects.filter(pk=policy.pk).update(active=False)

    handle_events_task(new_ticket_events([clocked, *others]))

    clocked.refresh_from_db()
    assert clocked.first_response_due_at is None
    assert list(TicketSla.objects.values_list("ticket_id", "policy_id")) == [(clocked.pk, None)]


def test_every_ticket_of_a_list_is_acknowledged(email_account: ChannelAccount) -> None:
    tickets = [
        Ticket.objects.get(
            pk=receive_message(
                InboundMessage(
                    channel="email",
                    sender_address=f"customer{number}@example.com",
                    subject=f"Question {number}",
                    text="Where is my order?",
                    starts_conversation=True,
                ),
                channel_account=email_account,
            ).ticket_id
        )
        for number in range(3)
    ]
    save_auto_acknowledgement(
        AutoAcknowledgement(channel_account=email_account, body="We got your message.")
    )

    handle_events_task(new_ticket_events(tickets))

    acknowledged = Message.objects.filter(
        kind=Message.Kind.REPLY, text__startswith="We got your message."
    ).values_list("ticket_id", flat=True)
    assert sorted(acknowledged) == sorted(ticket.pk for ticket in tickets)


def test_a_malformed_item_is_logged_and_the_others_handled(
    make_ticket: Callable[..., Ticket], caplog: pytest.LogCaptureFixture
) -> None:
    first, second = make_ticket(), make_ticket()
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=60)
    events = new_ticket_events([first, second])

    with caplog.at_level(logging.WARNING, logger="automation.tasks"):
        handle_events_task([events[0], ["ticket.created", {"ticket_id": "x"}], *events[1:]])

    assert "Ignoring a malformed event: ['ticket.created', {'ticket_id': 'x'}]" in caplog.text
    assert TicketSla.objects.filter(policy=policy).count() == 2


def test_every_new_ticket_of_a_list_is_routed_in_a_routed_team(
    make_ticket: Callable[..., Ticket], support_team: Team, agent: User
) -> None:
    User.objects.filter(pk=agent.pk).update(availability="online", capacity=5)
    tickets = [make_ticket() for _ in range(3)]
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(team=support_team)
    TeamRouting.objects.create(team=support_team, mode=TeamRouting.Mode.ROUND_ROBIN)

    handle_events_task(new_ticket_events(tickets))

    assigned = Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list(
        "assignee_id", flat=True
    )
    assert list(assigned) == [agent.pk] * 3
