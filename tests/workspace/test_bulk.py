"""Bulk actions on the inbox: one change to the selected tickets, each through the service
the ticket page uses, with a summary of what changed and what was refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from helpdesk.models import User
from tickets.models import Ticket, TicketActivity
from tickets.services import change_status, merge_tickets
from tickets.workspace.bulk import MAX_BULK_TICKETS

MakeTicket = Callable[..., Ticket]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def three(make_ticket: MakeTicket) -> list[Ticket]:
    return [make_ticket(subject=f"Bulk {n}") for n in range(3)]


def post_bulk(client: Client, tickets: list[Ticket], **values: Any) -> Any:
    return client.post(
        "/inbox/bulk/", {"ticket": [ticket.pk for ticket in tickets], **values}, headers=HTMX
    )


def test_bulk_status_changes_each_ticket_through_the_service(
    bob_client: Client, three: list[Ticket], agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post_bulk(bob_client, three, action="status", status="solved")

    assert response.status_code == 200
    assert b"Status set to Solved" in response.content
    assert b"3 tickets changed" in response.content
    assert [ticket.status for ticket in Ticket.objects.order_by("number")] == ["solved"] * 3
    changes = TicketActivity.objects.filter(verb="status_changed", actor=agent)
    assert sorted(changes.values_list("ticket_id", flat=True)) == sorted(t.pk for t in three)


def test_bulk_assign_priority_and_tag(
    bob_client: Client, three: list[Ticket], teammate: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assign = post_bulk(bob_client, three[:2], action="assignee", assignee=teammate.pk)
        priority = post_bulk(bob_client, three, action="priority", priority="high")
        tag = post_bulk(bob_client, three[1:], action="tags", add="refund, Damaged")

    assert b"Assigned to Carol" in assign.content
    assert [t.assignee_id for t in Ticket.objects.order_by("number")] == [
        teammate.pk,
        teammate.pk,
        None,
    ]
    assert b"Priority set to High" in priority.content
    assert set(Ticket.objects.values_list("priority", flat=True)) == {"high"}
    assert b"Tagged refund, damaged" in tag.content
    tags = {t.number: sorted(t.tags.values_list("name", flat=True)) for t in Ticket.objects.all()}
    assert tags == {
        three[0].number: [],
        three[1].number: ["damaged", "refund"],
        three[2].number: ["damaged", "refund"],
    }


def test_tickets_already_so_are_counted_and_left_alone(
    bob_client: Client, three: list[Ticket], agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        change_status(three[0], "pending", actor=agent)
        before = TicketActivity.objects.count()
        response = post_bulk(bob_client, three, action="status", status="pending")

    assert b"2 tickets changed, 1 already so" in response.content
    assert TicketActivity.objects.count() == before + 2


def test_bulk_merge_goes_into_the_oldest_and_reports_refusals(
    bob_client: Client,
    three: list[Ticket],
    make_ticket: MakeTicket,
    agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    oldest, middle, newest = three
    closed = make_ticket(subject="Closed one")
    with django_capture_on_commit_callbacks(execute=True):
        change_status(closed, "closed", actor=agent)
        response = post_bulk(bob_client, [newest, closed, middle, oldest], action="merge")

    assert response.status_code == 200
    assert f"Merged into #{oldest.number}".encode() in response.content
    assert b"3 tickets changed" in response.content
    assert {t.number: t.merged_into_id for t in Ticket.objects.all()} == {
        oldest.number: None,
        middle.number: oldest.pk,
        newest.number: oldest.pk,
        closed.number: oldest.pk,
    }


def test_refusals_are_listed_with_the_services_reason(
    bob_client: Client,
    three: list[Ticket],
    agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    oldest, middle, _newest = three
    with django_capture_on_commit_callbacks(execute=True):
        change_status(oldest, "closed", actor=agent)
        response = post_bulk(bob_client, [middle, oldest], action="merge")

    assert b"nothing changed, 1 refused" in response.content
    assert f"#{oldest.number} is closed; merge into an active ticket.".encode() in response.content
    middle.refresh_from_db()
    assert middle.merged_into_id is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"action": "status", "status": "archived"}, b"Select a valid choice."),
        ({"action": "priority"}, b"This field is required."),
        ({"action": "assignee", "assignee": "999999"}, b"Choose an active agent from the list."),
        ({"action": "tags", "add": " , "}, b"Type a tag to add."),
        ({"action": "explode"}, b"Select a valid choice. explode is not one of"),
        ({"status": "solved"}, b"Choose what to do with the selected tickets."),
    ],
)
def test_bad_bulk_input_is_refused_and_changes_nothing(
    bob_client: Client, three: list[Ticket], values: dict[str, Any], message: bytes
) -> None:
    response = post_bulk(bob_client, three, **values)

    assert response.status_code == 400
    assert message in response.content
    assert set(Ticket.objects.values_list("status", "priority")) == {("new", "normal")}
    assert not Ticket.objects.exclude(assignee=None).exists()


@pytest.mark.parametrize(
    ("tickets", "message"),
    [
        ([], b"Select at least one ticket."),
        (["abc"], b"Select a valid choice."),
        ([999999], b"Some selected tickets no longer exist; reload the list."),
        (list(range(1, MAX_BULK_TICKETS + 2)), b"Select at most 100 tickets at a time."),
    ],
)
def test_bad_ticket_selections_are_refused(
    bob_client: Client, three: list[Ticket], tickets: list[Any], message: bytes
) -> None:
    response = bob_client.post(
        "/inbox/bulk/", {"ticket": tickets, "action": "status", "status": "solved"}, headers=HTMX
    )

    assert response.status_code == 400
    assert message in response.content
    assert not Ticket.objects.filter(status="solved").exists()


def test_merge_needs_two_tickets_and_merged_tickets_are_not_selectable(
    bob_client: Client, three: list[Ticket], agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        merge_tickets(three[2], three[0], actor=agent)

    alone = post_bulk(bob_client, three[:1], action="merge")
    merged = post_bulk(bob_client, [three[2]], action="status", status="solved")

    assert alone.status_code == 400
    assert b"Select at least two tickets to merge." in alone.content
    assert merged.status_code == 400
    assert b"no longer exist" in merged.content


def test_bulk_needs_a_signed_in_agent_and_a_post(
    client: Client, bob_client: Client, three: list[Ticket]
) -> None:
    anonymous = client.post(
        "/inbox/bulk/", {"ticket": [three[0].pk], "action": "status", "status": "solved"}
    )
    get = bob_client.get("/inbox/bulk/")

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert get.status_code == 405
    assert not Ticket.objects.filter(status="solved").exists()


def test_a_plain_post_gets_the_inbox_with_the_summary(
    bob_client: Client, three: list[Ticket], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = bob_client.post(
            "/inbox/bulk/",
            {"ticket": [t.pk for t in three], "action": "priority", "priority": "urgent"},
        )

    assert response.status_code == 200
    assert b'id="ticket-list"' in response.content
    assert b"Priority set to Urgent" in response.content


def test_rows_carry_a_checkbox_for_the_bulk_form(bob_client: Client, three: list[Ticket]) -> None:
    response = bob_client.get("/inbox/", {"view": "open"})

    for ticket in three:
        assert (
            f'<input type="checkbox" class="row-check" name="ticket" value="{ticket.pk}" '
            f'form="bulk-form"'
        ).encode() in response.content
    assert b'id="bulk-form"' in response.content
