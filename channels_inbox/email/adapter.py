"""The email channel: raw MIME in, SMTP out.

Reading (``parse``), in this order:

1. Mail from one of our own mailboxes (any active email account's address, plus-variants
   included) is ignored: it is our own reply coming back, the start of a loop.
2. A delivery report (DSN) or mail sent to one of our signed VERP bounce addresses becomes a
   ``failed`` status for the outbound message it is about, plus an automated message that
   records it on that message's ticket.
3. Mail carrying our ``X-Loop`` marker is ignored, for the same reason as 1.
4. A per-sender rate limit (account option ``sender_rate_limit``, default 20 messages per
   sender and mailbox in a fixed ten-minute window, counted in the cache with an atomic
   ``incr``; the options take 1 to 10000, and a 0 kept in the credentials from before options
   existed turns it off) ignores the rest of a flood and says so in the event's ignored
   reason and the log: a loop with a system that does not mark its mail stops here. Delivery
   reports are not counted; they never get an answer, so they cannot loop, and each one
   carries a status. The window is counted per parse, so reprocessing an event counts it
   again; once the window has passed, ``manage.py reprocess_inbound`` brings the mail in.
5. Everything else is an ``InboundMessage``. Auto-replies (and mail with an empty envelope
   sender) are flagged ``is_automated`` so they are recorded on their ticket and never
   answered.

The sender is the ``From`` address, not ``Reply-To``: ``From`` is who wrote, ``Reply-To`` is
where they would like answers, and mailing lists and forms set it to anything. The displayed
text is the reply without the quoted thread and signature; the full HTML stays in ``html``
(with ``cid:`` references as they came, mapped to attachment URLs when a message is shown)
and the whole original mail is attached as ``original.eml``.

The ticket token is read from every envelope recipient, ``To`` and ``Cc`` (a signed
``support+t1234-<sig>@`` address) and else from the subject (``[#1234]``). Subject matching
uses the account option ``subject_window_days`` (default 7; 0 turns it off).

Account options are read from ``options`` and, for accounts set up before options existed,
from ``credentials`` (``channels_inbox.services.CHANNEL_OPTIONS`` lists them); secrets only
ever from ``credentials``.

Sending (``send``) uses the account's own SMTP server when its options name one
(``smtp_host``, ``smtp_port``, ``smtp_user``, ``smtp_security`` = ``starttls`` | ``tls`` |
``none``, ``smtp_timeout``; the ``smtp_password`` credential), else the site's outgoing mail
(``EMAIL_URL``). The envelope sender is the signed VERP bounce address, unless the account
option ``verp`` is false (some hosted relays insist on the mailbox address).
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any, ClassVar

from django.conf import settings
from django.core.mail import EmailMessage as DjangoEmailMessage
from django.core.mail import get_connection
from django.core.mail.utils import DNS_NAME
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from channels_inbox.adapters.base import (
    ChannelAdapter,
    ChannelError,
    OutboundMessage,
    ParseResult,
    SendResult,
    StatusUpdate,
)
from channels_inbox.email.outbound import build_email, outbound_message_id
from channels_inbox.email.parsing import (
    BounceReport,
    ParsedEmail,
    normalize_subject,
    parse_email,
    subject_ticket_number,
)
from channels_inbox.email.tokens import (
    make_bounce_address,
    read_bounce_address,
    read_reply_address,
)
from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk import ratelimits
from tickets.services import InboundAttachment, InboundMessage

logger = logging.getLogger(__name__)

DEFAULT_SUBJECT_WINDOW_DAYS = 7
DEFAULT_SENDER_RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 600
DEFAULT_SMTP_TIMEOUT = 30.0
SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}
ORIGINAL_NAME = "original.eml"
DJANGO_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

# DSN actions (RFC 3464 §2.3.3) and the delivery status they mean for our message;
# "delayed" says nothing final, so it changes nothing.
BOUNCE_STATUSES = {
    "failed": "failed",
    "delivered": "delivered",
    "relayed": "delivered",
    "expanded": "delivered",
}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str
    password: str
    security: str
    timeout: float

    def __repr__(self) -> str:  # never the password
        return f"<SmtpServer {self.host}:{self.port} {self.security}>"


class EmailAdapter(ChannelAdapter):
    kind: ClassVar[str] = "email"

    # --- Reading -------------------------------------------------------------------------

    def parse(self, account: ChannelAccount, event: InboundEvent) -> ParseResult:
        raw = bytes(event.payload or b"")
        parsed = parse_email(raw)
        own = own_addresses(account)

        sender = parsed.from_address.strip().lower()
        if sender and base_address(sender) in own:
            return ParseResult(ignored_reason=f"Mail from our own address {sender}.")
        recipients = [*envelope_recipients(headers_of(event)), *parsed.to, *parsed.cc]
        bounced_pk = next(
            (pk for value in recipients if (pk := read_bounce_address(value, account.address))),
            None,
        )
        # Before the loop check: some reports copy our headers, X-Loop included, and a
        # report is never answered, so reading it cannot loop.
        if parsed.bounce is not None or bounced_pk is not None:
            return self._bounce(account, event, parsed, raw, bounced_pk)

        loop_addresses = {base_address(value) for value in _addresses(parsed.loop_marker)}
        if loop_addresses & own:
            return ParseResult(
                ignored_reason=f"Mail carrying our loop marker (X-Loop: {parsed.loop_marker})."
            )

        limit_reason = _rate_limited(account, sender)
        if limit_reason:
            logger.warning(
                "Email rate limit on account %s: %s (event %s)",
                account.slug,
                limit_reason,
                event.pk,
            )
            return ParseResult(ignored_reason=limit_reason)

        return ParseResult(messages=(self._message(account, event, parsed, raw, recipients),))

    def _message(
        self,
        account: ChannelAccount,
        event: InboundEvent,
        parsed: ParsedEmail,
        raw: bytes,
        recipients: list[str],
    ) -> InboundMessage:
        ticket_number, source = _ticket_token(account, parsed, recipients)
        automated, reason = parsed.automated, parsed.automated_reason
        if not automated and _null_envelope_sender(headers_of(event)):
            automated, reason = True, "empty envelope sender"
        window_days = _option_int(account, "subject_window_days", DEFAULT_SUBJECT_WINDOW_DAYS)
        return InboundMessage(
            channel="email",
            # A mail without a readable From is still somebody's: the envelope sender says who.
            sender_address=parsed.from_address or envelope_sender(headers_of(event)),
            sender_name=parsed.from_name,
            subject=parsed.subject,
            text=parsed.reply_text.strip() or parsed.text,
            html=parsed.html,
            attachments=_attachments(parsed, raw),
            provider_message_id=provider_message_id(parsed, raw),
            references=thread_references(parsed),
            # Email threads only by its headers, a ticket token or the subject; a mail that
            # matches none of them is a new conversation, never the customer's latest ticket.
            starts_conversation=True,
            received_at=event.received_at,
            ticket_number=ticket_number,
            ticket_number_source=source,
            thread_subject=normalize_subject(parsed.subject),
            subject_window=timedelta(days=window_days) if window_days > 0 else None,
            is_automated=automated,
            automated_reason=reason if automated else "",
        )

    def _bounce(
        self,
        account: ChannelAccount,
        event: InboundEvent,
        parsed: ParsedEmail,
        raw: bytes,
        bounced_pk: int | None,
    ) -> ParseResult:
        """A delivery report about one of our messages: its status, and a record of it."""
        report = parsed.bounce
        # The signed VERP address is proof; the report's own Message-ID is a fallback for
        # relays that rewrite the envelope sender.
        if bounced_pk is not None:
            original = outbound_message_id(account, bounced_pk)
        else:
            original = report.original_message_id if report else ""
        action = (report.action if report else "failed").strip().lower() or "failed"
        status = BOUNCE_STATUSES.get(action)
        error = bounce_error(report)
        statuses: tuple[StatusUpdate, ...] = ()
        if original and status:
            statuses = (
                StatusUpdate(
                    provider_message_id=original,
                    status=status,
                    error=error if status == "failed" else "",
                    occurred_at=parsed.date or event.received_at,
                ),
            )
        summary = f"Delivery report: {action}" + (f" ({error})" if error else "")
        references = tuple(
            dict.fromkeys(value for value in (original, *thread_references(parsed)) if value)
        )
        record = InboundMessage(
            channel="email",
            sender_address=parsed.from_address or "mailer-daemon",
            sender_name=parsed.from_name,
            subject=parsed.subject,
            text=f"{summary}\n\n{parsed.text}".strip(),
            html="",
            attachments=_attachments(parsed, raw),
            provider_message_id=provider_message_id(parsed, raw),
            references=references,
            starts_conversation=False,
            received_at=event.received_at,
            is_automated=True,
            automated_reason=parsed.automated_reason or "delivery report",
        )
        return ParseResult(messages=(record,), statuses=statuses)

    # --- Sending -------------------------------------------------------------------------

    def send(self, account: ChannelAccount, outbound: OutboundMessage) -> SendResult:
        try:
            email = build_email(account, outbound)
        except ValueError as error:
            raise ChannelError(str(error), permanent=True) from error
        envelope_from = account.address.strip()
        if _option_bool(account, "verp", default=True):
            envelope_from = make_bounce_address(account.address, outbound.message_id)
        recipients = [outbound.to_address.strip()]
        server = smtp_server(account)
        try:
            if server is None:
                _send_through_django(email, envelope_from, recipients)
            else:
                _send_smtp(server, email, envelope_from, recipients)
        except (smtplib.SMTPException, OSError) as error:
            raise smtp_channel_error(error, server) from error
        return SendResult(provider_message_id=outbound_message_id(account, outbound.message_id))


# --- Helpers for reading -----------------------------------------------------------------


def headers_of(event: InboundEvent) -> dict[str, Any]:
    return event.headers if isinstance(event.headers, dict) else {}


def base_address(address: str) -> str:
    """``support+anything@Shop.test`` → ``support@shop.test``: what a plus-address is for."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}"


# The active mailboxes change rarely and are read for every mail: each process keeps them
# this many seconds, and forgets them at once when it saves or deletes an account itself.
MAILBOXES_MAX_AGE = 10.0
_mailboxes: tuple[float, frozenset[str]] | None = None


def own_addresses(account: ChannelAccount) -> set[str]:
    """Every active mailbox of ours (and this one, even when it is deactivated)."""
    found = set(_active_mailboxes())
    if account.address.strip():
        found.add(base_address(account.address))
    return found


def _active_mailboxes() -> frozenset[str]:
    global _mailboxes
    now = time.monotonic()
    if _mailboxes is not None and now - _mailboxes[0] < MAILBOXES_MAX_AGE:
        return _mailboxes[1]
    addresses = ChannelAccount.objects.filter(kind="email", is_active=True).values_list(
        "address", flat=True
    )
    found = frozenset(base_address(value) for value in addresses if value.strip())
    _mailboxes = (now, found)
    return found


@receiver([post_save, post_delete], sender=ChannelAccount)
def _forget_mailboxes(**_: Any) -> None:
    global _mailboxes
    _mailboxes = None


def _addresses(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = [value]
    return [address for _, address in getaddresses([str(item) for item in value]) if address]


def envelope_recipients(headers: dict[str, Any]) -> list[str]:
    """The envelope recipients the ingress recorded (``rcpt_tos``: a list or a
    comma-separated string)."""
    value = headers.get("rcpt_tos") or headers.get("envelope_to") or []
    if isinstance(value, str):
        value = value.split(",")
    return [str(item).strip().strip("<>") for item in value if str(item).strip()]


def envelope_sender(headers: dict[str, Any]) -> str:
    return str(headers.get("mail_from") or "").strip().strip("<>").lower()


def _null_envelope_sender(headers: dict[str, Any]) -> bool:
    """``MAIL FROM:<>`` (RFC 5321 null reverse path) is how bounces and other automatic
    notifications are sent."""
    if "mail_from" not in headers:
        return False
    return str(headers["mail_from"]).strip() in ("", "<>")


def _ticket_token(
    account: ChannelAccount, parsed: ParsedEmail, recipients: Iterable[str]
) -> tuple[int | None, str]:
    for value in recipients:
        number = read_reply_address(value, account.address)
        if number is not None:
            return number, "address"
    number = subject_ticket_number(parsed.subject)
    if number is not None:
        return number, "subject"
    return None, ""


def bounce_error(report: BounceReport | None) -> str:
    """``550 5.1.1 user unknown``: the remote server's words, with the RFC 3463 status in
    front unless they already say it."""
    status = report.status.strip() if report else ""
    diagnostic = report.diagnostic.strip() if report else ""
    if status and status in diagnostic:
        return diagnostic
    return " ".join(part for part in (status, diagnostic) if part) or (
        "Bounced; the delivery report could not be read."
    )


def thread_references(parsed: ParsedEmail) -> tuple[str, ...]:
    """The ids this mail answers, nearest first: In-Reply-To, then References newest first."""
    ordered = [*parsed.in_reply_to, *reversed(parsed.references)]
    return tuple(dict.fromkeys(value for value in ordered if value))


def provider_message_id(parsed: ParsedEmail, raw: bytes) -> str:
    """The Message-ID; a mail without one gets an id from its bytes, so reprocessing the same
    event finds the message saved the first time instead of adding it again."""
    if parsed.message_id:
        return parsed.message_id
    return f"{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid"


def _attachments(parsed: ParsedEmail, raw: bytes) -> tuple[InboundAttachment, ...]:
    attachments = [
        InboundAttachment(
            name=item.name,
            content_type=item.content_type,
            content=item.content,
            content_id=item.content_id,
        )
        for item in parsed.attachments
    ]
    original = InboundAttachment(name=ORIGINAL_NAME, content_type="message/rfc822", content=raw)
    # The original holds everything, so when the count limit would refuse some attachment,
    # it is the one kept.
    if len(attachments) >= settings.MAX_ATTACHMENTS_PER_MESSAGE:
        return (original, *attachments)
    return (*attachments, original)


def _option(account: ChannelAccount, name: str) -> Any:
    """A setting from the account's options, else from its credentials (where accounts set
    up before options existed keep it)."""
    return account.option(name)


def _secret(account: ChannelAccount, name: str) -> str:
    credentials = account.credentials if isinstance(account.credentials, dict) else {}
    return str(credentials.get(name) or "")


def _option_int(account: ChannelAccount, name: str, default: int) -> int:
    """A whole-number account option; a wrong value falls back to the default (and is
    logged) rather than losing mail over a typo in the settings."""
    value = _option(account, name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if isinstance(value, bool) or number < 0:
        logger.warning(
            "Email account %s: option %s=%r is not a whole number ≥ 0; using %s",
            account.slug,
            name,
            value,
            default,
        )
        return default
    return number


def _option_bool(account: ChannelAccount, name: str, *, default: bool) -> bool:
    value = _option(account, name)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return default


def _rate_limited(account: ChannelAccount, sender: str) -> str:
    """The ignored reason when ``sender`` is over the limit on this mailbox, else ""."""
    limit = _option_int(account, "sender_rate_limit", DEFAULT_SENDER_RATE_LIMIT)
    if limit == 0 or not sender:
        return ""
    # A digest keeps the key short and the address out of Redis.
    digest = hashlib.sha256(sender.encode()).hexdigest()[:32]
    outcome = ratelimits.hit(
        ratelimits.Limit("email-sender", limit, RATE_WINDOW_SECONDS), account.pk, digest
    )
    if not outcome.allowed:
        minutes = RATE_WINDOW_SECONDS // 60
        return f"rate limit: {sender} sent {outcome.count} messages in {minutes} minutes"
    return ""


# --- Helpers for sending -----------------------------------------------------------------


def smtp_server(account: ChannelAccount) -> SmtpServer | None:
    """The account's own SMTP server; else the site's when ``EMAIL_URL`` names one; else
    None (the site's mail backend: console in development, locmem in tests)."""
    host = str(_option(account, "smtp_host") or "").strip()
    if host:
        security = str(_option(account, "smtp_security") or "starttls").strip().lower()
        if security not in SMTP_PORTS:
            raise ChannelError(
                f"Email account {account.slug}: smtp_security must be starttls, tls or none, "
                f"not {security!r}.",
                permanent=True,
            )
        try:
            port = int(_option(account, "smtp_port") or SMTP_PORTS[security])
            timeout = float(_option(account, "smtp_timeout") or DEFAULT_SMTP_TIMEOUT)
        except (TypeError, ValueError) as error:
            raise ChannelError(
                f"Email account {account.slug}: smtp_port and smtp_timeout must be numbers.",
                permanent=True,
            ) from error
        if not 0 < port < 65536 or timeout <= 0:
            raise ChannelError(
                f"Email account {account.slug}: smtp_port or smtp_timeout is out of range.",
                permanent=True,
            )
        return SmtpServer(
            host=host,
            port=port,
            user=str(_option(account, "smtp_user") or ""),
            password=_secret(account, "smtp_password"),
            security=security,
            timeout=timeout,
        )
    if settings.EMAIL_BACKEND == DJANGO_SMTP_BACKEND:
        security = (
            "tls" if settings.EMAIL_USE_SSL else "starttls" if settings.EMAIL_USE_TLS else "none"
        )
        return SmtpServer(
            host=settings.EMAIL_HOST,
            port=int(settings.EMAIL_PORT),
            user=settings.EMAIL_HOST_USER,
            password=settings.EMAIL_HOST_PASSWORD,
            security=security,
            timeout=float(settings.EMAIL_TIMEOUT or DEFAULT_SMTP_TIMEOUT),
        )
    return None


def _send_smtp(
    server: SmtpServer, email: EmailMessage, envelope_from: str, recipients: list[str]
) -> None:
    context = ssl.create_default_context()
    connection: smtplib.SMTP
    if server.security == "tls":
        connection = smtplib.SMTP_SSL(
            server.host,
            server.port,
            local_hostname=str(DNS_NAME),
            timeout=server.timeout,
            context=context,
        )
    else:
        connection = smtplib.SMTP(
            server.host, server.port, local_hostname=str(DNS_NAME), timeout=server.timeout
        )
    try:
        if server.security == "starttls":
            connection.starttls(context=context)
        if server.user:
            connection.login(server.user, server.password)
        connection.send_message(email, from_addr=envelope_from, to_addrs=recipients)
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


class _BuiltEmail(DjangoEmailMessage):
    """Hands an email we built ourselves to a non-SMTP Django mail backend (console in
    development, locmem in tests), which only asks for ``message()``."""

    def __init__(self, email: EmailMessage, envelope_from: str, recipients: list[str]) -> None:
        super().__init__(
            subject=str(email["Subject"]),
            body=email.get_body(preferencelist=("plain",)).get_content(),  # type: ignore[union-attr]
            from_email=envelope_from,
            to=recipients,
        )
        self.built = email

    def message(self, *, policy: Any = None) -> Any:
        return self.built


def _send_through_django(email: EmailMessage, envelope_from: str, recipients: list[str]) -> None:
    get_connection(fail_silently=False).send_messages(
        [_BuiltEmail(email, envelope_from, recipients)]
    )


def _reply_text(value: bytes | str) -> str:
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())


def smtp_channel_error(error: BaseException, server: SmtpServer | None) -> ChannelError:
    """5xx replies are permanent (sending again gets the same answer); 4xx replies, timeouts
    and connection trouble are transient (greylisting, a full queue, a restart)."""
    where = f"SMTP {server.host}:{server.port}" if server else "The mail server"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refusals = error.recipients.items()
        codes = [code for _, (code, _) in refusals]
        detail = "; ".join(f"{rcpt}: {code} {_reply_text(text)}" for rcpt, (code, text) in refusals)
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return ChannelError(f"{where} refused the recipient ({detail}).", permanent=permanent)
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        return ChannelError(
            f"{where} answered {code} {_reply_text(error.smtp_error)}",
            permanent=500 <= code < 600,
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return ChannelError(f"{where}: {error}", permanent=True)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return ChannelError(f"{where} closed the connection: {error}", permanent=False)
    if isinstance(error, TimeoutError):
        return ChannelError(f"{where} timed out.", permanent=False)
    return ChannelError(f"{where} could not be reached: {error}", permanent=False)
