"""@mentions in internal notes: the note stores who it names, they hear of it live on their
own socket and, while offline, by email; the Mentions page lists them."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.test import Client

from helpdesk.consumers import AgentEventsConsumer
from helpdesk.models import User
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import add_note
from tickets.tasks import email_mention_task
from tickets.workspace.mentions import mentioned_agent_ids, mentioned_handles

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def compose_note(client: Client, ticket: Ticket, text: str) -> Any:
    return client.post(
        f"/tickets/{ticket.number}/compose/", {"mode": "note", "text": text}, headers=HTMX
    )


@pytest.mark.parametrize(
    ("text", "handles"),
    [
        ("@carol can you check?", ["carol"]),
        ("Ask @Carol. Then @dave, and @carol again", ["carol", "dave"]),
        ("mail ana@example.com about it", []),
        ("(@carol) and @ana.souza.", ["carol", "ana.souza"]),
        ("@ alone", []),
    ],
)
def test_handles_are_read_from_the_note(text: str, handles: list[str]) -> None:
    assert mentioned_handles(text) == handles


def test_unknown_and_inactive_names_are_ignored(
    teammate: User, inactive_agent: User, agent: User
) -> None:
    assert mentioned_agent_ids("@carol @erin @nobody @CAROL") == [teammate.pk]


def test_a_note_with_a_mention_stores_it_notifies_and_emails_an_offline_agent(
    bob_client: Client,
    ticket: Ticket,
    agent: User,
    teammate: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = compose_note(bob_client, ticket, "@carol can you check the refund? @nobody")

    assert response.status_code == 200
    note = Message.objects.get(ticket=ticket, kind="note")
    assert list(note.mentions.all()) == [teammate]
    activity = TicketActivity.objects.get(ticket=ticket, verb="note_added")
    assert activity.data == {"message_id": note.pk, "mentions": [teammate.pk]}
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["carol@shop.test"]
    assert email.subject == f"Bob Agent mentioned you on #{ticket.number} Question 1"
    assert "@carol can you check the refund?" in email.body
    assert f"/tickets/{ticket.number}/" in email.body


def test_an_online_agent_gets_no_email(
    ticket: Ticket, agent: User, teammate: User, django_capture_on_commit_callbacks: Any
) -> None:
    teammate.availability = User.Availability.ONLINE
    teammate.save(update_fields=["availability"])

    with django_capture_on_commit_callbacks(execute=True):
        note = add_note(ticket, author=agent, text="@carol", mentions=[teammate.pk])

    assert list(note.mentions.all()) == [teammate]
    assert mail.outbox == []


def test_mentioning_yourself_or_nobody_notifies_nobody(
    bob_client: Client, ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = compose_note(bob_client, ticket, "note to self @bob, and @ghost")

    assert response.status_code == 200
    note = Message.objects.get(ticket=ticket, kind="note")
    assert not note.mentions.exists()
    assert TicketActivity.objects.get(verb="note_added").data == {"message_id": note.pk}
    assert mail.outbox == []


def test_a_reply_does_not_mention(
    bob_client: Client, ticket: Ticket, teammate: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        bob_client.post(
            f"/tickets/{ticket.number}/compose/", {"mode": "reply", "text": "@carol hi"}
        )

    assert not Message.objects.filter(mentions=teammate).exists()
    assert not [email for email in mail.outbox if "mentioned you" in email.subject]


def test_the_email_task_is_idempotent_and_quiet_for_what_changed(
    ticket: Ticket, agent: User, teammate: User, other_agent: User
) -> None:
    note = add_note(ticket, author=agent, text="@carol", mentions=[teammate.pk])

    assert email_mention_task(note.pk, other_agent.pk) is False  # not mentioned
    assert email_mention_task(note.pk + 1000, teammate.pk) is False  # no such note
    teammate.availability = User.Availability.ONLINE
    teammate.save(update_fields=["availability"])
    assert email_mention_task(note.pk, teammate.pk) is False  # came online meanwhile
    assert mail.outbox == []


def test_the_note_composer_offers_the_agents_to_mention(
    bob_client: Client, ticket: Ticket, teammate: User
) -> None:
    page = bob_client.get(f"/tickets/{ticket.number}/").content.decode()

    assert '<script id="mention-agents" type="application/json">' in page
    assert '{"username": "carol", "name": "Carol Agent"}' in page


def test_the_mentions_page_lists_the_notes_that_mention_me(
    ticket: Ticket, agent: User, teammate: User
) -> None:
    add_note(ticket, author=agent, text="@carol please look at the refund", mentions=[teammate.pk])
    add_note(ticket, author=agent, text="nothing for carol here")
    carol = Client()
    carol.force_login(teammate)

    page = carol.get("/inbox/mentions/").content.decode()

    assert "@carol please look at the refund" in page
    assert "nothing for carol here" not in page
    assert f'href="/tickets/{ticket.number}/#message-' in page


def test_the_mentions_page_says_what_to_expect_when_empty(bob_client: Client) -> None:
    page = bob_client.get("/inbox/mentions/").content.decode()

    assert "Nobody has mentioned you yet" in page


def test_the_mentions_page_needs_a_session(db: None) -> None:
    response = Client().get("/inbox/mentions/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db(transaction=True)
def test_the_mentioned_agents_socket_gets_the_mention_and_nobody_elses_does(
    settings: Any, agent: User, teammate: User, ticket: Ticket
) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    async def body() -> None:
        carol = WebsocketCommunicator(AgentEventsConsumer.as_asgi(), "/ws/agent/")
        carol.scope["user"] = teammate
        bob = WebsocketCommunicator(AgentEventsConsumer.as_asgi(), "/ws/agent/")
        bob.scope["user"] = agent
        assert (await carol.connect())[0] is True
        assert (await bob.connect())[0] is True

        note = await sync_to_async(add_note)(
            ticket, author=agent, text="@carol look", mentions=[teammate.pk]
        )

        created = {
            "event": "message.created",
            "data": {"ticket_id": ticket.pk, "message_id": note.pk, "kind": "note"},
        }
        assert await carol.receive_json_from() == created
        assert await carol.receive_json_from() == {
            "event": "agent.mentioned",
            "data": {
                "user_id": teammate.pk,
                "ticket_id": ticket.pk,
                "ticket_number": ticket.number,
                "message_id": note.pk,
                "author_id": agent.pk,
            },
        }
        assert await bob.receive_json_from() == created
        assert await bob.receive_nothing(0.2) is True
        await carol.disconnect()
        await bob.disconnect()

    async_to_sync(body)()
