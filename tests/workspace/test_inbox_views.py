"""The inbox page and its fragments: views and their counts, filters, sort orders, keyset
pages, live rows, and what bad input gets back."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from helpdesk.models import Team, User
from tickets import inbox
from tickets.models import Ticket
from tickets.services import (
    assign_team,
    assign_ticket,
    change_priority,
    change_status,
    tag_ticket,
)

MakeTicket = Callable[..., Ticket]


def row_ids(response: Any) -> list[int]:
    """The tickets of the list, in the order shown."""
    return [int(pk) for pk in re.findall(rb'id="ticket-row-(\d+)"', response.content)]


def count_of(response: Any, view: str) -> int:
    found = re.search(rf'data-count="{view}">(\d+)<'.encode(), response.content)
    assert found is not None, view
    return int(found.group(1))


@pytest.fixture
def desk(
    make_ticket: MakeTicket,
    agent: User,
    teammate: User,
    support_team: Team,
    returns_team: Team,
    django_capture_on_commit_callbacks: Any,
) -> dict[str, Ticket]:
    """Tickets in every state the views tell apart, named by what they are."""
    with django_capture_on_commit_callbacks(execute=True):
        mine = assign_ticket(make_ticket(subject="Lamp arrived broken"), agent, actor=agent)
        mine = tag_ticket(mine, ["damaged"], actor=agent)
        mine_pending = change_status(
            assign_ticket(make_ticket(subject="Waiting for photos"), agent, actor=agent),
            "pending",
            actor=agent,
        )
        carols = assign_ticket(make_ticket(subject="Invoice copy"), teammate, actor=teammate)
        carols = change_priority(carols, "urgent", actor=teammate)
        unassigned_support = assign_team(
            make_ticket(subject="Size chart"), support_team, actor=None
        )
        unassigned_returns = assign_team(
            make_ticket(channel="whatsapp", sender_address="+14155550111", subject="Return label"),
            returns_team,
            actor=None,
        )
        solved = change_status(
            assign_ticket(make_ticket(subject="Thanks!"), agent, actor=agent), "solved", actor=agent
        )
    return {
        "mine": mine,
        "mine_pending": mine_pending,
        "carols": carols,
        "unassigned_support": unassigned_support,
        "unassigned_returns": unassigned_returns,
        "solved": solved,
    }


# --- Views and counts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("mine", ["mine", "mine_pending"]),
        ("unassigned", ["unassigned_support", "unassigned_returns"]),
        ("teams", ["unassigned_support"]),
        ("open", ["mine", "mine_pending", "carols", "unassigned_support", "unassigned_returns"]),
        ("pending", ["mine_pending"]),
        ("solved", ["solved"]),
        ("whatsapp", ["unassigned_returns"]),
        ("email", ["mine", "mine_pending", "carols", "unassigned_support"]),
        ("sla-risk", []),
        ("sla-breached", []),
    ],
)
def test_each_view_lists_its_tickets_and_counts_them(
    bob_client: Client, desk: dict[str, Ticket], view: str, expected: list[str]
) -> None:
    response = bob_client.get(f"/inbox/?view={view}")

    assert response.status_code == 200
    assert sorted(row_ids(response)) == sorted(desk[name].pk for name in expected)
    assert count_of(response, view) == len(expected)


def test_counts_are_reused_until_a_ticket_changes(
    bob_client: Client, desk: dict[str, Ticket], agent: User, django_assert_num_queries: Any
) -> None:
    before = count_of(bob_client.get("/inbox/?view=pending"), "pending")
    with django_assert_num_queries(1):  # the tickets' version; the counts are cached
        assert inbox.view_counts(agent)["pending"] == before

    change_status(desk["unassigned_support"], "pending", actor=agent)

    assert inbox.view_counts(agent)["pending"] == before + 1
    assert count_of(bob_client.get("/inbox/?view=pending"), "pending") == before + 1


def test_agents_share_the_counts_of_shared_views_and_keep_their_own(
    desk: dict[str, Ticket], agent: User, teammate: User, django_assert_num_queries: Any
) -> None:
    mine = inbox.view_counts(agent)
    # The teammate counts only "Mine" and "My teams": the shared views come from the cache.
    with django_assert_num_queries(2):  # the tickets' version, the teammate's own views
        theirs = inbox.view_counts(teammate)

    shared = [slug for slug in inbox.VIEWS if slug not in inbox.PERSONAL_VIEWS]
    assert {slug: theirs[slug] for slug in shared} == {slug: mine[slug] for slug in shared}
    assert (
        theirs["mine"]
        == inbox.inbox_tickets(inbox.VIEWS["mine"], inbox.InboxFilters(), teammate).count()
    )
    assert (
        mine["mine"]
        == inbox.inbox_tickets(inbox.VIEWS["mine"], inbox.InboxFilters(), agent).count()
    )


def test_my_teams_counts_every_team_of_the_agent(
    client: Client, other_agent: User, desk: dict[str, Ticket], support_team: Team
) -> None:
    other_agent.teams.add(support_team)
    client.force_login(other_agent)

    response = client.get("/inbox/?view=teams")

    # Support's unassigned ticket and Returns' WhatsApp one; the tickets without a team
    # (every assigned one here) are nobody's team's.
    assert sorted(row_ids(response)) == sorted(
        [desk["unassigned_support"].pk, desk["unassigned_returns"].pk]
    )


def test_sla_views_take_the_earliest_running_due_time(
    bob_client: Client, desk: dict[str, Ticket]
) -> None:
    now = timezone.now()
    # Test data for the clocks the automation will set; no service writes them yet.
    Ticket.objects.filter(pk=desk["mine"].pk).update(resolution_due_at=now + timedelta(minutes=20))
    Ticket.objects.filter(pk=desk["carols"].pk).update(
        next_response_due_at=now - timedelta(minutes=5)
    )
    # Pending: the clock stops, so it is neither at risk nor breached.
    Ticket.objects.filter(pk=desk["mine_pending"].pk).update(
        resolution_due_at=now - timedelta(hours=1)
    )
    # Answered already: the first-response clock no longer runs.
    Ticket.objects.filter(pk=desk["unassigned_support"].pk).update(
        first_response_due_at=now - timedelta(hours=1), first_responded_at=now
    )

    at_risk = bob_client.get("/inbox/?view=sla-risk")
    breached = bob_client.get("/inbox/?view=sla-breached")

    assert row_ids(at_risk) == [desk["mine"].pk]
    assert row_ids(breached) == [desk["carols"].pk]
    assert count_of(at_risk, "sla-risk") == 1
    assert b'href="/inbox/?view=sla-breached" class="view-link is-breached"' in at_risk.content
    assert b"sla sla--at-risk" in at_risk.content
    assert b"sla sla--breached" in breached.content
    assert re.search(rb"data-countdown>(19|20)m<", at_risk.content)
    assert re.search(rb"data-countdown>[45]m late<", breached.content)


def test_rows_show_what_an_agent_decides_on(bob_client: Client, desk: dict[str, Ticket]) -> None:
    response = bob_client.get("/inbox/?view=open")
    html = response.content.decode()

    row = re.search(rf'id="ticket-row-{desk["carols"].pk}".*?\n</div>', html, re.S)
    assert row is not None
    text = row.group(0)
    assert 'aria-label="Email"' in text
    assert "Customer 3" in text
    assert "Invoice copy" in text
    assert "Where is my order?" in text  # the last message
    assert '<span class="priority priority--urgent">Urgent</span>' in text
    assert 'title="Assigned to Carol Agent"' in text
    assert 'class="waiting"' in text
    assert f"#{desk['carols'].number}" in text
    mine = re.search(rf'id="ticket-row-{desk["mine"].pk}".*?\n</div>', html, re.S)
    assert mine is not None
    assert ">You<" in mine.group(0)
    assert '<span class="tag">damaged</span>' in mine.group(0)


def test_the_list_is_a_listbox_with_options(bob_client: Client, desk: dict[str, Ticket]) -> None:
    response = bob_client.get("/inbox/")

    assert b'role="listbox"' in response.content
    assert response.content.count(b'role="option"') == 2
    assert b'aria-selected="false"' in response.content
    assert b'aria-live="polite"' in response.content


def test_an_empty_view_says_what_to_do(bob_client: Client, agent: User) -> None:
    response = bob_client.get("/inbox/")

    assert b"Nothing assigned to you. Take one from Unassigned." in response.content


# --- Filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel=whatsapp", ["unassigned_returns"]),
        ("tag=damaged", ["mine"]),
        ("tag=Damaged", ["mine"]),
        ("priority=urgent", ["carols"]),
        ("status=pending", ["mine_pending"]),
        ("assignee=me", ["mine", "mine_pending"]),
        ("assignee=none", ["unassigned_support", "unassigned_returns"]),
        ("assignee={carol}", ["carols"]),
        ("team={support}", ["unassigned_support"]),
        ("team=none", ["mine", "mine_pending", "carols"]),
        ("q=invoice", ["carols"]),
        ("q=customer1%40example.com", ["mine"]),
        ("q=%23{mine_number}", ["mine"]),
        ("channel=email&assignee=me&status=new", ["mine"]),
    ],
)
def test_filters_narrow_the_view(
    bob_client: Client,
    desk: dict[str, Ticket],
    teammate: User,
    support_team: Team,
    query: str,
    expected: list[str],
) -> None:
    query = query.format(
        carol=teammate.pk, support=support_team.pk, mine_number=desk["mine"].number
    )

    response = bob_client.get(f"/inbox/?view=open&{query}")

    assert response.status_code == 200
    assert sorted(row_ids(response)) == sorted(desk[name].pk for name in expected)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("view=everything", b"view: Select a valid choice."),
        ("priority=bogus", b"priority: Select a valid choice. bogus is not one of"),
        ("status=archived", b"status: Select a valid choice."),
        ("channel=fax", b"channel: Select a valid choice."),
        ("assignee=999999", b"assignee: That agent does not exist."),
        ("assignee=someone", b"assignee: Choose an agent from the list."),
        ("team=999999", b"team: That team does not exist."),
        ("sort=random", b"sort: Select a valid choice."),
        ("cursor=not-a-cursor", b"cursor: The page cursor is not valid."),
        ("tag=" + "x" * 51, b"tag: Ensure this value has at most 50 characters"),
    ],
)
def test_bad_query_values_are_a_400_that_names_the_parameter(
    bob_client: Client, desk: dict[str, Ticket], query: str, message: bytes
) -> None:
    page = bob_client.get(f"/inbox/?{query}")
    fragment = bob_client.get(f"/inbox/list/?{query}", headers={"HX-Request": "true"})

    assert page.status_code == 400
    assert message in page.content
    assert b'role="alert"' in page.content
    # The page still works: the default view is shown under the message.
    assert sorted(row_ids(page)) == sorted([desk["mine"].pk, desk["mine_pending"].pk])
    assert fragment.status_code == 400
    assert message in fragment.content


def test_the_list_fragment_keeps_the_address_bar_in_step(
    bob_client: Client, desk: dict[str, Ticket]
) -> None:
    response = bob_client.get(
        "/inbox/list/?view=open&priority=urgent",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/inbox/?view=open"},
    )

    assert response.status_code == 200
    assert response["HX-Replace-Url"] == "/inbox/?view=open&priority=urgent"
    assert row_ids(response) == [desk["carols"].pk]
    assert b"<html" not in response.content


# --- Sort orders and pages -------------------------------------------------------------------


def test_priority_sort_puts_urgent_first(bob_client: Client, desk: dict[str, Ticket]) -> None:
    response = bob_client.get("/inbox/?view=open&sort=priority")

    assert row_ids(response)[0] == desk["carols"].pk


def test_pages_follow_each_other_without_gaps_or_repeats(
    bob_client: Client,
    make_ticket: MakeTicket,
    agent: User,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(inbox, "PAGE_SIZE", 3)
    with django_capture_on_commit_callbacks(execute=True):
        tickets = [make_ticket() for _ in range(7)]
        # Equal priorities: the id breaks the tie, so no row is lost between pages.
        for ticket in tickets[:4]:
            change_priority(ticket, "high", actor=agent)
    seen: list[int] = []
    url = "/inbox/list/?view=open&sort=priority"
    for _page in range(5):
        response = bob_client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        seen += row_ids(response)
        more = re.search(rb'hx-get="(/inbox/list/\?[^"]+)"', response.content)
        if more is None:
            break
        url = more.group(1).decode().replace("&amp;", "&")
    assert sorted(seen) == sorted(ticket.pk for ticket in tickets)
    assert len(seen) == len(set(seen)) == 7
    # High first, newest first within a priority.
    assert seen[:4] == [ticket.pk for ticket in reversed(tickets[:4])]


def test_a_cursor_from_another_sort_is_refused(bob_client: Client, desk: dict[str, Ticket]) -> None:
    cursor = inbox.encode_cursor(inbox.SORTS["updated"], [timezone.now(), 1])

    response = bob_client.get(f"/inbox/list/?view=open&sort=created&cursor={cursor}")

    assert response.status_code == 400
    assert b"belongs to another sort order" in response.content


# --- Live fragments --------------------------------------------------------------------------


def test_a_row_says_whether_it_still_belongs_to_the_view(
    bob_client: Client, desk: dict[str, Ticket]
) -> None:
    inside = bob_client.get(f"/inbox/rows/{desk['mine'].pk}/?view=mine")
    outside = bob_client.get(f"/inbox/rows/{desk['carols'].pk}/?view=mine")

    assert inside.status_code == outside.status_code == 200
    assert (inside["X-In-View"], outside["X-In-View"]) == ("1", "0")
    assert b"row--left" not in inside.content
    assert b"Moved out of this view" in outside.content
    assert f'id="ticket-row-{desk["carols"].pk}"'.encode() in outside.content


def test_a_row_of_no_ticket_is_a_404(bob_client: Client, db: None) -> None:
    assert bob_client.get("/inbox/rows/987654/").status_code == 404


def test_counts_fragment_marks_the_current_view(
    bob_client: Client, desk: dict[str, Ticket]
) -> None:
    response = bob_client.get("/inbox/counts/?view=pending")

    assert response.status_code == 200
    assert b'id="view-nav"' in response.content
    assert count_of(response, "mine") == 2
    assert count_of(response, "open") == 5
    assert re.search(
        rb'href="/inbox/\?view=pending" class="view-link is-current"', response.content
    )


def test_fragments_refuse_other_methods(bob_client: Client, desk: dict[str, Ticket]) -> None:
    assert bob_client.post("/inbox/list/").status_code == 405
    assert bob_client.post(f"/inbox/rows/{desk['mine'].pk}/").status_code == 405


# --- Query counts ----------------------------------------------------------------------------


def test_inbox_page_costs_the_same_queries_for_more_tickets(
    bob_client: Client,
    make_ticket: MakeTicket,
    agent: User,
    django_assert_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def add_tickets(count: int) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(count):
                ticket = assign_ticket(make_ticket(), agent, actor=agent)
                tag_ticket(ticket, ["refund"], actor=agent)

    add_tickets(2)
    # Session, user, the tickets' version, counts (a ticket changed since they were last
    # counted: the shared views' unsolved and solved counts, the agent's own), the page of
    # rows, their tags, agents, teams and tags for the filter bar, the agent's saved views.
    with django_assert_num_queries(12):
        assert len(row_ids(bob_client.get("/inbox/"))) == 2
    add_tickets(10)
    with django_assert_num_queries(12):
        assert len(row_ids(bob_client.get("/inbox/"))) == 12
    # Nothing changed since: the counts come from the cache.
    with django_assert_num_queries(9):
        assert len(row_ids(bob_client.get("/inbox/"))) == 12
    with django_assert_num_queries(4):
        bob_client.get("/inbox/list/?view=mine", headers={"HX-Request": "true"})
