"""/api/v1/channel-accounts/: admins only; credentials go in and never come out."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount
from helpdesk.models import Team, User
from tests.conftest import api_client_for

ACCOUNTS = "/api/v1/channel-accounts/"
SECRETS = ("mailbox-secret", "wa-secret-token", "wa-app-secret")
NEW_SECRET = "EAAG-very-secret-token-4242"


def _accounts_state() -> list[tuple[Any, ...]]:
    return list(
        ChannelAccount.objects.order_by("pk").values_list(
            "pk", "kind", "name", "slug", "address", "credentials", "default_team", "is_active"
        )
    )


def _assert_no_secret(content: bytes, *secrets: str) -> None:
    for secret in (*SECRETS, NEW_SECRET, *secrets):
        assert secret.encode() not in content


@pytest.fixture
def accounts(
    email_account: ChannelAccount, whatsapp_account: ChannelAccount
) -> dict[str, ChannelAccount]:
    return {"email": email_account, "whatsapp": whatsapp_account}


def test_admin_lists_accounts_without_their_credentials(
    admin_client_api: APIClient, accounts: dict[str, ChannelAccount], support_team: Team
) -> None:
    response = admin_client_api.get(ACCOUNTS)

    assert response.status_code == 200
    _assert_no_secret(response.content)
    results = response.json()["results"]
    whatsapp = accounts["whatsapp"]
    assert [row["id"] for row in results] == [whatsapp.pk, accounts["email"].pk]
    assert results[0] == {
        "id": whatsapp.pk,
        "kind": "whatsapp",
        "name": "WhatsApp",
        "slug": "whatsapp-main",
        "address": "+14155550100",
        "default_team": support_team.pk,
        "is_active": True,
        "options": {},
        "webhook_url": "http://127.0.0.1:8000/webhooks/whatsapp/whatsapp-main/",
        "has_credentials": True,
        "credential_keys": ["access_token", "app_secret"],
        "created_at": results[0]["created_at"],
        "updated_at": results[0]["updated_at"],
    }


def test_admin_reads_one_account_without_its_credentials(
    admin_client_api: APIClient, accounts: dict[str, ChannelAccount]
) -> None:
    response = admin_client_api.get(f"{ACCOUNTS}{accounts['email'].pk}/")

    assert response.status_code == 200
    _assert_no_secret(response.content)
    assert response.json()["credential_keys"] == ["password"]
    assert "credentials" not in response.json()


def test_the_browsable_api_never_shows_credentials(
    admin_client_api: APIClient, accounts: dict[str, ChannelAccount]
) -> None:
    """The HTML pages hold forms prefilled from the account; no secret may be among them."""
    listing = admin_client_api.get(ACCOUNTS, HTTP_ACCEPT="text/html")
    detail = admin_client_api.get(f"{ACCOUNTS}{accounts['whatsapp'].pk}/", HTTP_ACCEPT="text/html")

    assert (listing.status_code, detail.status_code) == (200, 200)
    assert b"whatsapp-main" in detail.content
    _assert_no_secret(listing.content)
    _assert_no_secret(detail.content)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "email"}, ["email"]),
        ({"is_active": "false"}, ["chat"]),
        ({"is_active": "true"}, ["whatsapp", "email"]),
    ],
)
def test_account_filters(
    admin_client_api: APIClient,
    accounts: dict[str, ChannelAccount],
    query: dict[str, str],
    expected: list[str],
) -> None:
    chat = ChannelAccount.objects.create(kind="chat", name="Widget", slug="widget", is_active=False)
    by_kind = {**accounts, "chat": chat}

    response = admin_client_api.get(ACCOUNTS, query)

    assert [row["id"] for row in response.json()["results"]] == [by_kind[k].pk for k in expected]


@pytest.mark.parametrize(
    ("query", "field"), [({"kind": "fax"}, "kind"), ({"is_active": "x"}, "is_active")]
)
def test_bad_account_filters_are_a_400(
    admin_client_api: APIClient, query: dict[str, str], field: str
) -> None:
    response = admin_client_api.get(ACCOUNTS, query)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("page_size", [5, 50])
def test_account_list_query_count_does_not_grow_with_the_page(
    admin_client_api: APIClient, support_team: Team, django_assert_num_queries: Any, page_size: int
) -> None:
    for number in range(60):
        ChannelAccount.objects.create(
            kind="telegram",
            name=f"Bot {number}",
            slug=f"bot-{number}",
            credentials={"bot_token": f"token-{number}"},
            default_team=support_team,
        )

    with django_assert_num_queries(1):
        response = admin_client_api.get(ACCOUNTS, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


def test_admin_creates_an_account_and_the_answer_has_no_secret(
    admin_client_api: APIClient, support_team: Team
) -> None:
    response = admin_client_api.post(
        ACCOUNTS,
        {
            "kind": "whatsapp",
            "name": "WhatsApp EU",
            "slug": "whatsapp-eu",
            "address": "+49 151 1234 5678",
            "credentials": {"access_token": NEW_SECRET, "phone_number_id": "1055"},
            "default_team": support_team.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    _assert_no_secret(response.content, "1055")
    body = response.json()
    assert body["webhook_url"] == "http://127.0.0.1:8000/webhooks/whatsapp/whatsapp-eu/"
    assert body["credential_keys"] == ["access_token", "phone_number_id"]
    account = ChannelAccount.objects.get(pk=body["id"])
    assert account.address == "+4915112345678"
    assert account.credentials == {"access_token": NEW_SECRET, "phone_number_id": "1055"}
    assert account.is_active is True


def test_an_account_without_credentials(admin_client_api: APIClient, db: None) -> None:
    response = admin_client_api.post(
        ACCOUNTS, {"kind": "chat", "name": "Widget", "slug": "widget"}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["has_credentials"], response.json()["credential_keys"]) == (False, [])


def test_an_update_without_credentials_keeps_them(
    admin_client_api: APIClient, accounts: dict[str, ChannelAccount]
) -> None:
    account = accounts["whatsapp"]

    response = admin_client_api.patch(f"{ACCOUNTS}{account.pk}/", {"name": "WhatsApp US"})

    assert response.status_code == 200
    _assert_no_secret(response.content)
    account.refresh_from_db()
    assert account.name == "WhatsApp US"
    assert account.credentials == {"access_token": "wa-secret-token", "app_secret": "wa-app-secret"}


def test_an_update_with_credentials_replaces_them(
    admin_client_api: APIClient, accounts: dict[str, ChannelAccount]
) -> None:
    account = accounts["whatsapp"]

    response = admin_client_api.patch(
        f"{ACCOUNTS}{account.pk}/", {"credentials": {"access_token": NEW_SECRET}}, format="json"
    )

    assert response.status_code == 200
    _assert_no_secret(response.content)
    assert response.json()["credential_keys"] == ["access_token"]
    account.refresh_from_db()
    assert account.credentials == {"access_token": NEW_SECRET}


def test_delete_deactivates_and_the_account_stays(
    admin_client_api: APIClient, accounts: dict[str, ChannelAccount]
) -> None:
    account = accounts["email"]

    response = admin_client_api.delete(f"{ACCOUNTS}{account.pk}/")

    assert response.status_code == 204
    account.refresh_from_db()
    assert account.is_active is False
    assert account.credentials == {"password": "mailbox-secret"}


def test_credentials_are_in_neither_repr_nor_str(accounts: dict[str, ChannelAccount]) -> None:
    for account in accounts.values():
        for text in (repr(account), str(account)):
            assert not any(secret in text for secret in SECRETS)
    assert repr(accounts["email"]) == f"<ChannelAccount {accounts['email'].pk} email support-mail>"
    assert str(accounts["email"]) == "Support mailbox (Email)"


@pytest.mark.parametrize("actor", ["agent", "teammate", "other_agent"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", ACCOUNTS, None),
        ("get", "{whatsapp}", None),
        ("post", ACCOUNTS, {"kind": "chat", "name": "Shadow", "slug": "shadow"}),
        ("patch", "{whatsapp}", {"credentials": {"access_token": "stolen"}}),
        ("patch", "{whatsapp}", {"default_team": None}),
        ("delete", "{whatsapp}", None),
    ],
)
def test_agents_get_403_on_every_method_and_nothing_changes(
    request: pytest.FixtureRequest,
    accounts: dict[str, ChannelAccount],
    actor: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    client = api_client_for(request.getfixturevalue(actor))
    before = _accounts_state()

    url = path.format(whatsapp=f"{ACCOUNTS}{accounts['whatsapp'].pk}/")
    response = getattr(client, method)(url, body, format="json")

    assert response.status_code == 403
    _assert_no_secret(response.content)
    assert _accounts_state() == before


def test_an_inactive_admin_is_refused(accounts: dict[str, ChannelAccount]) -> None:
    former = User.objects.create_user("zoe", role=User.Role.ADMIN, is_active=False)

    response = api_client_for(former).get(ACCOUNTS)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        (["wa-secret-token"], "Credentials must be an object of string values."),
        ("wa-secret-token", "Credentials must be an object of string values."),
        (None, None),
        ({"access_token": 4242}, "The value of 'access_token' must be a string."),
        ({"access_token": True}, "The value of 'access_token' must be a string."),
        ({"access_token": None}, "The value of 'access_token' must be a string."),
        (
            {"access_token": {"value": "wa-secret-token"}},
            "The value of 'access_token' must be a string.",
        ),
        ({"access_token": ["wa-secret-token"]}, "The value of 'access_token' must be a string."),
        ({"": "wa-secret-token"}, "Credential names are 1 to 100 characters."),
        ({"k" * 101: "wa-secret-token"}, "Credential names are 1 to 100 characters."),
        ({"token": "x" * 10_001}, "The value of 'token' is too long."),
    ],
)
def test_malformed_credentials_are_a_400_that_echoes_no_secret(
    admin_client_api: APIClient,
    accounts: dict[str, ChannelAccount],
    credentials: Any,
    message: str | None,
) -> None:
    before = _accounts_state()

    created = admin_client_api.post(
        ACCOUNTS,
        {"kind": "chat", "name": "Widget", "slug": "widget", "credentials": credentials},
        format="json",
    )
    updated = admin_client_api.patch(
        f"{ACCOUNTS}{accounts['whatsapp'].pk}/", {"credentials": credentials}, format="json"
    )

    for response in (created, updated):
        assert response.status_code == 400
        assert list(response.json()) == ["credentials"]
        if message is not None:
            assert response.json()["credentials"] == [message]
        _assert_no_secret(response.content)
    assert _accounts_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"secret": "x"}, "secret"),
        ({"webhook_url": "https://evil.test/"}, "webhook_url"),
        ({"has_credentials": False}, "has_credentials"),
        ({"kind": "fax"}, "kind"),
        ({"kind": "whatsapp", "address": "not a number"}, "address"),
        ({"kind": "email", "address": "support at shop"}, "address"),
        ({"slug": "whatsapp-main"}, "slug"),
        ({"slug": "has spaces"}, "slug"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"default_team": 999999}, "default_team"),
        ({"default_team": "support"}, "default_team"),
        ({"is_active": "sometimes"}, "is_active"),
    ],
)
def test_bad_account_input_is_a_400_naming_the_field(
    admin_client_api: APIClient,
    accounts: dict[str, ChannelAccount],
    body: dict[str, Any],
    field: str,
) -> None:
    before = _accounts_state()
    full = {"kind": "chat", "name": "Widget", "slug": "widget", **body}

    response = admin_client_api.post(ACCOUNTS, full, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _accounts_state() == before


def test_changing_the_kind_checks_the_stored_address(
    admin_client_api: APIClient, accounts: dict[str, ChannelAccount]
) -> None:
    """An email mailbox's address is no phone number, so it cannot just become SMS."""
    before = _accounts_state()

    response = admin_client_api.patch(f"{ACCOUNTS}{accounts['email'].pk}/", {"kind": "sms"})

    assert response.status_code == 400
    assert list(response.json()) == ["address"]
    assert _accounts_state() == before


@pytest.mark.parametrize("path", ["999999/", "abc/", f"{10**30}/"])
def test_unknown_account_is_a_404(admin_client_api: APIClient, db: None, path: str) -> None:
    assert admin_client_api.get(f"{ACCOUNTS}{path}").status_code == 404
    assert admin_client_api.patch(f"{ACCOUNTS}{path}", {"name": "X"}).status_code == 404
    assert admin_client_api.delete(f"{ACCOUNTS}{path}").status_code == 404
