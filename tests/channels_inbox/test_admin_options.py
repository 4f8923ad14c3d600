"""The Django admin shows and edits an account's options, checked for its kind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from channels_inbox.models import ChannelAccount
from helpdesk.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


def change_url(account: ChannelAccount) -> str:
    return reverse("admin:channels_inbox_channelaccount_change", args=[account.pk])


def form_data(account: ChannelAccount, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": account.kind,
        "name": account.name,
        "slug": account.slug,
        "address": account.address,
        "default_team": account.default_team_id or "",
        "is_active": "on",
        "options": json.dumps(account.options),
        "new_credentials": "",
        "_save": "Save",
    }
    data.update(overrides)
    # A browser posts an empty textarea as "": the options box is always sent.
    return {key: value for key, value in data.items() if value != "" or key == "options"}


def test_the_change_page_shows_the_options_but_not_the_secrets(
    staff_client: Client, email_account: ChannelAccount
) -> None:
    ChannelAccount.objects.filter(pk=email_account.pk).update(
        options={"smtp_host": "smtp.shop.test"}
    )

    page = staff_client.get(change_url(email_account)).content.decode()

    assert 'name="options"' in page
    assert "smtp.shop.test" in page
    assert "mailbox-secret" not in page


def test_options_are_saved_cleaned_and_credentials_kept(
    staff_client: Client, email_account: ChannelAccount
) -> None:
    options = '{"smtp_security": "TLS", "sender_rate_limit": 40}'

    response = staff_client.post(
        change_url(email_account), form_data(email_account, options=options)
    )

    assert response.status_code == 302
    email_account.refresh_from_db()
    assert email_account.options == {"smtp_security": "tls", "sender_rate_limit": 40}
    assert email_account.credentials == {"password": "mailbox-secret"}


def test_a_blank_options_box_is_no_options(
    staff_client: Client, email_account: ChannelAccount
) -> None:
    ChannelAccount.objects.filter(pk=email_account.pk).update(options={"verp": False})
    email_account.refresh_from_db()

    response = staff_client.post(change_url(email_account), form_data(email_account, options=""))

    assert response.status_code == 302
    email_account.refresh_from_db()
    assert email_account.options == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ('{"smtp_port": 0}', "smtp_port must be from 1 to 65535."),
        (
            '{"smtp_password": "hunter2"}',
            "&#x27;smtp_password&#x27; is a secret: put it in the credentials, not the options.",
        ),
        ('["verp"]', "Options must be a JSON object."),
        ("{not json", "Enter a valid JSON."),
    ],
)
def test_bad_options_are_a_form_error_and_nothing_changes(
    staff_client: Client, email_account: ChannelAccount, options: str, message: str
) -> None:
    response = staff_client.post(
        change_url(email_account), form_data(email_account, options=options, name="Renamed")
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    email_account.refresh_from_db()
    assert (email_account.name, email_account.options) == ("Support mailbox", {})


def test_an_account_is_added_with_options(staff_client: Client, support_team: Any) -> None:
    response = staff_client.post(
        reverse("admin:channels_inbox_channelaccount_add"),
        {
            "kind": "email",
            "name": "Sales",
            "slug": "sales",
            "address": "sales@shop.test",
            "default_team": support_team.pk,
            "is_active": "on",
            "options": '{"imap_host": "imap.shop.test", "imap_ssl": true}',
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    account = ChannelAccount.objects.get(slug="sales")
    assert account.options == {"imap_host": "imap.shop.test", "imap_ssl": True}
    assert account.credentials == {}


def test_an_agent_cannot_open_the_change_page(
    client: Client, email_account: ChannelAccount, agent: User
) -> None:
    client.force_login(agent)

    response = client.get(change_url(email_account))

    assert response.status_code in (302, 403)
    assert "mailbox-secret" not in response.content.decode()
