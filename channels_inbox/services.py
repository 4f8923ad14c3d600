"""Every write to channel accounts and inbound events goes through these functions.

Account changes are configuration: only admins may make them. Inbound events are written by
the channels' entry points and the pipeline's tasks.

Credentials are provider secrets. They are checked for shape here (a flat object of strings)
and never echoed: error messages name a key at most, never a value. Options are the settings
that are not secret; each channel kind lists the ones it takes, with their types and ranges.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field, Q
from django.utils import timezone

from channels_inbox.adapters import get_adapter
from channels_inbox.adapters.base import ChannelError, SendCheck
from channels_inbox.models import ChannelAccount, InboundEvent
from customers.identities import normalize_address
from helpdesk.channel_kinds import PHONE_CHANNELS, ChannelKind
from helpdesk.events import enqueue_on_commit
from helpdesk.models import Team, User
from helpdesk.services import UNSET, Unset, check_admin, insert_unique
from helpdesk.statements import fetch_one
from tickets.models import Ticket
from tickets.services import TicketError

MAX_CREDENTIAL_KEYS = 50
MAX_CREDENTIAL_KEY_LENGTH = 100
MAX_CREDENTIAL_VALUE_LENGTH = 10_000

# Channels whose address is a handle customers write to, checked like a customer's handle;
# the other channels' addresses are labels (a page name, a bot name) and stay free text.
NORMALIZED_ADDRESS_KINDS = frozenset({ChannelKind.EMAIL, *PHONE_CHANNELS})


def clean_credentials(credentials: Any) -> dict[str, str]:
    """A copy of ``credentials`` when it is a JSON object of string values; ValidationError
    (on ``credentials``) otherwise."""
    if not isinstance(credentials, Mapping):
        raise ValidationError({"credentials": ["Credentials must be an object of string values."]})
    if len(credentials) > MAX_CREDENTIAL_KEYS:
        raise ValidationError({"credentials": [f"At most {MAX_CREDENTIAL_KEYS} credentials."]})
    cleaned: dict[str, str] = {}
    errors: list[str] = []
    for key, value in credentials.items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_CREDENTIAL_KEY_LENGTH:
            errors.append(f"Credential names are 1 to {MAX_CREDENTIAL_KEY_LENGTH} characters.")
        elif not isinstance(value, str):
            errors.append(f"The value of {key!r} must be a string.")
        elif len(value) > MAX_CREDENTIAL_VALUE_LENGTH:
            errors.append(f"The value of {key!r} is too long.")
        else:
            cleaned[key] = value
    if errors:
        raise ValidationError({"credentials": errors})
    return cleaned


# --- Options ------------------------------------------------------------------------------

MAX_OPTION_TEXT_LENGTH = 320
MAX_ORIGINS = 50
COLOR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str:
    """``value`` as a browser sends it in an Origin header: ``scheme://host[:port]``, lower
    case, without the scheme's default port. ValueError when it is not an http(s) origin (a
    path, a query, credentials or a wildcard are refused, not ignored: a pasted page URL must
    not silently allow more or less than the admin meant)."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"{text[:100]!r} is not an origin.") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if (
        scheme not in DEFAULT_PORTS
        or not host
        or "*" in host
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or text.endswith("#")
        or text.endswith("?")
    ):
        raise ValueError(
            f"{text[:100]!r} is not an origin; write scheme://host[:port], e.g. "
            "https://shop.example.com."
        )
    if ":" in host:  # IPv6 literals keep their brackets in an Origin header.
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class OptionSpec:
    """What one option takes: a JSON boolean, a whole number or any number in a range, a
    non-blank string, one of a few strings, a colour as ``#rrggbb``, or a list of web
    origins (``https://shop.example.com``)."""

    type: Literal["bool", "int", "number", "text", "choice", "color", "origins"]
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def problem(self, name: str, value: Any) -> str:
        """Why ``value`` does not fit, naming the option; "" when it does."""
        # bool is an int in Python, but true is not a port number.
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if self.type == "bool" and not isinstance(value, bool):
            return f"{name} must be true or false."
        if self.type == "int" and not (
            is_number and (isinstance(value, int) or float(value).is_integer())
        ):
            return f"{name} must be a whole number from {self.minimum:g} to {self.maximum:g}."
        if self.type == "number" and not is_number:
            return f"{name} must be a number from {self.minimum:g} to {self.maximum:g}."
        if self.type in ("int", "number") and not (
            self.minimum is not None
            and self.maximum is not None
            and self.minimum <= value <= self.maximum
        ):
            return f"{name} must be from {self.minimum:g} to {self.maximum:g}."
        if self.type in ("text", "choice") and not isinstance(value, str):
            return f"{name} must be a string."
        if self.type == "text" and not value.strip():
            return f"{name} must not be blank; leave it out instead."
        if self.type == "text" and len(value) > MAX_OPTION_TEXT_LENGTH:
            return f"{name} is longer than {MAX_OPTION_TEXT_LENGTH} characters."
        if self.type == "choice" and value.strip().lower() not in self.choices:
            return f"{name} must be one of: {', '.join(self.choices)}."
        if self.type == "color" and not (isinstance(value, str) and COLOR.fullmatch(value)):
            return f"{name} must be a colour written #rrggbb."
        if self.type == "origins":
            return self._origins_problem(name, value)
        return ""

    def _origins_problem(self, name: str, value: Any) -> str:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return f"{name} must be a list of origins such as https://shop.example.com."
        if len(value) > MAX_ORIGINS:
            return f"{name} takes at most {MAX_ORIGINS} origins."
        for item in value:
            try:
                normalize_origin(item)
            except ValueError as error:
                return f"{name}: {error}"
        return ""

    def clean(self, value: Any) -> Any:
        """The value as stored; call once ``problem`` is ""."""
        if self.type == "int":
            return int(value)
        if self.type == "text":
            return value.strip()
        if self.type == "choice":
            return value.strip().lower()
        if self.type == "color":
            return value.lower()
        if self.type == "origins":
            return list(dict.fromkeys(normalize_origin(item) for item in value))
        return value


# Each kind's options; a kind missing here takes none. The readers (the email adapter, the
# IMAP poller, the inbound webhooks) know each option's default.
CHANNEL_OPTIONS: dict[str, dict[str, OptionSpec]] = {
    ChannelKind.EMAIL: {
        "subject_window_days": OptionSpec("int", minimum=0, maximum=365),
        "sender_rate_limit": OptionSpec("int", minimum=1, maximum=10_000),
        "verp": OptionSpec("bool"),
        "automated_mail_opens_tickets": OptionSpec("bool"),
        "smtp_host": OptionSpec("text"),
        "smtp_port": OptionSpec("int", minimum=1, maximum=65535),
        "smtp_security": OptionSpec("choice", choices=("starttls", "tls", "none")),
        "smtp_timeout": OptionSpec("number", minimum=1, maximum=300),
        "smtp_user": OptionSpec("text"),
        "imap_host": OptionSpec("text"),
        "imap_port": OptionSpec("int", minimum=1, maximum=65535),
        "imap_ssl": OptionSpec("bool"),
        "imap_user": OptionSpec("text"),
        "imap_mailbox": OptionSpec("text"),
        "inbound_provider": OptionSpec("choice", choices=("mailgun", "postmark", "sendgrid")),
    },
    ChannelKind.SMS: {"messaging_service_sid": OptionSpec("text")},
    ChannelKind.MESSENGER: {"human_agent_tag": OptionSpec("bool")},
    ChannelKind.INSTAGRAM: {"human_agent_tag": OptionSpec("bool")},
    ChannelKind.CHAT: {
        "allowed_origins": OptionSpec("origins"),
        "brand_color": OptionSpec("color"),
        "title": OptionSpec("text"),
        "welcome_text": OptionSpec("text"),
        "fallback_email_account": OptionSpec("text"),
    },
}

# Secrets someone may try to put among the options: the error says where they belong.
SECRET_SETTINGS = frozenset(
    {
        "smtp_password",
        "imap_password",
        "imap_oauth2_token",
        "mailgun_signing_key",
        "inbound_secret",
        "auth_token",
        "bot_token",
        "secret_token",
        "app_secret",
        "verify_token",
        "access_token",
        "page_access_token",
    }
)


def clean_options(kind: str, options: Any) -> dict[str, Any]:
    """A copy of ``options`` checked against what ``kind`` takes: every key known, every
    value of the right type and range. ValidationError (on ``options``) naming each key
    that is wrong; a value is named only by its type, so a secret pasted in by mistake is
    never echoed."""
    if not isinstance(options, Mapping):
        raise ValidationError({"options": ["Options must be a JSON object."]})
    specs = CHANNEL_OPTIONS.get(kind, {})
    cleaned: dict[str, Any] = {}
    errors: list[str] = []
    for name, value in options.items():
        spec = specs.get(name) if isinstance(name, str) else None
        if spec is None:
            errors.append(_unknown_option(kind, name, specs))
        elif problem := spec.problem(name, value):
            errors.append(problem)
        else:
            cleaned[name] = spec.clean(value)
    if errors:
        raise ValidationError({"options": errors})
    return cleaned


def _unknown_option(kind: str, name: Any, specs: Mapping[str, OptionSpec]) -> str:
    shown = repr(name[:MAX_OPTION_TEXT_LENGTH]) if isinstance(name, str) else repr(str(name))
    if name in SECRET_SETTINGS:
        return f"{shown} is a secret: put it in the credentials, not the options."
    if not specs:
        return f"Unknown option {shown}: {kind} accounts take no options."
    return f"Unknown option {shown}; {kind} accounts take: {', '.join(sorted(specs))}."


def normalize_account_address(kind: str, address: str) -> str:
    """The address in its canonical form for ``kind``; ValidationError (on ``address``)."""
    address = address.strip()
    if not address or kind not in NORMALIZED_ADDRESS_KINDS:
        return address
    try:
        return normalize_address(kind, address)
    except ValidationError as error:
        raise ValidationError({"address": error.messages}) from None


def create_channel_account(
    *,
    kind: str,
    name: str,
    slug: str,
    address: str = "",
    credentials: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    default_team: Team | None = None,
    is_active: bool = True,
    actor: User,
) -> ChannelAccount:
    check_admin(actor)
    account = ChannelAccount(
        kind=kind,
        name=name.strip(),
        slug=slug,
        address=normalize_account_address(kind, address),
        credentials=clean_credentials(credentials if credentials is not None else {}),
        options=clean_options(kind, options if options is not None else {}),
        default_team=default_team,
        is_active=is_active,
    )
    account.full_clean()
    insert_unique(account)
    return account


def update_channel_account(
    account: ChannelAccount,
    *,
    actor: User,
    kind: str | Unset = UNSET,
    name: str | Unset = UNSET,
    slug: str | Unset = UNSET,
    address: str | Unset = UNSET,
    credentials: Mapping[str, str] | Unset = UNSET,
    options: Mapping[str, Any] | Unset = UNSET,
    default_team: Team | Unset | None = UNSET,
    is_active: bool | Unset = UNSET,
) -> ChannelAccount:
    """Change the given fields; credentials and options left UNSET keep their stored
    values, and given ones replace them all (a key left out is removed). A new ``kind``
    must take the options the account keeps."""
    check_admin(actor)
    with transaction.atomic():
        account = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        changes: dict[str, Any] = {
            "kind": kind,
            "name": name.strip() if isinstance(name, str) else name,
            "slug": slug,
            "default_team": default_team,
            "is_active": is_active,
        }
        if not isinstance(credentials, Unset):
            changes["credentials"] = clean_credentials(credentials)
        effective_kind = account.kind if isinstance(kind, Unset) else kind
        if not isinstance(options, Unset):
            changes["options"] = clean_options(effective_kind, options)
        elif not isinstance(kind, Unset):
            changes["options"] = clean_options(effective_kind, account.options)
        if not isinstance(address, Unset):
            changes["address"] = normalize_account_address(effective_kind, address)
        elif not isinstance(kind, Unset):
            # The stored address must still make sense on the new channel.
            changes["address"] = normalize_account_address(effective_kind, account.address)
        changed = [field for field, value in changes.items() if not isinstance(value, Unset)]
        for field in changed:
            setattr(account, field, changes[field])
        account.full_clean()
        if changed:
            account.save(update_fields=[*changed, "updated_at"])
    return account


def deactivate_channel_account(account: ChannelAccount, *, actor: User) -> ChannelAccount:
    """Stop taking in and sending through the account. The row stays, so its tickets, messages
    and stored deliveries keep pointing at it; an admin can turn it back on."""
    return update_channel_account(account, actor=actor, is_active=False)


# --- Inbound events ------------------------------------------------------------------------
# The pipeline's rows: stored by an entry point, claimed and finished by the tasks in
# channels_inbox.tasks (new ones in batches, retries one by one).

MAX_EXTERNAL_ID_LENGTH = 255
MAX_EVENT_ERROR_LENGTH = 4000


def inbound_event_key(external_id: str) -> str:
    """The provider's delivery id as stored. Ids longer than the column (some Message-IDs
    are) keep a readable prefix and end in a digest of the whole id: cutting them would let
    two different deliveries share a prefix, and the second would be dropped as a repeat."""
    external_id = external_id.strip()
    if len(external_id) <= MAX_EXTERNAL_ID_LENGTH:
        return external_id
    digest = hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{external_id[: MAX_EXTERNAL_ID_LENGTH - len(digest) - 1]}~{digest}"


def store_inbound_event(
    account: ChannelAccount,
    *,
    external_id: str,
    payload: bytes,
    headers: Mapping[str, str] | None = None,
) -> tuple[InboundEvent, bool]:
    """Store a provider delivery before anything else happens, and have it processed once
    the transaction commits. A repeated delivery (same account, same external id) returns
    the stored event with ``created`` False and enqueues nothing: the caller acknowledges it
    and drops it. Sync code only; async callers wrap it in ``sync_to_async``.

    Raises ValueError on a blank external id or a payload that is not bytes: entry points
    derive the id themselves (a Message-ID, a provider event id, a digest of the body)."""
    # tasks imports this module for the event lifecycle below.
    from channels_inbox.tasks import request_inbound_processing

    key = inbound_event_key(external_id)
    if not key:
        raise ValueError("An inbound event needs the provider's id of the delivery.")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise ValueError("An inbound event's payload is the raw bytes received.")
    event = InboundEvent(
        channel_account=account,
        external_id=key,
        payload=bytes(payload),
        headers={str(name): str(value) for name, value in (headers or {}).items()},
    )
    # Insert first and look only on a conflict: a repeat is the rare case, and the entry
    # points answer the provider only once this has returned.
    try:
        if transaction.get_connection().in_atomic_block:
            # The caller's transaction must survive a repeat: the INSERT gets a savepoint.
            with transaction.atomic():
                _insert_event(event)
        else:
            # In autocommit the INSERT is its own transaction and a repeat's failure leaves
            # nothing to roll back: one statement, where a transaction would cost three.
            _insert_event(event)
    except IntegrityError:
        existing = InboundEvent.objects.filter(channel_account=account, external_id=key).first()
        if existing is None:  # not the unique constraint after all
            raise
        return existing, False
    # Right away in autocommit, else once the caller's transaction commits.
    transaction.on_commit(request_inbound_processing, robust=True)
    return event, True


def _insert_event(event: InboundEvent) -> None:
    """``event.save(force_insert=True)`` with the statement built once per database
    connection: compiling the same INSERT anew on every webhook was a fifth of the web
    server's work per request. Values are prepared as save() prepares them (``pre_save``
    for ``received_at``, then each field's ``get_db_prep_save``)."""
    database = connections[router.db_for_write(InboundEvent)]
    statement = _event_inserts.get(database)
    if statement is None:
        statement = _event_inserts[database] = _event_insert(database)
    fields, sql = statement
    params = [
        field.get_db_prep_save(field.pre_save(event, add=True), connection=database)
        for field in fields
    ]
    event.pk = fetch_one(database, sql, params)[0]
    event._state.adding = False
    event._state.db = database.alias


_event_inserts: weakref.WeakKeyDictionary[BaseDatabaseWrapper, tuple[list[Field], str]] = (
    weakref.WeakKeyDictionary()
)


def _event_insert(database: BaseDatabaseWrapper) -> tuple[list[Field], str]:
    meta = InboundEvent._meta
    quote = database.ops.quote_name
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 (names only)
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}"
    )
    return fields, sql


def _event_error(error: str) -> str:
    error = error.strip() or "Unknown error."
    if len(error) <= MAX_EVENT_ERROR_LENGTH:
        return error
    return error[: MAX_EVENT_ERROR_LENGTH - 1] + "…"


def claim_inbound_event(event_id: int, *, until: datetime) -> bool:
    """Take a pending or failed event for processing until ``until`` (the lease) and count
    the attempt. False when it is done, another worker holds it, or its backoff has not
    passed. A worker that dies mid-way leaves the lease to run out; the sweep then hands the
    event to another."""
    now = timezone.now()
    claimed = (
        InboundEvent.objects.filter(
            pk=event_id,
            status__in=[InboundEvent.Status.PENDING, InboundEvent.Status.FAILED],
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=until, attempts=F("attempts") + 1)
    )
    return claimed == 1


def claim_new_inbound_events(*, limit: int, until: datetime) -> list[int]:
    """Take up to ``limit`` new events (stored, never tried), oldest first, each as
    ``claim_inbound_event`` does. On PostgreSQL, rows another worker is claiming at the same
    moment are skipped rather than waited for, and the batch is claimed in one statement."""
    new_events = InboundEvent.objects.filter(
        status=InboundEvent.Status.PENDING, next_attempt_at__isnull=True
    ).order_by("pk")
    if not connection.features.has_select_for_update_skip_locked:
        # SQLite: one writer at a time, and a read that turns into a write inside one
        # transaction fails if another writer committed in between; each claim is its own
        # conditional UPDATE instead.
        candidates = list(new_events.values_list("pk", flat=True)[:limit])
        return [pk for pk in candidates if claim_inbound_event(pk, until=until)]
    with transaction.atomic():
        # The rows stay locked until commit, so they still match when updated.
        claimed = list(
            new_events.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
        )
        InboundEvent.objects.filter(pk__in=claimed).update(
            next_attempt_at=until, attempts=F("attempts") + 1
        )
    return claimed


def finish_inbound_event(event_id: int, *, ignored_reason: str = "") -> str:
    """Mark a claimed event processed, or ignored with the adapter's reason; returns the
    new status. Called in the transaction that saved what the event held, so an event is
    never marked done without its messages, nor its messages saved twice over a crash."""
    return _finish_inbound_events([event_id], ignored_reason=ignored_reason)


def finish_inbound_events(event_ids: Sequence[int]) -> None:
    """``finish_inbound_event`` for claimed events whose messages were all saved together."""
    _finish_inbound_events(event_ids, ignored_reason="")


def _finish_inbound_events(event_ids: Sequence[int], *, ignored_reason: str) -> str:
    status = InboundEvent.Status.IGNORED if ignored_reason else InboundEvent.Status.PROCESSED
    InboundEvent.objects.filter(pk__in=event_ids).update(
        status=status,
        error=ignored_reason[:MAX_EVENT_ERROR_LENGTH],
        next_attempt_at=None,
        processed_at=timezone.now(),
    )
    return status


def hold_back_inbound_events(event_ids: Iterable[int], *, until: datetime) -> None:
    """Let claimed events wait until ``until`` before they are tried again (the sweep and
    ``process_inbound_event_task`` take them then); the attempt they were claimed for
    counts."""
    InboundEvent.objects.filter(pk__in=list(event_ids)).update(next_attempt_at=until)


def fail_inbound_event(event_id: int, *, error: str, retry_at: datetime | None) -> None:
    """Record why processing failed. With ``retry_at`` the sweep tries again from then;
    without it the event waits for a person (``manage.py reprocess_inbound``)."""
    InboundEvent.objects.filter(pk=event_id).update(
        status=InboundEvent.Status.FAILED, error=_event_error(error), next_attempt_at=retry_at
    )


def reset_inbound_events(event_ids: Iterable[int]) -> list[int]:
    """Make events processable again from scratch, whatever their status, attempts and
    backoff; returns the ids reset. An event a worker is processing right now (pending
    under a lease) is left to it."""
    now = timezone.now()
    events = InboundEvent.objects.filter(pk__in=list(event_ids)).exclude(
        status=InboundEvent.Status.PENDING, next_attempt_at__gt=now
    )
    with transaction.atomic():
        ids = list(events.select_for_update().order_by("pk").values_list("pk", flat=True))
        InboundEvent.objects.filter(pk__in=ids).update(
            status=InboundEvent.Status.PENDING,
            attempts=0,
            error="",
            next_attempt_at=None,
            processed_at=None,
        )
    return ids


def requeue_inbound_events(event_ids: Iterable[int], *, actor: User) -> list[int]:
    """An admin's "process again" (API, admin): reset the events like
    ``manage.py reprocess_inbound`` does and hand each to a worker once the reset commits.
    Returns the ids reset; an event a worker holds right now is left to it."""
    # tasks imports this module for the event lifecycle above.
    from channels_inbox.tasks import process_inbound_event_task

    check_admin(actor)
    with transaction.atomic():
        ids = reset_inbound_events(event_ids)
        for event_id in ids:
            enqueue_on_commit(process_inbound_event_task, event_id)
    return ids


# --- Whether a reply can go out ------------------------------------------------------------


class ReplyRefusedError(TicketError):
    """The ticket's channel cannot take a free-text reply now. ``conflict_details`` is what
    the API's 409 adds to the reason: the templates the agent may send instead."""

    def __init__(self, check: SendCheck) -> None:
        super().__init__(check.reason)
        self.check = check

    @property
    def conflict_details(self) -> dict[str, Any]:
        return {"templates": [dataclasses.asdict(choice) for choice in self.check.templates]}


def reply_send_check(ticket: Ticket) -> SendCheck:
    """The ticket's channel's answer to "can the agent send free text now?"; allowed when the
    ticket has no channel account (a ticket an agent opened) or the adapter is unknown (the
    delivery task reports that)."""
    account = ticket.channel_account
    if account is None:
        return SendCheck(allowed=True)
    try:
        adapter = get_adapter(account.kind)
    except ChannelError:
        return SendCheck(allowed=True)
    return adapter.can_send(account, ticket)


def check_reply(ticket: Ticket) -> None:
    """``settings.REPLY_CHECK``: called by ``tickets.services.add_reply`` with the ticket
    locked, before the reply is stored. ReplyRefusedError when the channel refuses."""
    check = reply_send_check(ticket)
    if not check.allowed:
        raise ReplyRefusedError(check)
