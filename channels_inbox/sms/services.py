"""Every write of the SMS channel: the opt-outs its customers send."""

from __future__ import annotations

from django.utils import timezone

from channels_inbox.models import ChannelAccount
from channels_inbox.sms.keywords import Keyword, KeywordAction
from channels_inbox.sms.models import OptOut


def record_keyword(account: ChannelAccount, *, address: str, keyword: Keyword) -> None:
    """Apply a keyword ``address`` (E.164) sent to ``account``: an opt-out keyword stops
    every message from the account to the number, an opt-in keyword lifts that, HELP
    changes nothing. Safe to call twice and under concurrency: the (account, address)
    constraint keeps one row."""
    if keyword.action == KeywordAction.OPT_OUT:
        OptOut.objects.update_or_create(
            channel_account=account,
            address=address,
            defaults={"keyword": keyword.word, "opted_out_at": timezone.now()},
        )
    elif keyword.action == KeywordAction.OPT_IN:
        OptOut.objects.filter(channel_account=account, address=address).delete()


def opt_out_of(account: ChannelAccount, address: str) -> OptOut | None:
    """The number's opt-out from the account's messages, if it has one."""
    return OptOut.objects.filter(channel_account=account, address=address).first()
