"""Every write of the SMS channel: the opt-outs its customers send."""

from __future__ import annotations

from django.utils import timezone

from channels_inbox.models import ChannelAccount
from channels_inbox.sms.keywords import Keyword, KeywordAction
from channels_inbox.sms.models import OptOut
from helpdesk.models import User
from helpdesk.services import check_admin


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


def lift_opt_out(opt_out: OptOut, *, actor: User) -> None:
    """An admin's lifting of an opt-out (the customer asked for messages again another way):
    the account may text the number again, as after its START."""
    check_admin(actor)
    opt_out.delete()
