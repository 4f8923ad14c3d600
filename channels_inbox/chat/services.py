"""The chat's writes: what a visitor tells us about themselves, their messages and files
(stored as inbound events for the shared pipeline), and their delivery and read receipts.

Called by the widget's endpoints and the visitor's socket (``views``, ``consumers``), each
after they checked the origin, the token and the rate limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from channels_inbox.chat.models import ChatVisitor
from channels_inbox.chat.queries import visitor_customer_id
from channels_inbox.models import ChannelAccount
from channels_inbox.services import store_inbound_event
from customers.models import Customer, Identity
from customers.services import CustomerError, add_identity, resolve_sender, update_customer
from helpdesk.channel_kinds import ChannelKind
from tickets.models import Message
from tickets.services import apply_status_update

MAX_NAME_LENGTH = 100
MAX_TEXT_LENGTH = 5000
# The widget names each message with random characters, so that sending it again after a
# dropped connection stores it once.
CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")

# Event headers the chat adapter reads back.
KIND_HEADER = "Chat-Kind"
VISITOR_HEADER = "Chat-Visitor"
FILE_NAME_HEADER = "Chat-File-Name"
CONTENT_TYPE_HEADER = "Chat-Content-Type"


class VisitorInputError(ValueError):
    """What the visitor sent cannot be taken; the message is fit to show them. ``field``
    names the form field when there is one."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def event_external_id(visitor_id: str, client_message_id: str) -> str:
    """One visitor's message: the key that drops a repeat, and later its provider id."""
    return f"{visitor_id}:{client_message_id}"


def check_client_message_id(value: object) -> str:
    if not isinstance(value, str) or not CLIENT_MESSAGE_ID.fullmatch(value):
        raise VisitorInputError("A message needs an id of 8 to 64 letters, digits, - or _.")
    return value


def check_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise VisitorInputError("The message is empty.")
    if len(value) > MAX_TEXT_LENGTH:
        raise VisitorInputError(f"Messages are at most {MAX_TEXT_LENGTH} characters.")
    return value.strip()


@dataclass(frozen=True)
class VisitorDetails:
    name: str
    email: str


def check_visitor_details(name: object, email: object) -> VisitorDetails:
    """The name and email a visitor typed, cleaned; VisitorInputError naming the field."""
    if name is None:
        name = ""
    if email is None:
        email = ""
    if not isinstance(name, str):
        raise VisitorInputError("The name must be text.", field="name")
    if not isinstance(email, str):
        raise VisitorInputError("The email address must be text.", field="email")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise VisitorInputError(f"Names are at most {MAX_NAME_LENGTH} characters.", field="name")
    email = email.strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise VisitorInputError("That is not an email address.", field="email") from None
    return VisitorDetails(name=name, email=email)


def identify_visitor(
    account: ChannelAccount, visitor_id: str, details: VisitorDetails
) -> ChatVisitor | None:
    """Remember the name and email the visitor gave (blank ones change nothing); None when
    both are blank.

    The visitor becomes a customer now rather than at their first message, so an agent sees
    who is writing and an email reply can reach them. Their name fills the customer's name
    when it is blank (an agent's correction wins). Their email becomes the customer's email
    identity, and their preferred address if they have none, unless another customer already
    has it: then it is kept on the ``ChatVisitor`` row alone (see there), and an agent who
    knows they are one person merges the customers."""
    if not details.name and not details.email:
        return None
    with transaction.atomic():
        visitor, _ = ChatVisitor.objects.select_for_update().get_or_create(
            visitor_id=visitor_id, defaults={"channel_account": account}
        )
        changed = []
        if details.name and details.name != visitor.name:
            visitor.name = details.name
            changed.append("name")
        if details.email and details.email != visitor.email:
            visitor.email = details.email
            changed.append("email")
        if changed:
            visitor.save(update_fields=[*changed, "updated_at"])
        customer = resolve_sender(ChannelKind.CHAT, visitor_id, display_name=details.name).customer
        if details.name and not customer.name:
            customer = update_customer(customer, name=details.name)
        if details.email:
            owner = (
                Identity.objects.filter(kind=ChannelKind.EMAIL, address=details.email)
                .values_list("customer_id", flat=True)
                .first()
            )
            if owner is None and not customer.email:
                _try_add_email(customer, details.email, preferred=True)
            elif owner is None:
                _try_add_email(customer, details.email, preferred=False)
    return visitor


def _try_add_email(customer: Customer, email: str, *, preferred: bool) -> None:
    try:
        with transaction.atomic():
            if preferred:
                update_customer(customer, email=email)
            else:
                add_identity(customer, kind=ChannelKind.EMAIL, address=email)
    except CustomerError:
        # Another conversation gave the same address a moment ago; the claim stays on the
        # ChatVisitor row.
        pass


def store_visitor_message(
    account: ChannelAccount, visitor_id: str, client_message_id: str, text: str
) -> bool:
    """Store a visitor's text message for the pipeline; False when it was stored before
    (the widget sent it again after a lost acknowledgement)."""
    payload = json.dumps({"id": client_message_id, "text": text}, ensure_ascii=False)
    _, created = store_inbound_event(
        account,
        external_id=event_external_id(visitor_id, client_message_id),
        payload=payload.encode("utf-8"),
        headers={KIND_HEADER: "message", VISITOR_HEADER: visitor_id},
    )
    return created


def store_visitor_file(
    account: ChannelAccount,
    visitor_id: str,
    client_message_id: str,
    *,
    name: str,
    content_type: str,
    content: bytes,
) -> bool:
    """Store a file the visitor sent, already checked, as a message of its own; False when
    it was stored before."""
    _, created = store_inbound_event(
        account,
        external_id=event_external_id(visitor_id, client_message_id),
        payload=content,
        headers={
            KIND_HEADER: "file",
            VISITOR_HEADER: visitor_id,
            FILE_NAME_HEADER: name,
            CONTENT_TYPE_HEADER: content_type,
        },
    )
    return created


def record_visitor_receipts(
    account: ChannelAccount, visitor_id: str, message_ids: Iterable[int], *, status: str
) -> list[int]:
    """Mark replies the visitor's widget showed (``delivered``) or the visitor saw
    (``read``). Only replies in the visitor's own conversations on the account count; others
    are ignored. Returns the ids of replies still ``queued``: the socket push can reach the
    widget before the delivery task has recorded the send, and the caller tries those again
    a moment later."""
    customer_id = visitor_customer_id(visitor_id)
    if customer_id is None:
        return []
    replies = Message.objects.filter(
        pk__in=list(message_ids),
        direction=Message.Direction.OUTBOUND,
        ticket__customer_id=customer_id,
        ticket__channel_account=account,
    ).values_list("pk", "provider_message_id", "delivery_status", "channel_account_id")
    waiting = []
    for pk, provider_message_id, delivery_status, channel_account_id in replies:
        if delivery_status == Message.DeliveryStatus.QUEUED:
            waiting.append(pk)
        elif provider_message_id and channel_account_id == account.pk:
            apply_status_update(account, provider_message_id=provider_message_id, status=status)
    return waiting
