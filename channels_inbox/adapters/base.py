"""The interface every channel implements, and the records that cross it.

An adapter holds all of one provider's knowledge: it turns a stored ``InboundEvent`` into
``InboundMessage`` and ``StatusUpdate`` records, and hands one ``OutboundMessage`` to the
provider. The pipeline (``channels_inbox.tasks``) does the rest: claiming, retrying,
threading and recording failures. Adapters never write to the database themselves.
"""

from __future__ import annotations

import abc
import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from tickets.services import InboundMessage, OutboundAttachment

if TYPE_CHECKING:
    from channels_inbox.models import ChannelAccount, InboundEvent
    from tickets.models import Ticket


class ChannelError(Exception):
    """The one error an adapter raises. ``permanent`` says whether trying again can help:
    a refused recipient or a payload we cannot read is permanent; a timeout, a 5xx or a
    "slow down" is not. ``retry_after`` is the provider's own hint in seconds (a 429's
    Retry-After), which the pipeline honours within its cap."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True)
class StatusUpdate:
    """A provider's delivery report about one of our outbound messages."""

    provider_message_id: str
    status: str  # a tickets.models.Message.DeliveryStatus value
    error: str = ""
    occurred_at: datetime | None = None


@dataclasses.dataclass(frozen=True)
class ParseResult:
    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    # Set when nothing in the event is for us (our own mail, a loop, a provider ping).
    ignored_reason: str = ""


@dataclasses.dataclass(frozen=True)
class OutboundTemplate:
    """A provider-approved template to send instead of the message's free text."""

    name: str
    language: str
    parameters: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class OutboundMessage:
    """What an adapter needs to send one reply; built by the pipeline from the rows."""

    message_id: int
    ticket_id: int
    ticket_number: int
    subject: str
    text: str
    html: str
    to_address: str
    to_name: str
    attachments: tuple[OutboundAttachment, ...]
    # provider_message_id of the ticket's earlier messages, oldest first.
    thread_provider_ids: tuple[str, ...]
    is_automatic: bool = False
    # Set for a reply the agent chose as a template; ``text`` is then its rendered body.
    template: OutboundTemplate | None = None


@dataclasses.dataclass(frozen=True)
class SendResult:
    provider_message_id: str


@dataclasses.dataclass(frozen=True)
class TemplateChoice:
    """An approved template an agent may send instead of free text."""

    name: str
    language: str
    body: str
    parameter_count: int


@dataclasses.dataclass(frozen=True)
class SendCheck:
    """Whether an agent's free-text reply can go out on a ticket's channel right now, and
    why, in a sentence fit for the agent (also when it can: until when, or how it goes).
    ``templates`` are what may be sent instead when it cannot."""

    allowed: bool
    reason: str = ""
    templates: tuple[TemplateChoice, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def payload_bytes(event: InboundEvent) -> bytes:
    """The stored payload as bytes: PostgreSQL hands a BinaryField back as a memoryview."""
    return bytes(event.payload)


class ChannelAdapter(abc.ABC):
    kind: ClassVar[str]

    @abc.abstractmethod
    def parse(self, account: ChannelAccount, event: InboundEvent) -> ParseResult:
        """Read a stored event. Raises ChannelError; anything else is treated as a bug."""

    @abc.abstractmethod
    def send(self, account: ChannelAccount, outbound: OutboundMessage) -> SendResult:
        """Hand one message to the provider. Raises ChannelError on every failure, with
        ``permanent`` set when sending the same message again cannot succeed."""

    def can_send(self, account: ChannelAccount, ticket: Ticket) -> SendCheck:
        """Whether an agent may send a free-text reply on ``ticket`` through ``account`` now.
        Asked before the agent types and again when the reply is submitted; ``send`` still
        enforces the provider's rules itself. Channels without such rules keep this."""
        return SendCheck(allowed=True)
