"""``manage.py telegram_set_webhook <slug>`` and the service behind it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from channels_inbox.adapters import ChannelError
from channels_inbox.models import ChannelAccount
from channels_inbox.telegram.services import set_webhook
from tests.channels_inbox.telegram.conftest import SECRET, SLUG, FakeTelegram, telegram_error

pytestmark = pytest.mark.django_db

PUBLIC = "https://help.shop.example"


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = PUBLIC


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("telegram_set_webhook", *args, stdout=out)
    return out.getvalue()


def test_the_command_points_the_bot_at_the_accounts_webhook(
    telegram_account: ChannelAccount, telegram: FakeTelegram
) -> None:
    output = run(SLUG)

    url = f"{PUBLIC}/webhooks/telegram/{SLUG}/"
    assert output == f"Telegram now posts the updates of {SLUG} to {url}\n"
    [call] = telegram.called("setWebhook")
    assert call.params == {"url": url, "secret_token": SECRET, "allowed_updates": ["message"]}


def test_telegrams_refusal_is_the_commands_error(
    telegram_account: ChannelAccount, telegram: FakeTelegram, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "http://help.shop.example"

    with pytest.raises(CommandError) as raised:
        run(SLUG)

    assert str(raised.value) == (
        "Telegram refused setWebhook (400): Bad Request: bad webhook: An HTTPS URL must be "
        "provided for webhook"
    )


def test_an_unreachable_telegram_is_a_transient_error(
    telegram_account: ChannelAccount, telegram: FakeTelegram
) -> None:
    telegram.answer("setWebhook", 502, telegram_error(502, "Bad Gateway"))

    with pytest.raises(ChannelError) as raised:
        set_webhook(telegram_account)

    assert raised.value.permanent is False


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"kind": "sms"}, f"{SLUG} is a sms account, not Telegram.", id="other kind"),
        pytest.param({"is_active": False}, f"{SLUG} is deactivated.", id="inactive"),
        pytest.param(
            {"credentials": {"bot_token": "1:abc"}},
            "The account needs the bot_token and secret_token credentials.",
            id="no secret",
        ),
        pytest.param(
            {"credentials": {"bot_token": "1:abc", "secret_token": "has spaces in it"}},
            "Telegram takes a secret_token of 1 to 256 characters A-Z, a-z, 0-9, _ and -.",
            id="secret Telegram refuses",
        ),
    ],
)
def test_an_account_that_cannot_have_a_webhook_is_refused_before_calling_telegram(
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    overrides: dict[str, Any],
    error: str,
) -> None:
    ChannelAccount.objects.filter(pk=telegram_account.pk).update(**overrides)

    with pytest.raises(CommandError) as raised:
        run(SLUG)

    assert str(raised.value) == error
    assert telegram.calls == []


def test_an_unknown_slug_is_refused(telegram: FakeTelegram) -> None:
    with pytest.raises(CommandError) as raised:
        run("no-such-bot")

    assert str(raised.value) == "No channel account with slug 'no-such-bot'."
