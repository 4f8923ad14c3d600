"""The SMTP/LMTP ingress: the mail server (Postfix ``transport_maps``) hands customer mail here.

Every message is stored raw, as one InboundEvent per recipient account, before the ingress
answers 250; parsing happens later in the pipeline, so a message nobody can parse is still
stored and the connection's other mail goes on. The (account, external id) constraint drops
a message the mail server delivers twice, e.g. after a timeout on our answer.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from typing import Any, AnyStr, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from channels_inbox.models import ChannelAccount
from helpdesk.channel_kinds import ChannelKind

logger = logging.getLogger(__name__)

# One message to more of our addresses than this is not customer mail.
MAX_RECIPIENTS = 100
# Room for the text, headers and MIME structure around one attachment of the largest size
# allowed, which base64 makes a third larger in the mail.
MESSAGE_OVERHEAD_BYTES = 1024 * 1024

REPLY_STORED = "250 2.0.0 OK: stored"
REPLY_RECIPIENT_OK = "250 2.1.5 OK"
REPLY_UNKNOWN_RECIPIENT = "550 5.1.1 No such mailbox here"
REPLY_TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
REPLY_TOO_BIG = "552 5.3.4 Message too big"
REPLY_TRY_AGAIN = "451 4.3.0 Temporary local problem, try again later"
AIOSMTPD_TOO_MUCH_DATA = "552 Error: Too much mail data"

_BRACKETED_ID = re.compile(r"<([^<>]*)>")

T = TypeVar("T")


def default_max_message_bytes() -> int:
    return settings.MAX_ATTACHMENT_BYTES * 4 // 3 + MESSAGE_OVERHEAD_BYTES


# --- Recipients -----------------------------------------------------------------------------


def recipient_candidates(address: str) -> list[str]:
    """The account addresses ``address`` may be for, most specific first: itself, then without
    its ``+tag`` (``support+t1234-sig@shop.test`` is for ``support@shop.test``)."""
    address = address.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return []
    candidates = [address]
    base = local.split("+", 1)[0]
    if base and base != local:
        candidates.append(f"{base}@{domain}")
    return candidates


# Bumped whenever this process saves or deletes an account, so every directory reloads.
_accounts_changed = itertools.count(1)
_accounts_version = 0


@receiver([post_save, post_delete], sender=ChannelAccount)
def _accounts_have_changed(**_: Any) -> None:
    global _accounts_version
    _accounts_version = next(_accounts_changed)


class RecipientDirectory:
    """The active email accounts by address, for the RCPT check of every mail. They change
    rarely, so an ingress reloads them at most every ``max_age`` seconds: a new or
    deactivated account takes effect within that time, and at once when this process saves
    or deletes an account itself."""

    def __init__(self, *, max_age: float) -> None:
        self.max_age = max_age
        self._loaded: tuple[float, int, dict[str, ChannelAccount]] | None = None

    def current(self) -> dict[str, ChannelAccount] | None:
        """The accounts by lower-cased address; None when they must be loaded again."""
        loaded = self._loaded
        if (
            loaded is None
            or loaded[1] != _accounts_version
            or time.monotonic() - loaded[0] >= self.max_age
        ):
            return None
        return loaded[2]

    def load(self) -> dict[str, ChannelAccount]:
        """Read the accounts (synchronous: in the database thread)."""
        started, version = time.monotonic(), _accounts_version
        accounts: dict[str, ChannelAccount] = {}
        active = ChannelAccount.objects.filter(kind=ChannelKind.EMAIL, is_active=True)
        for account in active.order_by("pk"):
            # Two accounts differing only in case: the older one receives.
            accounts.setdefault(account.address.strip().lower(), account)
        self._loaded = (started, version, accounts)
        return accounts

    @staticmethod
    def find(accounts: dict[str, ChannelAccount], address: str) -> ChannelAccount | None:
        """The account that receives mail sent to ``address``, most specific first."""
        for candidate in recipient_candidates(address):
            account = accounts.get(candidate)
            if account is not None:
                return account
        return None


RECIPIENT_DIRECTORY_MAX_AGE = 10.0


# --- Delivery ids ---------------------------------------------------------------------------


def normalize_message_id(value: str) -> str:
    """``<Local@Example.COM>`` → ``Local@example.com``; "" when ``value`` is no usable id."""
    match = _BRACKETED_ID.search(value)
    text = (match.group(1) if match else value).strip()
    # Printable ASCII only: anything else is a broken header and would not survive as a key.
    if not text or any(not 33 <= ord(character) <= 126 for character in text):
        return ""
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}" if at and local else text


def message_id_of(raw: bytes) -> str:
    """The normalized Message-ID of a raw message; "" when it has none (or it is unreadable).
    Only the header block is parsed: the pipeline reads the rest."""
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        value = headers.get("Message-ID")
        return normalize_message_id(str(value)) if value is not None else ""
    except Exception:  # a header no parser can read means no id, never a refused message
        logger.info("Unreadable Message-ID header; using the message digest", exc_info=True)
        return ""


def email_external_id(raw: bytes, recipient: str) -> str:
    """The InboundEvent key of one message for one account: ``<message id>:<recipient>``, or
    ``sha256:<digest of the message>:<recipient>`` without a Message-ID. The SMTP ingress and
    the IMAP poller both use it with the account's address, so a message that arrives both
    ways, or is fetched again after a UIDVALIDITY change, is stored once."""
    recipient = recipient.strip().lower()
    message_id = message_id_of(raw)
    if message_id:
        key = f"{message_id}:{recipient}"
    else:
        # Line endings differ between the SMTP wire (CRLF) and what some clients send.
        digest = hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()
        key = f"sha256:{digest}:{recipient}"
    # store_inbound_event shortens a key longer than its column without losing uniqueness.
    return key


def store_email(account: ChannelAccount, raw: bytes, *, headers: dict[str, str]) -> bool:
    """Store one raw message for ``account``; True when it is new, False for a redelivery."""
    from channels_inbox.services import store_inbound_event

    _event, created = store_inbound_event(
        account,
        external_id=email_external_id(raw, account.address),
        payload=raw,
        headers=headers,
    )
    return created


def _in_database_thread(function: Callable[..., T]) -> Callable[..., Any]:
    """``function`` as a coroutine run in a thread for synchronous code, with the connection
    checks Django makes around a request (a broken connection is replaced).

    On PostgreSQL each call takes a thread of a small pool, each thread with its own
    connection: several connections' mails are stored at once, and their commits share the
    server's log flushes, where one thread stored them one after another and the SMTP edge
    waited on each commit in turn. SQLite has one writer at a time, so there one thread
    does it all."""

    def call(*args: Any, **kwargs: Any) -> T:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(call, thread_sensitive=connection.vendor == "sqlite")


# --- The SMTP and LMTP servers --------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    recipient: str
    account: ChannelAccount


class IngressEnvelope(Envelope):
    def __init__(self) -> None:
        super().__init__()
        self.routes: list[Route] = []


class IngressHandler:
    """aiosmtpd hooks: recipients are checked at RCPT, the message is stored at DATA."""

    def __init__(self, *, max_bytes: int, transport: str) -> None:
        self.max_bytes = max_bytes
        self.transport = transport
        self.recipients = RecipientDirectory(max_age=RECIPIENT_DIRECTORY_MAX_AGE)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: IngressEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.routes) >= MAX_RECIPIENTS:
            return REPLY_TOO_MANY_RECIPIENTS
        try:
            accounts = self.recipients.current()
            if accounts is None:
                accounts = await _in_database_thread(self.recipients.load)()
            account = self.recipients.find(accounts, address)
        except DatabaseError:
            logger.exception("Database unavailable while checking a recipient")
            return REPLY_TRY_AGAIN
        except Exception:
            logger.exception("Could not check a recipient")
            return REPLY_TRY_AGAIN
        if account is None:
            return REPLY_UNKNOWN_RECIPIENT
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        envelope.routes.append(Route(address, account))
        return REPLY_RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: IngressEnvelope) -> str:
        raw = envelope.original_content or b""
        lmtp = self.transport == "lmtp"
        if len(raw) > self.max_bytes:
            return "\r\n".join([REPLY_TOO_BIG] * len(envelope.routes)) if lmtp else REPLY_TOO_BIG
        # One event per account, whichever of its addresses (plus-tags) the mail was sent to.
        recipients_by_account: dict[int, list[str]] = {}
        accounts: dict[int, ChannelAccount] = {}
        for route in envelope.routes:
            accounts[route.account.pk] = route.account
            recipients_by_account.setdefault(route.account.pk, []).append(route.recipient)
        reply_by_account: dict[int, str] = {}
        for account_id, account in accounts.items():
            headers = self._headers(session, envelope, recipients_by_account[account_id])
            try:
                await _in_database_thread(store_email)(account, raw, headers=headers)
            except DatabaseError:
                logger.exception("Database unavailable while storing mail for %r", account)
                reply_by_account[account_id] = REPLY_TRY_AGAIN
            except Exception:
                logger.exception("Could not store mail for %r", account)
                reply_by_account[account_id] = REPLY_TRY_AGAIN
            else:
                reply_by_account[account_id] = REPLY_STORED
        if lmtp:
            # RFC 2033: one reply per accepted recipient, in the order of the RCPT commands.
            return "\r\n".join(reply_by_account[route.account.pk] for route in envelope.routes)
        failed = [reply for reply in reply_by_account.values() if reply != REPLY_STORED]
        # The mail server retries the whole message; the accounts that have it drop the copy.
        return failed[0] if failed else REPLY_STORED

    def _headers(
        self, session: Session, envelope: IngressEnvelope, recipients: list[str]
    ) -> dict[str, str]:
        peer = session.peer
        if isinstance(peer, tuple | list) and len(peer) >= 2:
            peer_text = f"{peer[0]}:{peer[1]}"
        else:
            peer_text = str(peer or "")
        mail_from = envelope.mail_from or ""
        return {
            "transport": self.transport,
            # The null reverse-path of bounces and auto-replies.
            "mail_from": "" if mail_from == "<>" else mail_from,
            "rcpt_tos": ", ".join(recipients),
            "peer": peer_text,
            "helo": session.host_name or "",
        }


class _IngressServerMixin:
    line_length_limit: int

    def __init__(self, handler: IngressHandler, *, max_bytes: int, **options: Any) -> None:
        # Mail with bare LF line ends arrives as one long "line" (aiosmtpd splits on CRLF
        # only, which also keeps "\n.\n" from ending the data early): lines may be as long
        # as the message. SMTP.__init__ gives its stream reader this limit.
        self.line_length_limit = max(SMTP.line_length_limit, max_bytes + 2)
        super().__init__(handler, **_server_options(max_bytes), **options)  # type: ignore[call-arg]

    def _create_envelope(self) -> Envelope:
        return IngressEnvelope()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd reads every MAIL FROM and RCPT TO address with the email package's full
        # RFC 5322 parser, a sixth of the ingress's CPU per mail. Nearly every address a
        # mail server sends is a plain <dot-atom@domain>, whose answer is plain to see; the
        # rest (quoted local parts, source routes, the null sender) still go the full way.
        match = _PLAIN_ANGLE_ADDRESS.match(arg)
        rest = "" if match is None else arg[match.end() :].lstrip(" \t")
        if (
            match is None
            or rest.startswith("(")  # a comment, which the full parser skips
            or (self.local_part_limit and len(match["local"]) > self.local_part_limit)  # type: ignore[attr-defined]
        ):
            try:
                return super()._getaddr(arg)  # type: ignore[misc]
            except (IndexError, ValueError):
                # The email package's parser fails this way on a few truncated addresses
                # ("0@"); such an address is malformed, as the ones it refuses are.
                return None, None
        return f"{match['local']}@{match['domain']}", rest


# RFC 5321 Path with a dot-atom local part and a domain of letters, digits, hyphens and dots.
_PLAIN_ANGLE_ADDRESS = re.compile(
    r"[ \t]*<(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)>"
)


def _server_options(max_bytes: int) -> dict[str, Any]:
    return {
        "data_size_limit": max_bytes,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "ident": "Switchboard ingress",
        "timeout": 300,
    }


class IngressSMTP(_IngressServerMixin, SMTP):
    pass


class IngressLMTP(_IngressServerMixin, LMTP):
    async def push(self, status: AnyStr) -> None:
        # aiosmtpd refuses data over the size limit with one reply, but an LMTP client waits
        # for one per accepted recipient (RFC 2033) and would hang on the rest.
        if status == AIOSMTPD_TOO_MUCH_DATA and self.envelope and self.envelope.rcpt_tos:
            await super().push("\r\n".join([REPLY_TOO_BIG] * len(self.envelope.rcpt_tos)))
            return
        await super().push(status)


class IngressController(Controller):
    """Listens in a thread of its own; ``start()`` returns once the port accepts connections."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        lmtp: bool = False,
        max_bytes: int | None = None,
        server_name: str | None = None,
    ) -> None:
        self.lmtp = lmtp
        self.max_bytes = max_bytes or default_max_message_bytes()
        # Not socket.getfqdn(), aiosmtpd's default: it can wait on DNS at every connection.
        self.server_name = server_name or socket.gethostname()
        handler = IngressHandler(max_bytes=self.max_bytes, transport="lmtp" if lmtp else "smtp")
        super().__init__(handler, hostname=host, port=port)

    def factory(self) -> SMTP:
        server_class = IngressLMTP if self.lmtp else IngressSMTP
        return server_class(self.handler, max_bytes=self.max_bytes, hostname=self.server_name)
