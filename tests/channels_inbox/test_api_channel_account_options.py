"""/api/v1/channel-accounts/ options: read and written by admins, checked per kind, shown
in every answer, while credentials never are."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount
from helpdesk.models import User
from tests.conftest import api_client_for

ACCOUNTS = "/api/v1/channel-accounts/"


def test_admin_creates_an_email_account_with_options(admin_client_api: APIClient) -> None:
    response = admin_client_api.post(
        ACCOUNTS,
        {
            "kind": "email",
            "name": "Sales",
            "slug": "sales",
            "address": "sales@shop.test",
            "options": {"smtp_host": "smtp.shop.test", "smtp_security": "TLS", "verp": False},
            "credentials": {"smtp_password": "smtp-secret-4242"},
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["options"] == {"smtp_host": "smtp.shop.test", "smtp_security": "tls", "verp": False}
    assert body["credential_keys"] == ["smtp_password"]
    assert b"smtp-secret-4242" not in response.content
    account = ChannelAccount.objects.get(pk=body["id"])
    assert account.options == body["options"]
    assert account.credentials == {"smtp_password": "smtp-secret-4242"}


def test_options_are_shown_and_credentials_are_not(
    admin_client_api: APIClient, email_account: ChannelAccount
) -> None:
    ChannelAccount.objects.filter(pk=email_account.pk).update(
        options={"sender_rate_limit": 5, "imap_host": "imap.shop.test"}
    )

    listed = admin_client_api.get(ACCOUNTS)
    one = admin_client_api.get(f"{ACCOUNTS}{email_account.pk}/")

    for row in (listed.json()["results"][0], one.json()):
        assert row["options"] == {"sender_rate_limit": 5, "imap_host": "imap.shop.test"}
        assert "credentials" not in row
    assert b"mailbox-secret" not in listed.content + one.content


def test_admin_updates_options_and_leaving_them_out_keeps_them(
    admin_client_api: APIClient, email_account: ChannelAccount
) -> None:
    url = f"{ACCOUNTS}{email_account.pk}/"

    replaced = admin_client_api.patch(url, {"options": {"subject_window_days": 3}}, format="json")
    renamed = admin_client_api.patch(url, {"name": "Support desk"}, format="json")

    assert replaced.status_code == 200
    assert replaced.json()["options"] == {"subject_window_days": 3}
    assert renamed.json()["options"] == {"subject_window_days": 3}
    email_account.refresh_from_db()
    assert email_account.options == {"subject_window_days": 3}
    assert email_account.credentials == {"password": "mailbox-secret"}


@pytest.mark.parametrize(
    ("kind", "options", "messages"),
    [
        ("email", {"smtp_port": "587"}, ["smtp_port must be a whole number from 1 to 65535."]),
        ("email", {"verp": "no"}, ["verp must be true or false."]),
        (
            "email",
            {"imap_password": "imap-secret"},
            ["'imap_password' is a secret: put it in the credentials, not the options."],
        ),
        ("email", ["verp"], ["Options must be a JSON object."]),
        ("email", None, ["This field may not be null."]),
        (
            "telegram",
            {"verp": True},
            ["Unknown option 'verp': telegram accounts take no options."],
        ),
    ],
)
def test_bad_options_are_a_400_with_the_field_message(
    admin_client_api: APIClient,
    email_account: ChannelAccount,
    kind: str,
    options: Any,
    messages: list[str],
) -> None:
    created = admin_client_api.post(
        ACCOUNTS,
        {"kind": kind, "name": "New", "slug": "new", "options": options},
        format="json",
    )

    assert created.status_code == 400
    assert created.json() == {"options": messages}
    assert not ChannelAccount.objects.filter(slug="new").exists()
    if kind == "email":
        updated = admin_client_api.patch(
            f"{ACCOUNTS}{email_account.pk}/", {"options": options}, format="json"
        )
        assert updated.status_code == 400
        assert updated.json() == {"options": messages}
        email_account.refresh_from_db()
        assert email_account.options == {}


def test_options_are_checked_against_a_new_kind(
    admin_client_api: APIClient, email_account: ChannelAccount
) -> None:
    url = f"{ACCOUNTS}{email_account.pk}/"
    admin_client_api.patch(url, {"options": {"verp": False}}, format="json")

    kept = admin_client_api.patch(url, {"kind": "telegram", "address": ""}, format="json")
    given = admin_client_api.patch(
        url, {"kind": "telegram", "address": "", "options": {"verp": False}}, format="json"
    )

    for response in (kept, given):
        assert response.status_code == 400
        assert response.json() == {
            "options": ["Unknown option 'verp': telegram accounts take no options."]
        }
    email_account.refresh_from_db()
    assert (email_account.kind, email_account.options) == ("email", {"verp": False})


@pytest.mark.parametrize("actor", ["agent", "teammate"])
def test_agents_get_403_and_options_stay(
    request: pytest.FixtureRequest, email_account: ChannelAccount, actor: str
) -> None:
    client = api_client_for(request.getfixturevalue(actor))

    response = client.patch(
        f"{ACCOUNTS}{email_account.pk}/", {"options": {"verp": False}}, format="json"
    )
    created = client.post(
        ACCOUNTS,
        {"kind": "email", "name": "Shadow", "slug": "shadow", "options": {"verp": False}},
        format="json",
    )

    assert (response.status_code, created.status_code) == (403, 403)
    email_account.refresh_from_db()
    assert email_account.options == {}
    assert not ChannelAccount.objects.filter(slug="shadow").exists()


def test_an_inactive_admin_cannot_read_options(email_account: ChannelAccount) -> None:
    former = User.objects.create_user("zoe", role=User.Role.ADMIN, is_active=False)

    response = api_client_for(former).get(f"{ACCOUNTS}{email_account.pk}/")

    assert response.status_code == 403
