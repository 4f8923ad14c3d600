"""The routing and teams settings pages (admins only) and the agent's availability switch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from automation.models import TeamRouting
from helpdesk.models import Team, User
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin: User) -> Client:
    return client_for(admin)


def routing_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mode": "least_loaded",
        "match_skills": "on",
        "capacity_statuses": ["new", "open"],
        "escalation_team": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Permissions -----------------------------------------------------------------------------


PAGES = [
    ("settings:routing", False),
    ("settings:routing-team", True),
    ("settings:teams", False),
    ("settings:team", True),
]


@pytest.mark.parametrize(("name", "needs_team"), PAGES)
def test_agents_get_403_and_change_nothing(
    name: str, needs_team: bool, agent: User, support_team: Team
) -> None:
    url = reverse(name, args=[support_team.pk] if needs_team else [])
    client = client_for(agent)

    assert client.get(url).status_code == 403
    assert client.post(url, routing_form() | {"name": "Hijack"}).status_code == 403
    assert not TeamRouting.objects.exists()
    assert not Team.objects.filter(name="Hijack").exists()


def test_agents_cannot_edit_agents_or_members(
    agent: User, teammate: User, support_team: Team
) -> None:
    client = client_for(agent)

    edit = client.post(
        reverse("settings:agent", args=[teammate.pk]),
        {"capacity": 99, "availability": "online"},
    )
    remove = client.post(
        reverse("settings:team-member-remove", args=[support_team.pk, teammate.pk])
    )

    assert (edit.status_code, remove.status_code) == (403, 403)
    teammate.refresh_from_db()
    assert teammate.capacity == 20
    assert teammate.teams.filter(pk=support_team.pk).exists()


def test_signed_out_visitors_go_to_the_login_page(support_team: Team) -> None:
    response = Client().get(reverse("settings:routing"))

    assert response.status_code == 302
    assert "/login" in response["Location"] or "login" in response["Location"]


# --- Routing ---------------------------------------------------------------------------------


def test_routing_page_lists_teams_with_their_queue(
    admin_client: Client, support_team: Team, open_in: Callable[..., Ticket]
) -> None:
    TeamRouting.objects.create(team=support_team, mode=TeamRouting.Mode.ROUND_ROBIN)
    open_in(support_team)
    open_in(support_team)

    response = admin_client.get(reverse("settings:routing"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Support" in page
    assert "Round-robin" in page
    assert f'data-queue="{support_team.pk}">2 waiting' in page


def test_admin_saves_a_teams_routing(
    admin_client: Client, support_team: Team, returns_team: Team
) -> None:
    response = admin_client.post(
        reverse("settings:routing-team", args=[support_team.pk]),
        routing_form(escalation_team=str(returns_team.pk), hand_back_on_offline="on"),
    )

    assert response.status_code == 302
    routing = TeamRouting.objects.get(team=support_team)
    assert (routing.mode, routing.match_skills, routing.match_language) == (
        "least_loaded",
        True,
        False,
    )
    assert routing.hand_back_on_offline is True
    assert routing.escalation_team == returns_team
    assert routing.capacity_statuses == ["new", "open"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mode": "random"}, "Select a valid choice"),
        ({"capacity_statuses": None}, "Choose at least one status."),
        ({"capacity_statuses": ["solved"]}, "Select a valid choice"),
        ({"escalation_team": "999999"}, "Select a valid choice"),
        ({"escalation_team": "SELF"}, "Select a valid choice"),
    ],
)
def test_bad_routing_input_is_a_400_with_the_reason(
    admin_client: Client, support_team: Team, overrides: dict[str, Any], message: str
) -> None:
    if overrides.get("escalation_team") == "SELF":
        overrides = {"escalation_team": str(support_team.pk)}
    response = admin_client.post(
        reverse("settings:routing-team", args=[support_team.pk]), routing_form(**overrides)
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TeamRouting.objects.filter(team=support_team).exclude(mode="off").exists()


def test_turning_routing_on_hands_out_the_waiting_tickets(
    admin_client: Client,
    support_team: Team,
    agent: User,
    open_in: Callable[..., Ticket],
    django_capture_on_commit_callbacks: Any,
) -> None:
    User.objects.filter(pk=agent.pk).update(availability="online")
    ticket = open_in(support_team)
    assert ticket.assignee is None

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("settings:routing-team", args=[support_team.pk]),
            routing_form(mode="round_robin"),
        )

    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_opening_a_teams_routing_changes_nothing(admin_client: Client, support_team: Team) -> None:
    response = admin_client.get(reverse("settings:routing-team", args=[support_team.pk]))

    assert response.status_code == 200
    assert '<option value="off" selected>' in response.content.decode()
    assert not TeamRouting.objects.exists()


def test_routing_page_of_an_unknown_team_is_404(admin_client: Client) -> None:
    assert admin_client.get(reverse("settings:routing-team", args=[999999])).status_code == 404


# --- Teams and agents ------------------------------------------------------------------------


def test_teams_page_lists_teams_members_and_agents(
    admin_client: Client, agent: User, teammate: User
) -> None:
    User.objects.filter(pk=agent.pk).update(skills=["refund"], languages=["en", "de"])

    page = admin_client.get(reverse("settings:teams")).content.decode()

    assert "Bob Agent, Carol Agent" in page
    assert "refund" in page
    assert "en, de" in page


def test_admin_creates_a_team(admin_client: Client) -> None:
    response = admin_client.post(reverse("settings:teams"), {"name": "Wholesale", "slug": ""})

    team = Team.objects.get(name="Wholesale")
    assert team.slug == "wholesale"
    assert response.status_code == 302
    assert response["Location"] == reverse("settings:team", args=[team.pk])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "slug": ""}, "This field is required."),
        ({"name": "Support", "slug": "other"}, "already exists"),
        ({"name": "Nouveau", "slug": "bad slug!"}, "Enter a valid"),
        ({"name": "!!!", "slug": ""}, "Give the team a slug"),
    ],
)
def test_bad_team_input_is_a_400_with_the_reason(
    admin_client: Client, support_team: Team, data: dict[str, str], message: str
) -> None:
    response = admin_client.post(reverse("settings:teams"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Team.objects.count() == 1


def test_admin_adds_and_removes_a_member(
    admin_client: Client, support_team: Team, other_agent: User
) -> None:
    url = reverse("settings:team", args=[support_team.pk])

    added = admin_client.post(url, {"agent": other_agent.pk})
    assert added.status_code == 302
    assert other_agent.teams.filter(pk=support_team.pk).exists()
    assert other_agent.teams.filter(slug="returns").exists()

    removed = admin_client.post(
        reverse("settings:team-member-remove", args=[support_team.pk, other_agent.pk])
    )
    assert removed.status_code == 302
    assert not other_agent.teams.filter(pk=support_team.pk).exists()
    assert other_agent.teams.filter(slug="returns").exists()


def test_adding_an_unknown_or_existing_member_is_a_400(
    admin_client: Client, support_team: Team, agent: User
) -> None:
    url = reverse("settings:team", args=[support_team.pk])

    assert admin_client.post(url, {"agent": agent.pk}).status_code == 400
    assert admin_client.post(url, {"agent": "nope"}).status_code == 400


def test_admin_edits_an_agents_capacity_skills_and_languages(
    admin_client: Client, agent: User
) -> None:
    response = admin_client.post(
        reverse("settings:agent", args=[agent.pk]),
        {
            "capacity": "7",
            "skills": "Refund, wholesale, refund",
            "languages": "EN, pt_BR",
            "availability": "away",
        },
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.capacity == 7
    assert agent.skills == ["refund", "wholesale"]
    assert agent.languages == ["en", "pt-br"]
    assert agent.availability == "away"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"capacity": "-1"}, "greater than or equal to 0"),
        ({"capacity": "many"}, "Enter a whole number."),
        ({"capacity": "100000"}, "less than or equal to 500"),
        ({"languages": "english!"}, "is not a language code"),
        ({"skills": "x" * 60}, "longer than 50 characters"),
        ({"availability": "asleep"}, "Select a valid choice"),
    ],
)
def test_bad_agent_input_is_a_400_with_the_reason(
    admin_client: Client, agent: User, data: dict[str, str], message: str
) -> None:
    form = {"capacity": "5", "skills": "", "languages": "", "availability": "online"} | data

    response = admin_client.post(reverse("settings:agent", args=[agent.pk]), form)

    assert response.status_code == 400
    assert message in response.content.decode()
    agent.refresh_from_db()
    assert agent.capacity == 20


def test_raising_capacity_hands_out_waiting_tickets(
    admin_client: Client,
    support_team: Team,
    agent: User,
    open_in: Callable[..., Ticket],
    django_capture_on_commit_callbacks: Any,
) -> None:
    TeamRouting.objects.create(team=support_team, mode=TeamRouting.Mode.ROUND_ROBIN)
    User.objects.filter(pk=agent.pk).update(availability="online", capacity=0)
    ticket = open_in(support_team)
    assert ticket.assignee is None

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("settings:agent", args=[agent.pk]),
            {"capacity": "3", "skills": "", "languages": "", "availability": "online"},
        )

    ticket.refresh_from_db()
    assert ticket.assignee == agent


# --- The availability switch -----------------------------------------------------------------


def test_the_workspace_shows_the_availability_switch(agent: User) -> None:
    page = client_for(agent).get(reverse("tickets:inbox")).content.decode()

    assert 'action="/settings/availability/"' in page
    assert '<option value="offline" selected>Offline</option>' in page


def test_agent_sets_their_own_availability(
    agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(agent)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("settings:availability"), {"availability": "online", "next": "/inbox/"}
        )

    assert response.status_code == 302
    assert response["Location"] == "/inbox/"
    agent.refresh_from_db()
    assert agent.availability == "online"
    assert len(callbacks) == 1


def test_availability_switch_over_htmx_returns_the_switch(agent: User) -> None:
    response = client_for(agent).post(
        reverse("settings:availability"),
        {"availability": "away", "next": "/inbox/?view=mine"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert '<option value="away" selected>Away</option>' in page
    # The swapped-in switch still brings a no-JavaScript post back to the agent's page.
    assert 'name="next" value="/inbox/?view=mine"' in page


@pytest.mark.parametrize("value", ["asleep", ""])
def test_bad_availability_is_a_400(agent: User, value: str) -> None:
    response = client_for(agent).post(reverse("settings:availability"), {"availability": value})

    assert response.status_code == 400
    agent.refresh_from_db()
    assert agent.availability == "offline"


def test_availability_switch_does_not_redirect_off_site(agent: User) -> None:
    response = client_for(agent).post(
        reverse("settings:availability"),
        {"availability": "online", "next": "https://evil.example/"},
    )

    assert response["Location"] == "/inbox/"


def test_availability_switch_needs_sign_in_and_post(agent: User) -> None:
    assert (
        Client().post(reverse("settings:availability"), {"availability": "online"}).status_code
        == 302
    )
    assert client_for(agent).get(reverse("settings:availability")).status_code == 405
