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
from typing import TYPE_CHECKING, ClassVar

from tickets.services import InboundMessage, OutboundAttachment

if TYPE_CHECKING:
    from channels_inbox.models import ChannelAccount, InboundEvent


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


@dataclasses.dataclass(frozen=True)
class SendResult:
    provider_message_id: str


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
