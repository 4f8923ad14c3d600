"""/api/v1/agents/: every agent reads colleagues; admins create, change and deactivate them;
an agent changes their own availability at /api/v1/agents/me/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from helpdesk.models import Team, User
from tests.conftest import api_client_for
from tickets.models import Ticket
from tickets.services import assign_ticket

AGENTS = "/api/v1/agents/"
ME = "/api/v1/agents/me/"
STRONG_PASSWORD = "correct-horse-battery-staple-42"


def _users_state() -> list[tuple[Any, ...]]:
    rows = User.objects.order_by("pk").values_list(
        "pk", "username", "email", "password", "role", "is_active", "availability", "capacity"
    )
    teams = {
        user.pk: sorted(user.teams.values_list("pk", flat=True)) for user in User.objects.all()
    }
    return [(*row, teams[row[0]]) for row in rows]


def test_agent_lists_colleagues_with_their_teams(
    agent_client: APIClient, admin: User, agent: User, support_team: Team
) -> None:
    """Sorted by username; no password or hash anywhere in the answer."""
    response = agent_client.get(AGENTS)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [user["username"] for user in results] == ["alice", "bob"]
    bob = results[1]
    assert bob == {
        "id": agent.pk,
        "username": "bob",
        "name": "Bob Agent",
        "display_name": "Bob Agent",
        "first_name": "",
        "last_name": "",
        "email": "bob@shop.test",
        "role": "agent",
        "teams": [{"id": support_team.pk, "name": "Support"}],
        "capacity": 20,
        "languages": [],
        "availability": "offline",
        "time_zone": "",
        "is_active": True,
        "last_login": None,
        "date_joined": bob["date_joined"],
    }
    assert b"password" not in response.content
    assert agent.password.encode() not in response.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"role": "admin"}, ["alice"]),
        ({"role": "agent"}, ["bob", "carol", "dave", "erin"]),
        ({"is_active": "false"}, ["erin"]),
        ({"is_active": "true", "team": "{support}"}, ["bob", "carol"]),
        ({"availability": "online"}, ["carol"]),
    ],
)
def test_agent_filters(
    agent_client: APIClient,
    admin: User,
    teammate: User,
    other_agent: User,
    inactive_agent: User,
    support_team: Team,
    query: dict[str, str],
    expected: list[str],
) -> None:
    User.objects.filter(pk=teammate.pk).update(availability="online")
    params = {key: value.format(support=support_team.pk) for key, value in query.items()}

    response = agent_client.get(AGENTS, params)

    assert response.status_code == 200
    assert [user["username"] for user in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"role": "boss"}, "role"),
        ({"is_active": "maybe"}, "is_active"),
        ({"team": "999999"}, "team"),
        ({"team": "abc"}, "team"),
    ],
)
def test_bad_agent_filters_are_a_400(
    agent_client: APIClient, query: dict[str, str], field: str
) -> None:
    response = agent_client.get(AGENTS, query)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("page_size", [5, 50])
def test_agent_list_query_count_does_not_grow_with_the_page(
    agent_client: APIClient, support_team: Team, django_assert_num_queries: Any, page_size: int
) -> None:
    for number in range(60):
        user = User.objects.create_user(f"agent{number:02}")
        user.teams.add(support_team)

    with django_assert_num_queries(2):
        response = agent_client.get(AGENTS, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


def test_admin_creates_an_agent_with_a_password(
    admin_client_api: APIClient, support_team: Team, returns_team: Team
) -> None:
    response = admin_client_api.post(
        AGENTS,
        {
            "username": "frank",
            "email": "Frank@Shop.test",
            "password": STRONG_PASSWORD,
            "display_name": "Frank",
            "teams": [support_team.pk, returns_team.pk],
            "capacity": 8,
            "languages": ["DE", "en", "pt_BR", "de"],
            "time_zone": "Europe/Berlin",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert STRONG_PASSWORD not in response.content.decode()
    assert "password" not in body
    assert body["teams"] == [
        {"id": support_team.pk, "name": "Support"},
        {"id": returns_team.pk, "name": "Returns"},
    ] or body["teams"] == [
        {"id": returns_team.pk, "name": "Returns"},
        {"id": support_team.pk, "name": "Support"},
    ]
    frank = User.objects.get(username="frank")
    assert frank.check_password(STRONG_PASSWORD)
    assert (frank.email, frank.role, frank.capacity, frank.languages, frank.time_zone) == (
        "frank@shop.test",
        "agent",
        8,
        ["de", "en", "pt-BR"],
        "Europe/Berlin",
    )


def test_admin_creates_an_agent_without_a_password(admin_client_api: APIClient) -> None:
    response = admin_client_api.post(AGENTS, {"username": "grace", "role": "admin"})

    assert response.status_code == 201
    grace = User.objects.get(username="grace")
    assert grace.has_usable_password() is False
    assert grace.is_admin is True


def test_admin_changes_an_agent(
    admin_client_api: APIClient, agent: User, returns_team: Team
) -> None:
    response = admin_client_api.patch(
        f"{AGENTS}{agent.pk}/",
        {"capacity": 3, "teams": [returns_team.pk], "password": STRONG_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["teams"] == [{"id": returns_team.pk, "name": "Returns"}]
    agent.refresh_from_db()
    assert agent.capacity == 3
    assert agent.check_password(STRONG_PASSWORD)
    assert agent.display_name == "Bob Agent"


def test_delete_deactivates_and_the_tickets_stay(
    admin_client_api: APIClient, admin: User, agent: User, make_ticket: Callable[..., Ticket]
) -> None:
    ticket = assign_ticket(make_ticket(), agent, actor=admin)
    User.objects.filter(pk=agent.pk).update(availability="online")

    response = admin_client_api.delete(f"{AGENTS}{agent.pk}/")

    assert response.status_code == 204
    agent.refresh_from_db()
    assert (agent.is_active, agent.availability) == (False, "offline")
    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk
    assert admin_client_api.get(f"{AGENTS}{agent.pk}/").json()["is_active"] is False


def test_the_last_admin_cannot_be_deactivated_or_demoted(
    admin_client_api: APIClient, admin: User
) -> None:
    """409, so nobody locks the help desk out of its own configuration."""
    deactivate = admin_client_api.delete(f"{AGENTS}{admin.pk}/")
    demote = admin_client_api.patch(f"{AGENTS}{admin.pk}/", {"role": "agent"})

    assert deactivate.status_code == 409
    assert demote.status_code == 409
    assert "last active admin" in demote.json()["detail"]
    admin.refresh_from_db()
    assert (admin.is_active, admin.role) == (True, "admin")


def test_an_admin_may_step_down_when_another_admin_remains(
    admin_client_api: APIClient, admin: User
) -> None:
    User.objects.create_user("grace", role=User.Role.ADMIN)

    response = admin_client_api.patch(f"{AGENTS}{admin.pk}/", {"role": "agent"})

    assert response.status_code == 200
    admin.refresh_from_db()
    assert admin.role == "agent"


@pytest.mark.parametrize("actor", ["agent", "teammate", "other_agent"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", AGENTS, {"username": "mallory", "role": "admin", "password": STRONG_PASSWORD}),
        ("patch", "{self}", {"role": "admin"}),
        ("patch", "{self}", {"capacity": 99}),
        ("patch", "{admin}", {"password": STRONG_PASSWORD}),
        ("delete", "{admin}", None),
        ("delete", "{self}", None),
    ],
)
def test_agents_cannot_change_agents(
    request: pytest.FixtureRequest,
    admin: User,
    actor: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """403 even on their own record, and no user row changed."""
    user: User = request.getfixturevalue(actor)
    client = api_client_for(user)
    before = _users_state()

    url = path.format(self=f"{AGENTS}{user.pk}/", admin=f"{AGENTS}{admin.pk}/")
    response = getattr(client, method)(url, body, format="json")

    assert response.status_code == 403
    assert _users_state() == before


def test_agent_reads_their_own_record(agent_client: APIClient, agent: User) -> None:
    response = agent_client.get(ME)

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["username"]) == (agent.pk, "bob")


def test_agent_sets_their_own_availability(agent_client: APIClient, agent: User) -> None:
    response = agent_client.patch(ME, {"availability": "online"})

    assert response.status_code == 200
    assert response.json()["availability"] == "online"
    agent.refresh_from_db()
    assert agent.availability == "online"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"availability": "online", "capacity": 99}, "capacity", "Unknown field."),
        ({"role": "admin"}, "role", "Unknown field."),
        ({"availability": "sleeping"}, "availability", '"sleeping" is not a valid choice.'),
        ({}, "availability", "This field is required."),
    ],
)
def test_agent_changes_nothing_else_on_their_own_record(
    agent_client: APIClient, agent: User, body: dict[str, Any], field: str, message: str
) -> None:
    before = _users_state()

    response = agent_client.patch(ME, body, format="json")

    assert response.status_code == 400
    assert response.json()[field] == [message]
    assert _users_state() == before


def test_me_takes_no_put_or_delete(agent_client: APIClient, agent: User) -> None:
    assert agent_client.put(ME, {"availability": "online"}).status_code == 405
    assert agent_client.delete(ME).status_code == 405
    agent.refresh_from_db()
    assert (agent.is_active, agent.availability) == (True, "offline")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"username": "frank", "favourite": "tea"}, "favourite", "Unknown field."),
        ({"username": "frank", "name": "Frank"}, "name", "Unknown field."),
        ({"username": "frank", "is_superuser": True}, "is_superuser", "Unknown field."),
        ({"username": "bob"}, "username", "A user with that username already exists."),
        ({"username": "no spaces please"}, "username", None),
        ({"username": "frank", "password": "123"}, "password", None),
        ({"username": "frank", "password": "frank1234"}, "password", None),
        ({"username": "frank", "role": "owner"}, "role", '"owner" is not a valid choice.'),
        ({"username": "frank", "capacity": -1}, "capacity", None),
        ({"username": "frank", "capacity": "many"}, "capacity", "A valid integer is required."),
        ({"username": "frank", "languages": "en"}, "languages", None),
        ({"username": "frank", "languages": ["english!"]}, "languages", None),
        ({"username": "frank", "time_zone": "Mars/Olympus"}, "time_zone", None),
        ({"username": "frank", "teams": [999999]}, "teams", None),
        ({"username": "frank", "teams": "support"}, "teams", None),
        ({"username": "frank", "email": "not-an-email"}, "email", None),
        ({"username": "frank", "is_active": "perhaps"}, "is_active", None),
    ],
)
def test_bad_agent_input_is_a_400_naming_the_field(
    admin_client_api: APIClient,
    agent: User,
    body: dict[str, Any],
    field: str,
    message: str | None,
) -> None:
    before = _users_state()

    response = admin_client_api.post(AGENTS, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    if message is not None:
        assert errors[field] == [message]
    assert _users_state() == before


@pytest.mark.parametrize("path", [f"{AGENTS}999999/", f"{AGENTS}abc/", f"{AGENTS}{10**30}/"])
def test_unknown_agent_is_a_404(admin_client_api: APIClient, path: str) -> None:
    assert admin_client_api.get(path).status_code == 404
    assert admin_client_api.patch(path, {"capacity": 1}).status_code == 404
    assert admin_client_api.delete(path).status_code == 404
