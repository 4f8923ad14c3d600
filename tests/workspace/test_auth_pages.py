"""Signing in and out, resetting a password, and who may open the workspace at all."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from helpdesk.models import User
from tickets.models import Ticket

WORKSPACE_PAGES = ["/inbox/", "/inbox/list/", "/inbox/counts/"]


def test_the_old_sign_in_address_redirects_to_the_new_one_with_its_query(db: None) -> None:
    response = Client().get("/login/?next=/inbox/%3Fview%3Dpending")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/inbox/%3Fview%3Dpending"


def test_front_door_leads_to_the_inbox(client: Client, db: None) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/inbox/"


@pytest.mark.parametrize("path", WORKSPACE_PAGES)
def test_visitors_are_sent_to_sign_in(client: Client, db: None, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_visitors_cannot_open_a_ticket_or_its_fragments(client: Client, ticket: Ticket) -> None:
    for path in (f"/tickets/{ticket.number}/", f"/tickets/{ticket.number}/live/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("compose", {"mode": "reply", "text": "Hello"}),
        ("status", {"status": "solved"}),
        ("priority", {"priority": "urgent"}),
        ("tags", {"add": "vip"}),
    ],
)
def test_visitors_change_nothing(client: Client, ticket: Ticket, path: str, data: Any) -> None:
    response = client.post(f"/tickets/{ticket.number}/{path}/", data)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("new", "normal")
    assert ticket.messages.count() == 1
    assert ticket.tags.count() == 0


def test_agent_signs_in_and_lands_on_the_inbox(client: Client, agent: User) -> None:
    response = client.post("/accounts/login/", {"username": "bob", "password": "pw"}, follow=True)

    assert response.redirect_chain == [("/inbox/", 302)]
    assert b'<h1 id="list-title" class="list-title">Mine</h1>' in response.content


def test_sign_in_follows_next_to_the_page_asked_for(client: Client, agent: User) -> None:
    response = client.post(
        "/accounts/login/?next=/inbox/%3Fview%3Dpending",
        {"username": "bob", "password": "pw", "next": "/inbox/?view=pending"},
    )

    assert response["Location"] == "/inbox/?view=pending"


@pytest.mark.parametrize(("username", "password"), [("bob", "wrong"), ("erin", "pw"), ("", "")])
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

    assert response["Location"] == "/accounts/login/"
    assert client.get("/inbox/").status_code == 302


def test_a_sign_in_lasts_a_working_day_by_default() -> None:
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60


def test_signed_in_session_cookie_expires_with_the_timeout(client: Client, agent: User) -> None:
    client.post("/accounts/login/", {"username": "bob", "password": "pw"})

    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert client.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE


def test_password_reset_mails_a_link_that_sets_a_new_password(client: Client, agent: User) -> None:
    page = client.get("/accounts/login/")
    assert b'href="/accounts/password_reset/"' in page.content

    response = client.post("/accounts/password_reset/", {"email": "bob@shop.test"})

    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bob@shop.test"]
    assert message.subject == "Reset your Switchboard password"
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", str(message.body))
    assert link is not None
    # Django swaps the token for a session key on the first visit.
    form = client.get(link.group(1), follow=True)
    assert b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-much-better-secret-42", "new_password2": "a-much-better-secret-42"},
    )
    assert done["Location"] == "/accounts/reset/done/"
    assert User.objects.get(username="bob").check_password("a-much-better-secret-42")


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(
    client: Client, agent: User
) -> None:
    response = client.post("/accounts/password_reset/", {"email": "nobody@shop.test"})

    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_a_used_or_forged_reset_link_says_so(client: Client, agent: User) -> None:
    response = client.get("/accounts/reset/Mg/set-password/", follow=True)

    assert response.status_code == 200
    assert b"This link no longer works" in response.content
