"""``manage.py poll_imap``: import new mail from the IMAP mailboxes of email accounts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_inbox.email.imap import imap_accounts, poll_account
from channels_inbox.models import ChannelAccount
from helpdesk.channel_kinds import ChannelKind


class Command(BaseCommand):
    help = (
        "Import the mail that arrived since the last poll in the IMAP mailbox of every active "
        "email account with imap_host in its credentials (or only --account). Safe to run "
        "at any time: nothing is imported twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="Slug of one email channel account.")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = list(imap_accounts())
        slug = options["account"]
        if slug:
            account = ChannelAccount.objects.filter(slug=slug, kind=ChannelKind.EMAIL).first()
            if account is None:
                raise CommandError(f"No email channel account with slug {slug!r}.")
            if not account.is_active:
                raise CommandError(f"The account {slug!r} is deactivated.")
            accounts = [account]
        failed = []
        for account in accounts:
            result = poll_account(account)
            if result.error:
                failed.append(account.slug)
                self.stderr.write(f"{account.slug}: {result.error}")
            elif result.busy:
                self.stdout.write(f"{account.slug}: another poll is reading {result.mailbox}.")
            else:
                self.stdout.write(
                    f"{account.slug} ({result.mailbox}): {result.imported} imported, "
                    f"{result.duplicates} already stored, {result.skipped} too large."
                )
        if failed:
            raise CommandError(f"Polling failed for {len(failed)} account(s): {', '.join(failed)}.")
