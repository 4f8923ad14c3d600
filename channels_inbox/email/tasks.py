"""Periodic IMAP polling. Celery registers these tasks through channels_inbox/tasks.py,
which imports them: autodiscovery only looks at <app>/tasks.py."""

from __future__ import annotations

from celery import shared_task

from channels_inbox.email.imap import imap_accounts, poll_account


@shared_task(name="channels_inbox.email.poll_imap_task")
def poll_imap_task() -> int:
    """Hand each IMAP mailbox to a task of its own, so one slow server delays no other.
    Returns the number of accounts queued."""
    account_ids = list(imap_accounts().values_list("pk", flat=True))
    for account_id in account_ids:
        poll_imap_account_task.delay(account_id)
    return len(account_ids)


@shared_task(name="channels_inbox.email.poll_imap_account_task")
def poll_imap_account_task(account_id: int) -> int:
    """Import one account's new mail; returns how many messages were new. A deactivated or
    deleted account is skipped; errors are kept on the mailbox cursor for the admin."""
    account = imap_accounts().filter(pk=account_id).first()
    if account is None:
        return 0
    return poll_account(account).imported
