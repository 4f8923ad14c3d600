"""Setting up a Telegram account's bot: pointing its webhook at us.

``set_webhook`` is what ``manage.py telegram_set_webhook <slug>`` runs, and what the admin
runs when it saves a Telegram account. Telegram then posts the bot's updates to the
account's ``webhook_url`` (from ``PUBLIC_BASE_URL``, which must be https for Telegram to
accept it) with the account's ``secret_token``, and only the update types the adapter takes
in: the others would be stored only to be ignored.
"""

from __future__ import annotations

import re

from channels_inbox.adapters.base import ChannelError
from channels_inbox.adapters.inbound import credential
from channels_inbox.models import ChannelAccount
from channels_inbox.telegram.api import BotApi
from helpdesk.channel_kinds import ChannelKind

ALLOWED_UPDATES = ("message",)
# What Telegram accepts as a secret_token.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def set_webhook(account: ChannelAccount) -> str:
    """Have Telegram post the account's updates to its webhook URL; returns the URL.

    ChannelError (permanent) when the account cannot have one (another kind, inactive,
    credentials missing or a secret_token Telegram would refuse) or Telegram refuses,
    with Telegram's reason; transient when Telegram cannot be reached."""
    if account.kind != ChannelKind.TELEGRAM:
        raise ChannelError(
            f"{account.slug} is a {account.kind} account, not Telegram.", permanent=True
        )
    if not account.is_active:
        raise ChannelError(f"{account.slug} is deactivated.", permanent=True)
    token = credential(account, "bot_token")
    secret = credential(account, "secret_token")
    if not token or not secret:
        raise ChannelError(
            "The account needs the bot_token and secret_token credentials.", permanent=True
        )
    if not SECRET_TOKEN.fullmatch(secret):
        raise ChannelError(
            "Telegram takes a secret_token of 1 to 256 characters A-Z, a-z, 0-9, _ and -.",
            permanent=True,
        )
    url = account.webhook_url
    BotApi(token).call(
        "setWebhook",
        {"url": url, "secret_token": secret, "allowed_updates": list(ALLOWED_UPDATES)},
    )
    return url
