"""Saved personal views: the current view, filters and sort kept under a name, listed in
the side bar for their owner only, and deletable."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from helpdesk.models import User
from tickets.models import SavedView
from tickets.workspace.saved_views import MAX_SAVED_VIEWS


def test_saving_keeps_the_query_and_lists_it_in_the_side_bar(
    bob_client: Client, agent: User
) -> None:
    response = bob_client.post(
        "/inbox/views/",
        {
            "name": "Urgent refunds",
            "query": "view=open&q=&tag=refund&priority=urgent&cursor=abc&sort=waiting&bogus=1",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/inbox/?view=open&sort=waiting&priority=urgent&tag=refund"
    saved = SavedView.objects.get(owner=agent)
    assert (saved.name, saved.query) == (
        "Urgent refunds",
        "view=open&sort=waiting&priority=urgent&tag=refund",
    )
    page = bob_client.get(response["Location"])
    assert (
        b'<a href="/inbox/?view=open&amp;sort=waiting&amp;priority=urgent&amp;tag=refund" '
        b'class="view-link is-current" aria-current="page">'
    ) in page.content
    assert b"Urgent refunds" in page.content


def test_saving_under_the_same_name_replaces_the_view(bob_client: Client, agent: User) -> None:
    bob_client.post("/inbox/views/", {"name": "Mine", "query": "view=mine"})
    bob_client.post("/inbox/views/", {"name": "Mine", "query": "view=mine&status=pending"})

    assert list(SavedView.objects.values_list("name", "query")) == [
        ("Mine", "view=mine&status=pending")
    ]


def test_views_are_personal(
    bob_client: Client, teammate: User, agent: User, client: Client
) -> None:
    carols = SavedView.objects.create(owner=teammate, name="Carol's refunds", query="tag=refund")

    page = bob_client.get("/inbox/")
    deleted = bob_client.post(f"/inbox/views/{carols.pk}/delete/")

    assert b"Carol&#x27;s refunds" not in page.content
    assert deleted.status_code == 404
    assert SavedView.objects.filter(pk=carols.pk).exists()


def test_deleting_a_view(bob_client: Client, agent: User) -> None:
    saved = SavedView.objects.create(owner=agent, name="Pending", query="view=pending")

    response = bob_client.post(f"/inbox/views/{saved.pk}/delete/")

    assert response.status_code == 302
    assert not SavedView.objects.exists()
    side_bar = re.search(rb'id="saved-views".*?</div>', bob_client.get("/inbox/").content, re.S)
    assert side_bar is not None
    assert b"Pending" not in side_bar.group(0)
    assert b"saved-views-empty" in side_bar.group(0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "query": "view=open"}, b"Give the view a name."),
        ({"name": "x" * 61, "query": "view=open"}, b"Ensure this value has at most 60 characters"),
        ({"name": "Odd", "query": "view=everything"}, b"The view cannot be saved: view: Select a"),
        ({"name": "Odd", "query": "priority=bogus"}, b"The view cannot be saved: priority:"),
        ({"name": "Long", "query": "q=" + "a" * 1000}, b"Ensure this value has at most 1000"),
    ],
)
def test_bad_saved_views_are_refused(
    bob_client: Client, agent: User, data: dict[str, Any], message: bytes
) -> None:
    response = bob_client.post("/inbox/views/", data)

    assert response.status_code == 400
    assert message in response.content
    assert not SavedView.objects.exists()


def test_an_agent_keeps_a_bounded_number_of_views(bob_client: Client, agent: User) -> None:
    SavedView.objects.bulk_create(
        SavedView(owner=agent, name=f"View {n}", query="view=open") for n in range(MAX_SAVED_VIEWS)
    )

    response = bob_client.post("/inbox/views/", {"name": "One more", "query": "view=mine"})

    assert response.status_code == 400
    assert b"Keep at most 50 saved views; delete one first." in response.content
    assert SavedView.objects.count() == MAX_SAVED_VIEWS


def test_saved_views_need_a_signed_in_agent_and_a_post(
    client: Client, bob_client: Client, agent: User
) -> None:
    anonymous = client.post("/inbox/views/", {"name": "Sneaky", "query": "view=open"})
    get = bob_client.get("/inbox/views/")

    assert anonymous.status_code == 302
    assert get.status_code == 405
    assert not SavedView.objects.exists()
