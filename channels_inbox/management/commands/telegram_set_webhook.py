"""``manage.py telegram_set_webhook <slug>``: point a Telegram account's bot at our webhook."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_inbox.adapters.base import ChannelError
from channels_inbox.models import ChannelAccount
from channels_inbox.telegram.services import set_webhook


class Command(BaseCommand):
    help = (
        "Tell Telegram to post the bot's updates to the account's webhook URL "
        "(PUBLIC_BASE_URL/webhooks/telegram/<slug>/) with the account's secret token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The Telegram channel account's slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["slug"]
        account = ChannelAccount.objects.filter(slug=slug).first()
        if account is None:
            raise CommandError(f"No channel account with slug {slug!r}.")
        try:
            url = set_webhook(account)
        except ChannelError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Telegram now posts the updates of {slug} to {url}")
