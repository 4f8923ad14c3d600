"""Saving a Telegram account in the Django admin points its bot at the webhook, and says
how that went; the account is saved whatever Telegram answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from channels_inbox.models import ChannelAccount
from helpdesk.models import Team, User
from tests.channels_inbox.telegram.conftest import (
    BOT_TOKEN,
    SECRET,
    SLUG,
    FakeTelegram,
    telegram_error,
)

pytestmark = pytest.mark.django_db

PUBLIC = "https://help.shop.example"
WEBHOOK = f"{PUBLIC}/webhooks/telegram/{SLUG}/"


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture
def admin_client(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


def flashed(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def account_form(team: Team, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "telegram",
        "name": "Shop bot",
        "slug": SLUG,
        "address": "shop_help_bot",
        "default_team": team.pk,
        "is_active": "on",
        "options": "{}",
        "new_credentials": json.dumps({"bot_token": BOT_TOKEN, "secret_token": SECRET}),
        "_save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_adding_a_telegram_account_sets_its_webhook(
    admin_client: Client, support_team: Team, telegram: FakeTelegram
) -> None:
    response = admin_client.post(
        reverse("admin:channels_inbox_channelaccount_add"), account_form(support_team)
    )

    assert response.status_code == 302
    assert ChannelAccount.objects.get().slug == SLUG
    [call] = telegram.called("setWebhook")
    assert call.params == {"url": WEBHOOK, "secret_token": SECRET, "allowed_updates": ["message"]}
    assert f"Telegram now posts the bot's updates to {WEBHOOK}." in flashed(response)


def test_telegrams_refusal_is_reported_and_the_account_is_saved(
    admin_client: Client,
    telegram_account: ChannelAccount,
    support_team: Team,
    telegram: FakeTelegram,
) -> None:
    telegram.answer("setWebhook", 401, telegram_error(401, "Unauthorized"))

    response = admin_client.post(
        reverse("admin:channels_inbox_channelaccount_change", args=[telegram_account.pk]),
        account_form(support_team, name="Shop help bot", new_credentials=None),
    )

    assert response.status_code == 302
    telegram_account.refresh_from_db()
    assert telegram_account.name == "Shop help bot"
    [error] = [message for message in flashed(response) if "webhook" in message]
    assert error.startswith("Saved, but Telegram's webhook was not set: ")
    assert "Unauthorized" in error


def test_an_account_without_its_secret_token_is_saved_with_the_reason(
    admin_client: Client, support_team: Team, telegram: FakeTelegram
) -> None:
    response = admin_client.post(
        reverse("admin:channels_inbox_channelaccount_add"),
        account_form(support_team, new_credentials=json.dumps({"bot_token": BOT_TOKEN})),
    )

    assert response.status_code == 302
    assert ChannelAccount.objects.filter(slug=SLUG).exists()
    assert telegram.called("setWebhook") == []
    assert (
        "Saved, but Telegram's webhook was not set: The account needs the bot_token and "
        "secret_token credentials." in flashed(response)
    )


def test_a_deactivated_account_is_left_alone(
    admin_client: Client,
    telegram_account: ChannelAccount,
    support_team: Team,
    telegram: FakeTelegram,
) -> None:
    response = admin_client.post(
        reverse("admin:channels_inbox_channelaccount_change", args=[telegram_account.pk]),
        account_form(support_team, is_active=None, new_credentials=None),
    )

    assert response.status_code == 302
    telegram_account.refresh_from_db()
    assert telegram_account.is_active is False
    assert telegram.called("setWebhook") == []
