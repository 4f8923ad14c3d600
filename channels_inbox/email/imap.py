"""IMAP polling for support mailboxes hosted elsewhere (Gmail, Microsoft 365, any IMAP server).

An email account is polled when its options (or, for accounts set up before options existed,
its credentials) name an ``imap_host``. Each new message is
stored raw as an InboundEvent under the same key the SMTP ingress uses, so a mailbox polled
twice, a message that also arrived by SMTP, or a mailbox whose UIDVALIDITY changed imports
nothing twice. The cursor moves only past messages already stored.

Options: ``imap_host``, ``imap_port`` (default 993, or 143 without TLS), ``imap_ssl`` (true or
false, default true), ``imap_user`` (default: the account's address), ``imap_mailbox``
(default ``INBOX``); read from the credentials when the options lack them. Credentials (the
secrets): ``imap_password`` or ``imap_oauth2_token`` (XOAUTH2, for Gmail and Microsoft 365).
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from imapclient import IMAPClient

from channels_inbox.email.ingress import default_max_message_bytes, store_email
from channels_inbox.models import ChannelAccount, MailboxCursor
from helpdesk.channel_kinds import ChannelKind

logger = logging.getLogger(__name__)

DEFAULT_MAILBOX = "INBOX"
CONNECT_TIMEOUT_SECONDS = 30
# Messages fetched per round trip; the cursor moves after each batch is stored.
FETCH_BATCH_SIZE = 50
# A poll reads at most this many messages, so it ends well within its lease; the next poll
# goes on from the cursor (a mailbox connected with years of mail takes a few polls).
MAX_MESSAGES_PER_POLL = 1000
# Longer than a poll takes; a poller that dies leaves the lease to run out.
POLL_LEASE = timedelta(minutes=10)
MAX_ERROR_LENGTH = 1000
TRUE_VALUES = ("true", "1", "yes", "on")
FALSE_VALUES = ("false", "0", "no", "off")


class ImapConfigurationError(ValueError):
    """The account's IMAP settings cannot work as written; the message names the key."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    ssl: bool
    user: str
    password: str
    oauth2_token: str
    mailbox: str

    def __repr__(self) -> str:
        # Never the password or the token.
        return f"<ImapSettings {self.user}@{self.host}:{self.port}/{self.mailbox}>"


@dataclass
class PollResult:
    account: str
    mailbox: str = ""
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    busy: bool = False
    error: str = ""


def imap_settings(account: ChannelAccount) -> ImapSettings | None:
    """The account's IMAP settings; None when it has no ``imap_host``."""
    credentials = account.credentials or {}
    host = _setting(account, "imap_host")
    if not host:
        return None
    ssl_text = (_setting(account, "imap_ssl") or "true").lower()
    if ssl_text not in TRUE_VALUES + FALSE_VALUES:
        raise ImapConfigurationError("imap_ssl must be true or false.")
    use_ssl = ssl_text in TRUE_VALUES
    port_text = _setting(account, "imap_port")
    if not port_text:
        port = 993 if use_ssl else 143
    elif port_text.isdigit() and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise ImapConfigurationError("imap_port must be a port number (1 to 65535).")
    password = str(credentials.get("imap_password", ""))
    token = str(credentials.get("imap_oauth2_token", ""))
    if not password and not token:
        raise ImapConfigurationError("Set imap_password or imap_oauth2_token.")
    user = _setting(account, "imap_user") or account.address
    if not user:
        raise ImapConfigurationError("Set imap_user (the account has no address).")
    mailbox = _setting(account, "imap_mailbox") or DEFAULT_MAILBOX
    return ImapSettings(host, port, use_ssl, user, password, token, mailbox)


def _setting(account: ChannelAccount, name: str) -> str:
    """A setting as text ("" when unset): options hold JSON booleans and numbers, older
    credentials the same as strings."""
    value = account.option(name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def imap_accounts() -> QuerySet[ChannelAccount]:
    """Active email accounts whose options or credentials name an IMAP server."""
    return ChannelAccount.objects.filter(
        Q(options__has_key="imap_host") | Q(credentials__has_key="imap_host"),
        kind=ChannelKind.EMAIL,
        is_active=True,
    ).order_by("pk")


def poll_account(
    account: ChannelAccount,
    *,
    max_bytes: int | None = None,
    max_messages: int = MAX_MESSAGES_PER_POLL,
) -> PollResult:
    """Import the messages that arrived in the account's mailbox since the last poll.

    Connection, login and protocol errors are returned in ``error`` and kept on the cursor
    for the admin; database errors propagate (the next poll starts from the cursor)."""
    result = PollResult(account=account.slug)
    try:
        config = imap_settings(account)
    except ImapConfigurationError as error:
        result.error = str(error)
        return result
    if config is None:
        result.error = "The account has no imap_host."
        return result
    result.mailbox = config.mailbox
    cursor, _created = MailboxCursor.objects.get_or_create(
        channel_account=account, mailbox=config.mailbox
    )
    if not _claim(cursor):
        result.busy = True
        return result
    limit = max_bytes or default_max_message_bytes()
    try:
        _poll(account, config, cursor, result, max_bytes=limit, max_messages=max_messages)
    except (imaplib.IMAP4.error, OSError) as error:
        # IMAPClientError and LoginError are imaplib errors; timeouts and TLS failures OSErrors.
        result.error = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
        logger.warning("IMAP poll of %r failed: %s", account, result.error)
    finally:
        MailboxCursor.objects.filter(pk=cursor.pk).update(
            lease_until=None, last_polled_at=timezone.now(), last_error=result.error
        )
    return result


def _claim(cursor: MailboxCursor) -> bool:
    now = timezone.now()
    return bool(
        MailboxCursor.objects.filter(pk=cursor.pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + POLL_LEASE)
    )


def _connect(config: ImapSettings) -> IMAPClient:
    client = IMAPClient(
        config.host, port=config.port, ssl=config.ssl, timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        if config.oauth2_token:
            client.oauth2_login(config.user, config.oauth2_token)
        else:
            client.login(config.user, config.password)
    except BaseException:
        client.shutdown()
        raise
    return client


def _poll(
    account: ChannelAccount,
    config: ImapSettings,
    cursor: MailboxCursor,
    result: PollResult,
    *,
    max_bytes: int,
    max_messages: int,
) -> None:
    client = _connect(config)
    try:
        # EXAMINE: read-only, and BODY.PEEK below leaves \Seen as the mailbox owner had it.
        selected = client.select_folder(config.mailbox, readonly=True)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        last_uid = cursor.last_uid
        if cursor.uidvalidity != uidvalidity:
            # Old UIDs mean nothing now: read the mailbox again; stored keys drop repeats.
            last_uid = 0
            MailboxCursor.objects.filter(pk=cursor.pk).update(uidvalidity=uidvalidity, last_uid=0)
        # "n:*" always matches the newest message, even when its UID is below n.
        uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
        uids = uids[:max_messages]
        for batch in _batches(uids, FETCH_BATCH_SIZE):
            sizes = client.fetch(batch, ["RFC822.SIZE"])
            wanted = [uid for uid in batch if _size(sizes.get(uid)) <= max_bytes]
            for uid in batch:
                if uid not in wanted:
                    result.skipped += 1
                    logger.warning(
                        "Skipped IMAP UID %s of %r: larger than %s bytes", uid, account, max_bytes
                    )
            bodies = client.fetch(wanted, ["BODY.PEEK[]"]) if wanted else {}
            for uid in wanted:
                raw = bodies.get(uid, {}).get(b"BODY[]")
                if raw is None:
                    continue  # expunged since the search
                headers = {
                    "transport": "imap",
                    "mailbox": config.mailbox,
                    "uidvalidity": str(uidvalidity),
                    "uid": str(uid),
                }
                if store_email(account, bytes(raw), headers=headers):
                    result.imported += 1
                else:
                    result.duplicates += 1
            MailboxCursor.objects.filter(pk=cursor.pk, uidvalidity=uidvalidity).update(
                last_uid=batch[-1]
            )
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            client.shutdown()


def _size(item: dict[bytes, object] | None) -> int:
    value = (item or {}).get(b"RFC822.SIZE", 0)
    return int(value) if isinstance(value, int | str | bytes) else 0


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
