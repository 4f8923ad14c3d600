from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.models import User


def test_home_sends_visitors_to_sign_in(client: Client, db: None) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_login_page_renders_a_labelled_form(client: Client, db: None) -> None:
    response = client.get("/login/")

    assert response.status_code == 200
    assert b'<label for="id_username">Username</label>' in response.content
    assert b'autocomplete="current-password"' in response.content


def test_agent_signs_in_and_lands_on_home(client: Client, agent: User) -> None:
    response = client.post("/login/", {"username": "bob", "password": "pw"}, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert b"Hello, Bob Agent" in response.content
    assert b"/api/v1/docs/" in response.content
    # Agents are not admins: no way into the Django admin is offered.
    assert b"/admin/" not in response.content


def test_admin_home_links_to_administration(client: Client, admin: User) -> None:
    client.force_login(admin)

    response = client.get("/")

    assert b'href="/admin/"' in response.content


@pytest.mark.parametrize(
    ("username", "password"), [("bob", "wrong"), ("nobody", "pw"), ("", ""), ("erin", "pw")]
)
def test_bad_credentials_are_refused_with_a_message(
    client: Client, agent: User, inactive_agent: User, username: str, password: str
) -> None:
    response = client.post("/login/", {"username": username, "password": password})

    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert "_auth_user_id" not in client.session


def test_sign_out_ends_the_session(client: Client, agent: User) -> None:
    client.force_login(agent)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
