"""A ticket's timeline: GET /messages/ and /activities/, POST /reply/ and /notes/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import serializers
from rest_framework.test import APIClient

from helpdesk.models import User
from tests.tickets.api_support import activities, database_state, result_ids, url, walk
from tickets import services
from tickets.models import Attachment, Message, Ticket, TicketActivity

Verb = TicketActivity.Verb


def iso(value: Any) -> str:
    return str(serializers.DateTimeField().to_representation(value))


def media_files(settings: Any) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


# --- Listing messages --------------------------------------------------------------------------


def test_messages_oldest_first_with_authors_and_attachments(
    agent_client: APIClient, agent: User, ticket: Ticket
) -> None:
    reply = services.add_reply(
        ticket,
        author=agent,
        text="Here is the label.",
        attachments=[services.OutboundAttachment("label.pdf", "application/pdf", b"%PDF-1")],
    )
    note = services.add_note(ticket, author=agent, text="Sent the label.")
    first = ticket.messages.order_by("id").first()
    assert first is not None
    attachment = Attachment.objects.get()

    response = agent_client.get(url("ticket-messages", ticket.pk))

    assert response.status_code == 200
    body = response.json()
    assert (body["next"], body["previous"]) == (None, None)
    reply.refresh_from_db()
    assert body["results"] == [
        {
            "id": first.pk,
            "ticket": ticket.pk,
            "kind": "customer",
            "direction": "inbound",
            "author": {"type": "customer", "id": ticket.customer_id, "name": "Ana Souza"},
            "channel_account": None,
            "text": "Where is my order?",
            "html": "",
            "delivery_status": "",
            "delivery_error": "",
            "delivery_updated_at": None,
            "threading_reason": "new_conversation",
            "threading_reason_label": "Started a new conversation",
            "is_automated": False,
            "attachments": [],
            "created_at": iso(first.created_at),
        },
        {
            "id": reply.pk,
            "ticket": ticket.pk,
            "kind": "reply",
            "direction": "outbound",
            "author": {"type": "agent", "id": agent.pk, "name": "Bob Agent"},
            "channel_account": None,
            "text": "Here is the label.",
            "html": "",
            "delivery_status": reply.delivery_status,
            "delivery_error": reply.delivery_error,
            "delivery_updated_at": iso(reply.delivery_updated_at),
            "threading_reason": "",
            "threading_reason_label": "",
            "is_automated": False,
            "attachments": [
                {
                    "id": attachment.pk,
                    "name": "label.pdf",
                    "content_type": "application/pdf",
                    "size": 6,
                    "url": f"http://testserver/attachments/{attachment.pk}/{attachment.name}",
                }
            ],
            "created_at": iso(reply.created_at),
        },
        {
            "id": note.pk,
            "ticket": ticket.pk,
            "kind": "note",
            "direction": "internal",
            "author": {"type": "agent", "id": agent.pk, "name": "Bob Agent"},
            "channel_account": None,
            "text": "Sent the label.",
            "html": "",
            "delivery_status": "",
            "delivery_error": "",
            "delivery_updated_at": None,
            "threading_reason": "",
            "threading_reason_label": "",
            "is_automated": False,
            "attachments": [],
            "created_at": iso(note.created_at),
        },
    ]


def test_failed_delivery_is_shown(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    reply = services.add_reply(ticket, author=agent, text="Hello")
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=Message.DeliveryStatus.FAILED, delivery_error="Mailbox full"
    )

    rows = agent_client.get(url("ticket-messages", ticket.pk)).json()["results"]

    assert (rows[-1]["delivery_status"], rows[-1]["delivery_error"]) == ("failed", "Mailbox full")


def test_system_message_has_no_author(agent_client: APIClient, ticket: Ticket) -> None:
    system = Message.objects.create(
        ticket=ticket, direction=Message.Direction.INTERNAL, kind=Message.Kind.SYSTEM, text="x"
    )

    rows = agent_client.get(url("ticket-messages", ticket.pk)).json()["results"]

    assert (rows[-1]["id"], rows[-1]["author"]) == (system.pk, None)


@pytest.fixture
def long_conversation(agent: User, ticket: Ticket) -> Ticket:
    """Fifty messages: the customer's first, 24 replies with an attachment each, 25 notes."""
    for n in range(24):
        services.add_reply(
            ticket,
            author=agent,
            text=f"Reply {n}",
            attachments=[services.OutboundAttachment(f"file-{n}.txt", "text/plain", b"data")],
        )
        services.add_note(ticket, author=agent, text=f"Note {n}")
    services.add_note(ticket, author=agent, text="Last note")
    return ticket


def test_next_links_walk_every_message_once(
    agent_client: APIClient, long_conversation: Ticket
) -> None:
    expected = list(
        long_conversation.messages.order_by("created_at", "id").values_list("pk", flat=True)
    )

    ids = walk(agent_client, url("ticket-messages", long_conversation.pk), {"page_size": 7})

    assert ids == expected
    assert len(ids) == 50


@pytest.mark.parametrize("page_size", [5, 50])
def test_messages_query_count_does_not_grow_with_the_page(
    agent_client: APIClient,
    long_conversation: Ticket,
    page_size: int,
    django_assert_num_queries: Any,
) -> None:
    """The ticket, the messages with their authors, the attachments: 3 queries."""
    with django_assert_num_queries(3):
        response = agent_client.get(
            url("ticket-messages", long_conversation.pk), {"page_size": page_size}
        )

    rows = response.json()["results"]
    assert len(rows) == page_size
    assert all(row["author"] is not None for row in rows)
    assert sum(len(row["attachments"]) for row in rows) == sum(
        row["kind"] == "reply" for row in rows
    )


@pytest.mark.parametrize(
    "query", ["page_size=0", "cursor=abc", "ordering=-created_at", "kind=note"]
)
@pytest.mark.parametrize("name", ["ticket-messages", "ticket-activities"])
def test_timeline_refuses_bad_query_parameters(
    agent_client: APIClient, ticket: Ticket, name: str, query: str
) -> None:
    """The timeline has one order and no filters: those parameters are refused, not ignored."""
    response = agent_client.get(f"{url(name, ticket.pk)}?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


def test_messages_of_unknown_ticket_is_404(agent_client: APIClient, ticket: Ticket) -> None:
    assert agent_client.get(url("ticket-messages", 999999)).status_code == 404


# --- Reply -------------------------------------------------------------------------------------


def test_reply(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    """The first reply queues a message, opens the ticket and gives it to the agent."""
    response = agent_client.post(
        url("ticket-reply", ticket.pk),
        {"text": "It ships today.", "html": "<p>It ships <b>today</b>.</p><script>x()</script>"},
        format="json",
    )

    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["id"])
    assert response.json() == {
        "id": message.pk,
        "ticket": ticket.pk,
        "kind": "reply",
        "direction": "outbound",
        "author": {"type": "agent", "id": agent.pk, "name": "Bob Agent"},
        "channel_account": None,
        "text": "It ships today.",
        "html": "<p>It ships <b>today</b>.</p>",
        "delivery_status": message.delivery_status,
        "delivery_error": message.delivery_error,
        "delivery_updated_at": iso(message.delivery_updated_at),
        "threading_reason": "",
        "threading_reason_label": "",
        "is_automated": False,
        "attachments": [],
        "created_at": iso(message.created_at),
    }
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == ("open", agent.pk)
    assert ticket.first_responded_at is not None
    assert ticket.last_agent_message_at == ticket.first_responded_at
    agent_ref = {"id": agent.pk, "name": "Bob Agent"}
    assert activities(ticket)[-3:] == [
        (Verb.REPLIED, agent.pk, {"message_id": message.pk}),
        (Verb.ASSIGNED, agent.pk, {"before": None, "after": agent_ref}),
        (Verb.STATUS_CHANGED, agent.pk, {"before": "new", "after": "open"}),
    ]


def test_reply_and_solve(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    response = agent_client.post(
        url("ticket-reply", ticket.pk), {"text": "Refunded.", "status": "solved"}, format="json"
    )

    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == "solved"
    assert ticket.solved_at is not None
    assert activities(ticket)[-1] == (
        Verb.STATUS_CHANGED,
        agent.pk,
        {"before": "new", "after": "solved"},
    )


def test_reply_with_attachments(agent_client: APIClient, ticket: Ticket, settings: Any) -> None:
    response = agent_client.post(
        url("ticket-reply", ticket.pk),
        {
            "text": "Label and invoice attached.",
            "attachments": [
                SimpleUploadedFile("label.pdf", b"%PDF-label", content_type="application/pdf"),
                SimpleUploadedFile("invoice.txt", b"Invoice 42", content_type="text/plain"),
            ],
        },
        format="multipart",
    )

    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["id"])
    stored = list(message.attachments.order_by("id"))
    assert [(a.name, a.content_type, a.size) for a in stored] == [
        ("label.pdf", "application/pdf", 10),
        ("invoice.txt", "text/plain", 10),
    ]
    assert [a.file.read() for a in stored] == [b"%PDF-label", b"Invoice 42"]
    assert response.json()["attachments"] == [
        {
            "id": a.pk,
            "name": a.name,
            "content_type": a.content_type,
            "size": 10,
            "url": f"http://testserver/attachments/{a.pk}/{a.name}",
        }
        for a in stored
    ]


def test_reply_refuses_an_attachment_over_the_size_limit(
    agent_client: APIClient, ticket: Ticket, settings: Any
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 10
    before = database_state()

    response = agent_client.post(
        url("ticket-reply", ticket.pk),
        {
            "text": "Attached.",
            "attachments": [
                SimpleUploadedFile("small.txt", b"0123456789", content_type="text/plain"),
                SimpleUploadedFile("big.bin", b"0123456789A"),
            ],
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {"attachments": ["Larger than the 10-byte limit: big.bin."]}
    assert database_state() == before
    assert media_files(settings) == []


def test_reply_refuses_too_many_attachments(
    agent_client: APIClient, ticket: Ticket, settings: Any
) -> None:
    settings.MAX_ATTACHMENTS_PER_MESSAGE = 1
    before = database_state()

    response = agent_client.post(
        url("ticket-reply", ticket.pk),
        {
            "text": "Attached.",
            "attachments": [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")],
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {"attachments": ["At most 1 attachments per message."]}
    assert database_state() == before
    assert media_files(settings) == []


def test_reply_on_a_closed_ticket_is_refused(
    agent_client: APIClient, agent: User, ticket: Ticket, settings: Any
) -> None:
    services.change_status(ticket, Ticket.Status.CLOSED, actor=agent)
    before = database_state()

    response = agent_client.post(
        url("ticket-reply", ticket.pk),
        {"text": "Hello again", "attachments": [SimpleUploadedFile("a.txt", b"a")]},
        format="multipart",
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Ticket #{ticket.number} is closed; a new message opens a follow-up."
    }
    assert database_state() == before


def test_reply_on_a_merged_ticket_is_refused(
    agent_client: APIClient, agent: User, make_ticket: Callable[..., Ticket]
) -> None:
    source, target = make_ticket(), make_ticket()
    services.merge_tickets(source, target, actor=agent)
    before = database_state()

    response = agent_client.post(url("ticket-reply", source.pk), {"text": "Hi"}, format="json")

    assert response.status_code == 409
    assert database_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "", "html": " "}, "text"),
        ({"text": ["Hello"]}, "text"),
        ({"text": "Hi", "status": "closed"}, "status"),
        ({"text": "Hi", "status": "new"}, "status"),
        ({"text": "Hi", "status": "done"}, "status"),
        ({"text": "Hi", "cc": "boss@shop.test"}, "cc"),
        ({"text": "Hi", "attachments": ["label.pdf"]}, "attachments"),
        ({"text": "Hi", "attachments": "label.pdf"}, "attachments"),
    ],
)
def test_reply_refuses_bad_input(
    agent_client: APIClient, ticket: Ticket, body: dict[str, Any], field: str
) -> None:
    before = database_state()

    response = agent_client.post(url("ticket-reply", ticket.pk), body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert database_state() == before


def test_reply_refuses_an_empty_file(agent_client: APIClient, ticket: Ticket) -> None:
    before = database_state()

    response = agent_client.post(
        url("ticket-reply", ticket.pk),
        {"text": "Hi", "attachments": [SimpleUploadedFile("empty.txt", b"")]},
        format="multipart",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["attachments"]
    assert database_state() == before


def test_reply_refuses_form_encoding(agent_client: APIClient, ticket: Ticket) -> None:
    response = agent_client.post(
        url("ticket-reply", ticket.pk),
        "text=Hi",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert Message.objects.filter(kind=Message.Kind.REPLY).count() == 0


def test_reply_to_unknown_ticket_is_404(agent_client: APIClient, ticket: Ticket) -> None:
    before = database_state()

    response = agent_client.post(url("ticket-reply", 999999), {"text": "Hi"}, format="json")

    assert response.status_code == 404
    assert database_state() == before


# --- Notes -------------------------------------------------------------------------------------


def test_add_a_note(agent_client: APIClient, agent: User, ticket: Ticket) -> None:
    """A note is internal: it neither opens the ticket nor assigns it."""
    response = agent_client.post(
        url("ticket-notes", ticket.pk),
        {"text": "Check the warehouse.", "html": "<p>Check <em>the warehouse</em>.</p>"},
        format="json",
    )

    assert response.status_code == 201
    note = Message.objects.get(pk=response.json()["id"])
    assert (note.kind, note.direction, note.author_agent_id, note.text, note.html) == (
        "note",
        "internal",
        agent.pk,
        "Check the warehouse.",
        "<p>Check <em>the warehouse</em>.</p>",
    )
    assert response.json()["author"] == {"type": "agent", "id": agent.pk, "name": "Bob Agent"}
    assert response.json()["delivery_status"] == ""
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == ("new", None)
    assert activities(ticket)[-1] == (Verb.NOTE_ADDED, agent.pk, {"message_id": note.pk})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": 5.5, "status": "open"}, "status"),
        ({"text": "x", "attachments": []}, "attachments"),
        ({"note": "x"}, "note"),
    ],
)
def test_note_refuses_bad_input(
    agent_client: APIClient, ticket: Ticket, body: dict[str, Any], field: str
) -> None:
    before = database_state()

    response = agent_client.post(url("ticket-notes", ticket.pk), body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert database_state() == before


def test_note_on_a_merged_ticket_is_a_conflict(
    agent_client: APIClient, agent: User, make_ticket: Callable[..., Ticket]
) -> None:
    source, target = make_ticket(), make_ticket()
    services.merge_tickets(source, target, actor=agent)
    before = database_state()

    response = agent_client.post(url("ticket-notes", source.pk), {"text": "x"}, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": f"Ticket #{source.number} was merged into another ticket."}
    assert database_state() == before


# --- Activities --------------------------------------------------------------------------------


def test_activities_are_the_audit_trail_oldest_first(
    agent_client: APIClient, agent: User, teammate: User, ticket: Ticket
) -> None:
    services.assign_ticket(ticket, teammate, actor=agent)
    services.change_priority(ticket, Ticket.Priority.HIGH, actor=teammate)
    rows = list(TicketActivity.objects.filter(ticket=ticket).order_by("id"))

    response = agent_client.get(url("ticket-activities", ticket.pk))

    assert response.status_code == 200
    carol = {"id": teammate.pk, "name": "Carol Agent"}
    assert response.json()["results"] == [
        {
            "id": rows[0].pk,
            "actor": None,
            "verb": "created",
            "data": {"channel": "email"},
            "created_at": iso(rows[0].created_at),
        },
        {
            "id": rows[1].pk,
            "actor": None,
            "verb": "message_received",
            "data": {"message_id": ticket.messages.get().pk},
            "created_at": iso(rows[1].created_at),
        },
        {
            "id": rows[2].pk,
            "actor": {"id": agent.pk, "name": "Bob Agent"},
            "verb": "assigned",
            "data": {"before": None, "after": carol},
            "created_at": iso(rows[2].created_at),
        },
        {
            "id": rows[3].pk,
            "actor": carol,
            "verb": "priority_changed",
            "data": {"before": "normal", "after": "high"},
            "created_at": iso(rows[3].created_at),
        },
    ]


def test_activities_walk_and_query_count(
    agent_client: APIClient,
    long_conversation: Ticket,
    django_assert_num_queries: Any,
) -> None:
    expected = list(
        TicketActivity.objects.filter(ticket=long_conversation)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )

    ids = walk(agent_client, url("ticket-activities", long_conversation.pk), {"page_size": 9})
    with django_assert_num_queries(2):
        small = agent_client.get(url("ticket-activities", long_conversation.pk), {"page_size": 5})
    with django_assert_num_queries(2):
        large = agent_client.get(url("ticket-activities", long_conversation.pk), {"page_size": 50})

    assert ids == expected
    assert len(result_ids(small)) == 5
    assert len(result_ids(large)) == 50


def test_activities_of_unknown_ticket_is_404(agent_client: APIClient, ticket: Ticket) -> None:
    assert agent_client.get(url("ticket-activities", 999999)).status_code == 404
