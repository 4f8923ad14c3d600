"""/api/v1/teams/: every agent reads teams; only admins change them."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from helpdesk.models import Team, User
from tests.conftest import api_client_for

TEAMS = "/api/v1/teams/"


def _teams_state() -> list[tuple[Any, ...]]:
    return list(Team.objects.order_by("pk").values_list("pk", "name", "slug", "description"))


def test_agent_lists_teams_with_members_by_id_and_name(
    agent_client: APIClient, agent: User, teammate: User, other_agent: User
) -> None:
    """Teams come sorted by name, each member as id and name only."""
    response = agent_client.get(TEAMS)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [team["name"] for team in results] == ["Returns", "Support"]
    support = results[1]
    assert sorted(support["members"], key=lambda member: member["id"]) == [
        {"id": agent.pk, "name": "Bob Agent"},
        {"id": teammate.pk, "name": "Carol Agent"},
    ]
    assert results[0]["members"] == [{"id": other_agent.pk, "name": "dave"}]
    assert set(support) == {"id", "name", "slug", "description", "members", "created_at"}


def test_agent_reads_one_team(agent_client: APIClient, support_team: Team) -> None:
    response = agent_client.get(f"{TEAMS}{support_team.pk}/")

    assert response.status_code == 200
    assert response.json()["slug"] == "support"


@pytest.mark.parametrize("page_size", [5, 50])
def test_team_list_query_count_does_not_grow_with_the_page(
    agent_client: APIClient, agent: User, django_assert_num_queries: Any, page_size: int
) -> None:
    """One query for the page and one for all members, whatever the page size."""
    for number in range(60):
        team = Team.objects.create(name=f"Team {number:02}", slug=f"team-{number:02}")
        team.members.add(agent)

    with django_assert_num_queries(2):
        response = agent_client.get(TEAMS, {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size


def test_team_pages_follow_the_cursor(agent_client: APIClient, db: None) -> None:
    for number in range(7):
        Team.objects.create(name=f"Team {number}", slug=f"team-{number}")

    first = agent_client.get(TEAMS, {"page_size": 5}).json()
    second = agent_client.get(first["next"]).json()

    # bob's own Support team sorts first.
    assert [team["name"] for team in first["results"]] == ["Support"] + [
        f"Team {n}" for n in range(4)
    ]
    assert [team["name"] for team in second["results"]] == ["Team 4", "Team 5", "Team 6"]
    assert second["next"] is None


def test_admin_creates_a_team_with_a_slug_from_its_name(admin_client_api: APIClient) -> None:
    response = admin_client_api.post(TEAMS, {"name": "Billing & Refunds", "description": "Money"})

    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "billing-refunds"
    assert body["members"] == []
    team = Team.objects.get(pk=body["id"])
    assert (team.name, team.description) == ("Billing & Refunds", "Money")


def test_admin_renames_a_team(admin_client_api: APIClient, support_team: Team) -> None:
    response = admin_client_api.patch(f"{TEAMS}{support_team.pk}/", {"name": "Front line"})

    assert response.status_code == 200
    support_team.refresh_from_db()
    assert (support_team.name, support_team.slug) == ("Front line", "support")


def test_admin_deletes_a_team_and_its_members_stay(
    admin_client_api: APIClient, support_team: Team, agent: User
) -> None:
    response = admin_client_api.delete(f"{TEAMS}{support_team.pk}/")

    assert response.status_code == 204
    assert not Team.objects.filter(pk=support_team.pk).exists()
    agent.refresh_from_db()
    assert agent.is_active is True
    assert list(agent.teams.all()) == []


@pytest.mark.parametrize("actor", ["agent", "teammate", "other_agent"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", TEAMS, {"name": "Shadow team"}),
        ("patch", "{team}", {"name": "Renamed"}),
        ("delete", "{team}", None),
    ],
)
def test_agents_cannot_change_teams(
    request: pytest.FixtureRequest,
    support_team: Team,
    returns_team: Team,
    actor: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """403, and the teams are exactly as they were."""
    client = api_client_for(request.getfixturevalue(actor))
    before = _teams_state()

    response = getattr(client, method)(
        path.format(team=f"{TEAMS}{support_team.pk}/"), body, format="json"
    )

    assert response.status_code == 403
    assert _teams_state() == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "X", "colour": "red"}, "colour", "Unknown field."),
        ({"name": "X", "members": [1]}, "members", "Unknown field."),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"name": "   "}, "name", "This field may not be blank."),
        ({"name": 42, "slug": "has space"}, "slug", None),
        ({"name": "Support"}, "name", "team with this name already exists."),
        ({"name": "Other", "slug": "support"}, "slug", "team with this slug already exists."),
        ({"name": "!!!"}, "slug", "The name gives no slug; give one with letters or digits."),
        ({"description": "no name"}, "name", "This field is required."),
    ],
)
def test_bad_team_input_is_a_400_naming_the_field(
    admin_client_api: APIClient,
    support_team: Team,
    body: dict[str, Any],
    field: str,
    message: str | None,
) -> None:
    before = _teams_state()

    response = admin_client_api.post(TEAMS, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert field in errors
    if message is not None:
        assert errors[field] == [message]
    assert _teams_state() == before


def test_a_body_that_is_not_an_object_is_a_400(admin_client_api: APIClient) -> None:
    response = admin_client_api.post(TEAMS, ["Support"], format="json")

    assert response.status_code == 400
    assert Team.objects.count() == 0


@pytest.mark.parametrize("path", [f"{TEAMS}999999/", f"{TEAMS}abc/", f"{TEAMS}{10**30}/"])
def test_unknown_team_is_a_404(admin_client_api: APIClient, db: None, path: str) -> None:
    assert admin_client_api.get(path).status_code == 404
    assert admin_client_api.patch(path, {"name": "X"}).status_code == 404
    assert admin_client_api.delete(path).status_code == 404


def test_put_is_not_offered(admin_client_api: APIClient, support_team: Team) -> None:
    response = admin_client_api.put(f"{TEAMS}{support_team.pk}/", {"name": "X", "slug": "x"})

    assert response.status_code == 405
    support_team.refresh_from_db()
    assert support_team.name == "Support"
