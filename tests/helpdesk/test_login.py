from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.models import User


def test_home_sends_visitors_to_sign_in(client: Client, db: None) -> None:
    response = client.get("/", follow=True)

    assert response.redirect_chain == [
        ("/inbox/", 302),
        ("/accounts/login/?next=/inbox/", 302),
    ]


def test_login_page_renders_a_labelled_form(client: Client, db: None) -> None:
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b'<label for="id_username">Username</label>' in response.content
    assert b'autocomplete="current-password"' in response.content


def test_agent_signs_in_and_lands_on_the_inbox(client: Client, agent: User) -> None:
    response = client.post("/accounts/login/", {"username": "bob", "password": "pw"}, follow=True)

    assert response.redirect_chain == [("/inbox/", 302)]
    assert b"Bob Agent" in response.content
    assert b"/api/v1/docs/" in response.content
    # Agents are not admins: no way into the Django admin is offered.
    assert b'href="/admin/"' not in response.content


def test_admin_is_offered_the_administration(client: Client, admin: User) -> None:
    client.force_login(admin)

    response = client.get("/inbox/")

    assert b'href="/admin/"' in response.content


@pytest.mark.parametrize(
    ("username", "password"), [("bob", "wrong"), ("nobody", "pw"), ("", ""), ("erin", "pw")]
)
def test_bad_credentials_are_refused_with_a_message(
    client: Client, agent: User, inactive_agent: User, username: str, password: str
) -> None:
    response = client.post("/accounts/login/", {"username": username, "password": password})

    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert "_auth_user_id" not in client.session


def test_sign_out_ends_the_session(client: Client, agent: User) -> None:
    client.force_login(agent)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
