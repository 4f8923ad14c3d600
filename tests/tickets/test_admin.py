"""The Django admin for tickets, messages, attachments, tags and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Order
from helpdesk.models import Team, User
from tickets import admin as ticket_admin
from tickets.models import Attachment, Message, Tag, Ticket, TicketActivity
from tickets.services import (
    InboundAttachment,
    InboundMessage,
    add_reply,
    assign_team,
    assign_ticket,
    change_status,
    receive_message,
    tag_ticket,
)

pytestmark = pytest.mark.django_db

Verb = TicketActivity.Verb


@pytest.fixture
def staff_client(client: Client, admin: User) -> Client:
    """alice, signed in to the admin (role admin makes her staff)."""
    assert admin.is_staff
    client.force_login(admin)
    return client


def changelist(model: str) -> str:
    return reverse(f"admin:tickets_{model}_changelist")


def change(model: str, pk: int) -> str:
    return reverse(f"admin:tickets_{model}_change", args=[pk])


def flashed(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def ticket_form(ticket: Ticket, **overrides: Any) -> dict[str, Any]:
    """The POST of the ticket change form as the page would send it unchanged."""
    ticket.refresh_from_db()
    data: dict[str, Any] = {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id or "",
        "team": ticket.team_id or "",
        "tags": [tag.pk for tag in ticket.tags.all()],
        "orders": [order.pk for order in ticket.orders.all()],
        # The read-only inlines still send their management forms.
        "messages-TOTAL_FORMS": "0",
        "messages-INITIAL_FORMS": "0",
        "activities-TOTAL_FORMS": "0",
        "activities-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def make_order(ticket: Ticket, number: str) -> Order:
    return Order.objects.create(
        customer=ticket.customer,
        store="shop",
        external_id=number,
        number=number,
        placed_at="2025-01-02T10:00:00Z",
        currency="EUR",
        total="19.90",
    )


# --- Access --------------------------------------------------------------------------------


def test_agent_is_sent_to_the_admin_login(client: Client, agent: User, ticket: Ticket) -> None:
    """Agents are not staff: every admin page redirects them to the login form."""
    client.force_login(agent)

    for url in ("/admin/", changelist("ticket"), change("ticket", ticket.pk)):
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={url}"


def test_signed_out_visitor_is_sent_to_the_admin_login(client: Client) -> None:
    response = client.get(changelist("ticket"))

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={changelist('ticket')}"


# --- Ticket changelist ---------------------------------------------------------------------


def test_ticket_changelist_finds_a_ticket_by_number(
    staff_client: Client, make_ticket: Callable[..., Ticket]
) -> None:
    wanted = make_ticket(subject="Lamp arrived broken")
    make_ticket(subject="Where is my parcel")

    response = staff_client.get(changelist("ticket"), {"q": f"#{wanted.number}", "status": "new"})

    assert response.status_code == 200
    assert [t.pk for t in response.context["cl"].result_list] == [wanted.pk]
    assert "Lamp arrived broken" in response.content.decode()


def test_ticket_changelist_searches_subject_and_customer_words(
    staff_client: Client, make_ticket: Callable[..., Ticket], support_team: Team
) -> None:
    lamp = make_ticket(subject="Lamp arrived broken", sender_name="Ana Souza")
    parcel = make_ticket(subject="Where is my parcel", sender_name="Bruno Lima")
    assign_team(parcel, support_team, actor=None)

    by_subject = staff_client.get(changelist("ticket"), {"q": "lamp"})
    by_customer = staff_client.get(
        changelist("ticket"), {"q": "bruno", "team__id__exact": str(support_team.pk)}
    )

    assert [t.pk for t in by_subject.context["cl"].result_list] == [lamp.pk]
    assert [t.pk for t in by_customer.context["cl"].result_list] == [parcel.pk]


@pytest.mark.parametrize("term", ["²", "#", "#12a", "9" * 30, "' OR 1=1 --"])
def test_ticket_changelist_survives_odd_search_terms(
    staff_client: Client, ticket: Ticket, term: str
) -> None:
    response = staff_client.get(changelist("ticket"), {"q": term})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_ticket_changelist_filters_by_assignee_priority_and_channel(
    staff_client: Client, make_ticket: Callable[..., Ticket], agent: User
) -> None:
    mine = make_ticket()
    make_ticket()
    assign_ticket(mine, agent, actor=None)

    response = staff_client.get(
        changelist("ticket"),
        {"assignee__id__exact": str(agent.pk), "priority": "normal", "channel": "email"},
    )

    assert response.status_code == 200
    assert [t.pk for t in response.context["cl"].result_list] == [mine.pk]


def _changelist_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(changelist("ticket"))
    assert response.status_code == 200
    return len(captured)


def test_ticket_changelist_query_count_does_not_grow_with_rows(
    staff_client: Client,
    make_ticket: Callable[..., Ticket],
    agent: User,
    support_team: Team,
) -> None:
    """Customer, assignee and team come with the page's one query, not one per row."""

    def add_tickets(count: int) -> None:
        for _ in range(count):
            ticket = make_ticket()
            assign_ticket(ticket, agent, actor=None)
            assign_team(ticket, support_team, actor=None)

    add_tickets(5)
    with_five = _changelist_queries(staff_client)
    add_tickets(25)
    with_thirty = _changelist_queries(staff_client)

    assert with_five == with_thirty
    # Session and user; the team and assignee filters' choices; the count and the page.
    assert with_thirty == 6


# --- Ticket change form: through the services ----------------------------------------------


def test_ticket_change_page_shows_the_conversation(staff_client: Client, ticket: Ticket) -> None:
    response = staff_client.get(change("ticket", ticket.pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert ticket.subject in page
    assert "Where is my order?" in page
    assert "Ana Souza" in page


def test_ticket_cannot_be_added_or_deleted_in_the_admin(
    staff_client: Client, ticket: Ticket
) -> None:
    add = staff_client.get(reverse("admin:tickets_ticket_add"))
    delete = staff_client.post(reverse("admin:tickets_ticket_delete", args=[ticket.pk]))

    assert add.status_code == 403
    assert delete.status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_ticket_change_form_goes_through_the_services(
    staff_client: Client, ticket: Ticket, admin: User, agent: User, support_team: Team
) -> None:
    refund = Tag.objects.create(name="refund")
    order = make_order(ticket, "#1001")
    before = TicketActivity.objects.filter(ticket=ticket).count()

    response = staff_client.post(
        change("ticket", ticket.pk),
        ticket_form(
            ticket,
            status="pending",
            priority="high",
            assignee=agent.pk,
            team=support_team.pk,
            tags=[refund.pk],
            orders=[order.pk],
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == changelist("ticket")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.team) == (
        "pending",
        "high",
        agent,
        support_team,
    )
    assert list(ticket.tags.values_list("name", flat=True)) == ["refund"]
    assert list(ticket.orders.all()) == [order]
    new = TicketActivity.objects.filter(ticket=ticket).order_by("id")[before:]
    assert [(a.verb, a.actor) for a in new] == [
        (Verb.TEAM_CHANGED, admin),
        (Verb.ASSIGNED, admin),
        (Verb.PRIORITY_CHANGED, admin),
        (Verb.STATUS_CHANGED, admin),
        (Verb.TAGGED, admin),
        (Verb.ORDER_LINKED, admin),
    ]


def test_ticket_change_form_removes_tags_and_unassigns_through_the_services(
    staff_client: Client, ticket: Ticket, admin: User, agent: User
) -> None:
    assign_ticket(ticket, agent, actor=None)
    tag_ticket(ticket, ["refund", "vip"], actor=None)
    vip = Tag.objects.get(name="vip")
    before = TicketActivity.objects.filter(ticket=ticket).count()

    response = staff_client.post(
        change("ticket", ticket.pk), ticket_form(ticket, assignee="", tags=[vip.pk])
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert list(ticket.tags.values_list("name", flat=True)) == ["vip"]
    new = TicketActivity.objects.filter(ticket=ticket).order_by("id")[before:]
    assert [(a.verb, a.actor, a.data.get("tags")) for a in new] == [
        (Verb.UNASSIGNED, admin, None),
        (Verb.UNTAGGED, admin, ["refund"]),
    ]


def test_ticket_change_form_unchanged_writes_nothing(staff_client: Client, ticket: Ticket) -> None:
    before = TicketActivity.objects.filter(ticket=ticket).count()

    response = staff_client.post(change("ticket", ticket.pk), ticket_form(ticket))

    assert response.status_code == 302
    assert TicketActivity.objects.filter(ticket=ticket).count() == before


def test_refused_ticket_change_keeps_everything_as_it_was(
    staff_client: Client, ticket: Ticket, agent: User
) -> None:
    """A closed ticket refuses a new assignee: the priority change in the same form is
    rolled back too, and the admin says why."""
    change_status(ticket, "closed", actor=None)
    before = TicketActivity.objects.filter(ticket=ticket).count()

    response = staff_client.post(
        change("ticket", ticket.pk), ticket_form(ticket, priority="urgent", assignee=agent.pk)
    )

    assert response.status_code == 302
    assert response["Location"] == change("ticket", ticket.pk)
    assert flashed(response) == [
        f"Nothing was saved: Ticket #{ticket.number} is closed; a new message opens a follow-up."
    ]
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee) == ("normal", None)
    assert TicketActivity.objects.filter(ticket=ticket).count() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "lost"),
        ("priority", "whenever"),
        ("team", "999999"),
        ("assignee", "nobody"),
        ("tags", ["nope"]),
        ("orders", ["1", "2x"]),
    ],
)
def test_ticket_change_form_rejects_bad_values(
    staff_client: Client, ticket: Ticket, field: str, value: Any
) -> None:
    before = TicketActivity.objects.filter(ticket=ticket).count()

    response = staff_client.post(change("ticket", ticket.pk), ticket_form(ticket, **{field: value}))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert TicketActivity.objects.filter(ticket=ticket).count() == before


def test_ticket_change_form_refuses_a_deactivated_assignee(
    staff_client: Client, ticket: Ticket, inactive_agent: User
) -> None:
    response = staff_client.post(
        change("ticket", ticket.pk), ticket_form(ticket, assignee=inactive_agent.pk)
    )

    assert response.status_code == 200
    assert "assignee" in response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert ticket.assignee is None


# --- Ticket actions ------------------------------------------------------------------------


def run_action(client: Client, action: str, tickets: list[Ticket]) -> Any:
    return client.post(
        changelist("ticket"),
        {"action": action, "_selected_action": [t.pk for t in tickets], "index": "0"},
    )


def test_mark_solved_action_records_the_change_with_its_actor(
    staff_client: Client, make_ticket: Callable[..., Ticket], admin: User
) -> None:
    first, second = make_ticket(), make_ticket()

    response = run_action(staff_client, "mark_solved", [first, second])

    assert response.status_code == 302
    assert flashed(response) == ["2 ticket(s) marked solved."]
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.status == "solved"
        assert ticket.solved_at is not None
        activity = TicketActivity.objects.filter(ticket=ticket).latest("id")
        assert (activity.verb, activity.actor, activity.data) == (
            Verb.STATUS_CHANGED,
            admin,
            {"before": "new", "after": "solved"},
        )


def test_action_reports_the_tickets_the_service_refused(
    staff_client: Client, make_ticket: Callable[..., Ticket]
) -> None:
    closed, open_one = make_ticket(), make_ticket()
    change_status(closed, "closed", actor=None)

    response = run_action(staff_client, "mark_pending", [closed, open_one])

    assert flashed(response) == [
        f"#{closed.number}: Ticket #{closed.number} is closed; a new message opens a follow-up.",
        "1 ticket(s) marked pending.",
    ]
    closed.refresh_from_db()
    open_one.refresh_from_db()
    assert (closed.status, open_one.status) == ("closed", "pending")


def test_close_and_unassign_actions(
    staff_client: Client, make_ticket: Callable[..., Ticket], agent: User, admin: User
) -> None:
    ticket = make_ticket()
    assign_ticket(ticket, agent, actor=None)

    run_action(staff_client, "unassign", [ticket])
    run_action(staff_client, "close", [ticket])

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (None, "closed")
    verbs = list(
        TicketActivity.objects.filter(ticket=ticket, actor=admin)
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == [Verb.UNASSIGNED, Verb.STATUS_CHANGED]


def test_action_refuses_more_tickets_than_one_request_should_handle(
    staff_client: Client, make_ticket: Callable[..., Ticket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ticket_admin, "MAX_TICKETS_PER_ACTION", 2)
    tickets = [make_ticket() for _ in range(3)]

    response = run_action(staff_client, "mark_solved", tickets)

    assert flashed(response) == ["Select at most 2 tickets at once (3 selected)."]
    assert set(Ticket.objects.values_list("status", flat=True)) == {"new"}


# --- Messages and attachments: read-only ---------------------------------------------------


@pytest.fixture
def message_with_file(make_ticket: Callable[..., Ticket]) -> Message:
    make_ticket(subject="Photo of the damage", sender_address="customer1@example.com")
    # Not a new conversation: the photo continues the customer's open ticket.
    return receive_message(
        InboundMessage(
            channel="email",
            sender_address="customer1@example.com",
            text="Here is a photo.",
            references=(),
            attachments=(InboundAttachment("damage.png", "image/png", b"\x89PNG-bytes"),),
        )
    )


def test_message_admin_lists_finds_and_shows_messages(
    staff_client: Client, message_with_file: Message
) -> None:
    number = message_with_file.ticket.number

    listed = staff_client.get(changelist("message"), {"q": str(number), "kind": "customer"})
    shown = staff_client.get(change("message", message_with_file.pk))

    assert listed.status_code == 200
    assert [m.pk for m in listed.context["cl"].result_list] == list(
        Message.objects.filter(ticket__number=number)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )
    assert shown.status_code == 200
    assert "Here is a photo." in shown.content.decode()
    assert "damage.png" in shown.content.decode()


def test_message_admin_shows_threading_and_delivery_retries(
    staff_client: Client, message_with_file: Message, agent: User
) -> None:
    retry_at = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    reply = add_reply(message_with_file.ticket, author=agent, text="Could you send another?")
    Message.objects.filter(pk=reply.pk).update(
        delivery_attempts=3, next_delivery_at=retry_at, delivery_error="421 try again later"
    )

    listed = staff_client.get(changelist("message"), {"threading_reason": "active_conversation"})
    replies = staff_client.get(changelist("message"), {"is_automated__exact": "0", "kind": "reply"})
    shown_reply = staff_client.get(change("message", reply.pk))
    shown_inbound = staff_client.get(change("message", message_with_file.pk))

    assert [m.pk for m in listed.context["cl"].result_list] == [message_with_file.pk]
    assert [
        (m.pk, m.delivery_attempts, m.next_delivery_at) for m in replies.context["cl"].result_list
    ] == [(reply.pk, 3, retry_at)]
    for column in ("threading_reason", "is_automated", "delivery_attempts", "next_delivery_at"):
        assert f"column-{column}" in replies.content.decode()
    reply_page = shown_reply.content.decode()
    assert "Delivery attempts" in reply_page
    assert "Next delivery at" in reply_page
    assert "421 try again later" in reply_page
    inbound_page = shown_inbound.content.decode()
    assert "Continues the active conversation" in inbound_page
    assert "Is automated" in inbound_page


def test_messages_cannot_be_added_changed_or_deleted(
    staff_client: Client, message_with_file: Message
) -> None:
    add = staff_client.get(reverse("admin:tickets_message_add"))
    edit = staff_client.post(change("message", message_with_file.pk), {"text": "Rewritten"})
    delete = staff_client.post(
        reverse("admin:tickets_message_delete", args=[message_with_file.pk]), {"post": "yes"}
    )

    assert (add.status_code, edit.status_code, delete.status_code) == (403, 403, 403)
    message_with_file.refresh_from_db()
    assert message_with_file.text == "Here is a photo."


def test_attachment_admin_lists_and_shows_attachments(
    staff_client: Client, message_with_file: Message
) -> None:
    attachment = Attachment.objects.get(message=message_with_file)

    listed = staff_client.get(
        changelist("attachment"), {"q": f"#{message_with_file.ticket.number}"}
    )
    by_name = staff_client.get(changelist("attachment"), {"q": "damage"})
    shown = staff_client.get(change("attachment", attachment.pk))
    add = staff_client.get(reverse("admin:tickets_attachment_add"))

    assert [a.pk for a in listed.context["cl"].result_list] == [attachment.pk]
    assert [a.pk for a in by_name.context["cl"].result_list] == [attachment.pk]
    assert shown.status_code == 200
    assert "image/png" in shown.content.decode()
    assert add.status_code == 403


# --- Tags ----------------------------------------------------------------------------------


def test_tag_admin_pages(staff_client: Client) -> None:
    tag = Tag.objects.create(name="refund", color="#ff0000")
    Tag.objects.create(name="vip")

    listed = staff_client.get(changelist("tag"), {"q": "ref"})
    shown = staff_client.get(change("tag", tag.pk))
    add = staff_client.get(reverse("admin:tickets_tag_add"))

    assert [t.pk for t in listed.context["cl"].result_list] == [tag.pk]
    assert (shown.status_code, add.status_code) == (200, 200)


def test_tag_names_are_normalized_like_the_services_do(staff_client: Client) -> None:
    response = staff_client.post(
        reverse("admin:tickets_tag_add"), {"name": "  Late   Delivery ", "color": "#3B82F6"}
    )

    assert response.status_code == 302
    assert list(Tag.objects.values_list("name", "color")) == [("late delivery", "#3b82f6")]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "   ", "color": ""}, "name"),
        ({"name": "x" * 51, "color": ""}, "name"),
        ({"name": "refund", "color": "red"}, "color"),
        ({"name": "refund", "color": "#12345g"}, "color"),
    ],
)
def test_tag_form_rejects_bad_input(staff_client: Client, data: dict[str, str], field: str) -> None:
    response = staff_client.post(reverse("admin:tickets_tag_add"), data)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Tag.objects.exists()


# --- The audit trail: read-only ------------------------------------------------------------


def test_activity_admin_lists_filters_and_shows_the_trail(
    staff_client: Client, ticket: Ticket, admin: User
) -> None:
    change_status(ticket, "open", actor=admin)
    status_change = TicketActivity.objects.get(ticket=ticket, verb=Verb.STATUS_CHANGED)

    listed = staff_client.get(
        changelist("ticketactivity"), {"q": f"#{ticket.number}", "verb": "status_changed"}
    )
    words = staff_client.get(changelist("ticketactivity"), {"q": "status"})
    shown = staff_client.get(change("ticketactivity", status_change.pk))

    assert [a.pk for a in listed.context["cl"].result_list] == [status_change.pk]
    assert list(words.context["cl"].result_list) == []
    assert shown.status_code == 200
    assert "&quot;after&quot;: &quot;open&quot;" in shown.content.decode()


def test_activities_cannot_be_added_edited_or_deleted(staff_client: Client, ticket: Ticket) -> None:
    activity = TicketActivity.objects.filter(ticket=ticket).first()
    assert activity is not None

    add = staff_client.get(reverse("admin:tickets_ticketactivity_add"))
    edit = staff_client.post(change("ticketactivity", activity.pk), {"verb": "replied"})
    delete = staff_client.post(
        reverse("admin:tickets_ticketactivity_delete", args=[activity.pk]), {"post": "yes"}
    )
    bulk_delete = staff_client.post(
        changelist("ticketactivity"),
        {"action": "delete_selected", "_selected_action": [activity.pk], "post": "yes"},
    )

    assert (add.status_code, edit.status_code, delete.status_code) == (403, 403, 403)
    assert bulk_delete.status_code == 200  # "No action selected": there is no delete action.
    activity.refresh_from_db()
    assert activity.verb == Verb.CREATED
