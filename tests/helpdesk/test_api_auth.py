"""Who may call the API at all: signed-in agents and admins, by session or by token."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from helpdesk.models import Team, User

LIST_ENDPOINTS = [
    "/api/v1/teams/",
    "/api/v1/agents/",
    "/api/v1/agents/me/",
    "/api/v1/customers/",
    "/api/v1/customer-merges/",
    "/api/v1/orders/",
    "/api/v1/channel-accounts/",
]
WRITES = [
    ("post", "/api/v1/teams/", {"name": "Intruders"}),
    ("post", "/api/v1/agents/", {"username": "intruder"}),
    ("patch", "/api/v1/agents/me/", {"availability": "online"}),
    ("post", "/api/v1/customers/", {"name": "Intruder"}),
    ("post", "/api/v1/channel-accounts/", {"kind": "chat", "name": "X", "slug": "x"}),
]


def _token_for(username: str) -> str:
    """The key printed by ``manage.py drf_create_token <username>``."""
    out = io.StringIO()
    call_command("drf_create_token", username, stdout=out)
    match = re.search(r"Generated token (\w+) for user", out.getvalue())
    assert match is not None, out.getvalue()
    return match.group(1)


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_anonymous_reads_are_refused(anonymous_client: APIClient, db: None, path: str) -> None:
    response = anonymous_client.get(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_anonymous_writes_are_refused_and_change_nothing(
    anonymous_client: APIClient, db: None, method: str, path: str, body: dict[str, str]
) -> None:
    response = getattr(anonymous_client, method)(path, body, format="json")

    assert response.status_code == 401
    assert Team.objects.count() == 0
    assert User.objects.count() == 0


def test_drf_create_token_gives_a_working_token(agent: User) -> None:
    key = _token_for("bob")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.get("/api/v1/agents/me/")

    assert Token.objects.get(user=agent).key == key
    assert response.status_code == 200
    assert response.json()["username"] == "bob"


def test_token_auth_writes_without_a_csrf_token(admin: User) -> None:
    """Scripts use tokens; CSRF protects cookies, not Authorization headers."""
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token_for('alice')}")

    response = client.post("/api/v1/teams/", {"name": "Night shift"}, format="json")

    assert response.status_code == 201
    assert Team.objects.filter(name="Night shift").count() == 1


@pytest.mark.parametrize("header", ["Token wrong-key", "Token", "Bearer abc", "Token a b"])
def test_a_bad_token_is_refused(agent: User, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/agents/me/")

    assert response.status_code == 401


def test_a_deactivated_agents_token_stops_working(admin_client_api: APIClient, agent: User) -> None:
    key = _token_for("bob")
    admin_client_api.delete(f"/api/v1/agents/{agent.pk}/")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.get("/api/v1/agents/me/")

    assert response.status_code == 401


def test_session_auth_reads(agent: User) -> None:
    client = APIClient()
    assert client.login(username="bob", password="pw")

    response = client.get("/api/v1/agents/me/")

    assert response.status_code == 200
    assert response.json()["id"] == agent.pk


def test_session_writes_need_the_csrf_token(admin: User) -> None:
    """A cookie alone cannot write: another site could make the browser send it."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin)

    response = client.post("/api/v1/teams/", {"name": "Forged"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Team.objects.count() == 0
