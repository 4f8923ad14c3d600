"""POST /tickets/{id}/messages/{message_id}/split/ and .../move/, and the threading fields
of the message list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from helpdesk.models import User
from tests.conftest import api_client_for
from tests.tickets.api_support import activities, database_state, url
from tickets import services
from tickets.models import Message, Ticket, TicketActivity

pytestmark = pytest.mark.django_db

Verb = TicketActivity.Verb


@pytest.fixture
def second_question(ticket: Ticket) -> Message:
    """A second customer message on Ana's ticket, about something else."""
    return services.receive_message(
        services.InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            subject="Re: Question 1",
            text="Also: can I change my delivery address?",
            ticket_number=ticket.number,
            ticket_number_source="subject",
            starts_conversation=True,
        )
    )


@pytest.fixture
def other_ticket(make_ticket: Callable[..., Ticket]) -> Ticket:
    return make_ticket(sender_address="ana@example.com", subject="Refund")


# --- Split -------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["admin", "agent"])
def test_split_answers_201_with_the_new_ticket(
    request: pytest.FixtureRequest, ticket: Ticket, second_question: Message, actor: str
) -> None:
    user: User = request.getfixturevalue(actor)
    client = api_client_for(user)

    response = client.post(url("ticket-message-split", ticket.pk, second_question.pk))

    assert response.status_code == 201, response.content
    new = Ticket.objects.get(pk=response.json()["id"])
    body = response.json()
    assert (body["number"], body["subject"], body["status"]) == (
        ticket.number + 1,
        "Also: can I change my delivery address?",
        "new",
    )
    assert body["customer"]["id"] == ticket.customer_id
    assert list(new.messages.values_list("pk", "threading_reason")) == [
        (second_question.pk, "split")
    ]
    assert activities(new)[-1] == (
        Verb.SPLIT_FROM,
        user.pk,
        {"message_id": second_question.pk, "source": {"id": ticket.pk, "number": ticket.number}},
    )
    assert activities(ticket)[-1][:2] == (Verb.MESSAGE_SPLIT, user.pk)


def test_split_by_anonymous_is_refused(
    anonymous_client: APIClient, ticket: Ticket, second_question: Message
) -> None:
    before = database_state()

    response = anonymous_client.post(url("ticket-message-split", ticket.pk, second_question.pk))

    assert response.status_code == 401
    assert database_state() == before


def test_split_of_a_reply_is_a_conflict(
    agent_client: APIClient, agent: User, ticket: Ticket, second_question: Message
) -> None:
    reply = services.add_reply(ticket, author=agent, text="Sure.")
    before = database_state()

    response = agent_client.post(url("ticket-message-split", ticket.pk, reply.pk))

    assert response.status_code == 409
    assert response.json() == {"detail": "Only a customer message can be split into a new ticket."}
    assert database_state() == before


def test_split_refuses_a_body(
    agent_client: APIClient, ticket: Ticket, second_question: Message
) -> None:
    before = database_state()

    response = agent_client.post(
        url("ticket-message-split", ticket.pk, second_question.pk),
        {"subject": "New"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"subject": ["Unknown field."]}
    assert database_state() == before


@pytest.mark.parametrize("name", ["ticket-message-split", "ticket-message-move"])
@pytest.mark.parametrize("case", ["unknown-ticket", "unknown-message", "message-of-another"])
def test_split_and_move_404_unless_the_message_is_on_the_ticket(
    agent_client: APIClient,
    ticket: Ticket,
    second_question: Message,
    other_ticket: Ticket,
    name: str,
    case: str,
) -> None:
    ticket_id, message_id = {
        "unknown-ticket": (999999, second_question.pk),
        "unknown-message": (ticket.pk, 999999),
        "message-of-another": (other_ticket.pk, second_question.pk),
    }[case]
    before = database_state()

    response = agent_client.post(url(name, ticket_id, message_id), {}, format="json")

    assert response.status_code == 404
    assert database_state() == before


# --- Move --------------------------------------------------------------------------------------


def test_move_answers_200_with_the_moved_message(
    agent_client: APIClient,
    agent: User,
    ticket: Ticket,
    second_question: Message,
    other_ticket: Ticket,
) -> None:
    response = agent_client.post(
        url("ticket-message-move", ticket.pk, second_question.pk),
        {"ticket": other_ticket.pk},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["ticket"], body["kind"]) == (
        second_question.pk,
        other_ticket.pk,
        "customer",
    )
    assert (body["threading_reason"], body["threading_reason_label"], body["is_automated"]) == (
        "moved",
        "Moved from another ticket",
        False,
    )
    assert activities(other_ticket)[-1] == (
        Verb.MESSAGE_MOVED_IN,
        agent.pk,
        {"message_id": second_question.pk, "source": {"id": ticket.pk, "number": ticket.number}},
    )
    assert activities(ticket)[-1] == (
        Verb.MESSAGE_MOVED_OUT,
        agent.pk,
        {
            "message_id": second_question.pk,
            "target": {"id": other_ticket.pk, "number": other_ticket.number},
        },
    )


def test_move_by_anonymous_is_refused(
    anonymous_client: APIClient, ticket: Ticket, second_question: Message, other_ticket: Ticket
) -> None:
    before = database_state()

    response = anonymous_client.post(
        url("ticket-message-move", ticket.pk, second_question.pk),
        {"ticket": other_ticket.pk},
        format="json",
    )

    assert response.status_code == 401
    assert database_state() == before


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"ticket": ["This field is required."]}),
        ({"ticket": 999999}, {"ticket": ["No ticket with id 999999."]}),
        ({"ticket": "two"}, {"ticket": ["Enter an id."]}),
        ({"ticket": None}, {"ticket": ["This field may not be null."]}),
        ("SELF", {"ticket": ["The message is already on this ticket."]}),
        ("UNKNOWN", {"into": ["Unknown field."]}),
    ],
    ids=["missing", "unknown-id", "not-an-id", "null", "same-ticket", "unknown-field"],
)
def test_move_refuses_bad_input(
    agent_client: APIClient,
    ticket: Ticket,
    second_question: Message,
    other_ticket: Ticket,
    body: Any,
    errors: dict[str, list[str]],
) -> None:
    if body == "SELF":
        body = {"ticket": ticket.pk}
    elif body == "UNKNOWN":
        body = {"ticket": other_ticket.pk, "into": other_ticket.pk}
    before = database_state()

    response = agent_client.post(
        url("ticket-message-move", ticket.pk, second_question.pk), body, format="json"
    )

    assert response.status_code == 400
    assert response.json() == errors
    assert database_state() == before


def test_move_to_another_customers_ticket_is_a_conflict(
    agent_client: APIClient,
    ticket: Ticket,
    second_question: Message,
    make_ticket: Callable[..., Ticket],
) -> None:
    strangers = make_ticket(sender_address="mallory@example.com")
    before = database_state()

    response = agent_client.post(
        url("ticket-message-move", ticket.pk, second_question.pk),
        {"ticket": strangers.pk},
        format="json",
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Ticket #{strangers.number} belongs to another customer; a message only "
        "moves between tickets of the same customer."
    }
    assert database_state() == before


# --- The message list shows the threading --------------------------------------------------------


def test_message_list_shows_reasons_and_automation(
    agent_client: APIClient,
    ticket: Ticket,
    second_question: Message,
    django_assert_num_queries: Any,
) -> None:
    services.record_automated_message(
        services.InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            text="I am out of office.",
            ticket_number=ticket.number,
            ticket_number_source="address",
            is_automated=True,
            starts_conversation=True,
        )
    )

    # Unchanged by the new fields: the ticket, the messages with their authors, attachments.
    with django_assert_num_queries(3):
        response = agent_client.get(url("ticket-messages", ticket.pk))

    rows = [
        (row["threading_reason"], row["threading_reason_label"], row["is_automated"])
        for row in response.json()["results"]
    ]
    assert rows == [
        ("new_conversation", "Started a new conversation", False),
        ("ticket_token_subject", "Threaded by ticket number in subject", False),
        ("ticket_token_address", "Threaded by ticket token in reply address", True),
    ]
