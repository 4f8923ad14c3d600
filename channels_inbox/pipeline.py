"""What the inbound and outbound tasks share: the retry schedule and the outbound record.

Retries follow one rule on both sides: exponential backoff from ``PIPELINE_RETRY_BASE_SECONDS``,
doubling per attempt up to ``PIPELINE_RETRY_MAX_DELAY_SECONDS``, with "equal jitter" (a random
point in the upper half of the step), so workers that failed together at a provider outage do
not all come back in the same second.
"""

from __future__ import annotations

import random

from django.conf import settings

from channels_inbox.adapters import OutboundMessage
from channels_inbox.adapters.base import OutboundTemplate
from channels_inbox.whatsapp.models import TemplateReply
from customers.models import Identity
from helpdesk.channel_kinds import ChannelKind
from tickets.models import Message, Ticket
from tickets.services import OutboundAttachment


def retry_delay(attempts: int, *, retry_after: float | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1 for the first). A
    provider's own hint (``retry_after``) is honoured when it asks for longer, within the
    cap."""
    base = float(settings.PIPELINE_RETRY_BASE_SECONDS)
    cap = float(settings.PIPELINE_RETRY_MAX_DELAY_SECONDS)
    # The exponent is bounded before the power: 2 ** 10_000 would overflow a float.
    step = min(cap, base * 2 ** min(max(attempts, 1) - 1, 32))
    delay = step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not a secret
    if retry_after is not None and retry_after > delay:
        delay = min(float(retry_after), cap)
    return delay


class RecipientMissingError(LookupError):
    """The ticket's customer has no address on the ticket's channel."""


def recipient_of(ticket: Ticket) -> tuple[str, str]:
    """The customer's address and name on the ticket's channel: for email the customer's
    preferred address when one is set, otherwise the newest handle on the channel (the one
    the customer last wrote from when they have several)."""
    customer = ticket.customer
    if ticket.channel == ChannelKind.EMAIL and customer.email:
        return customer.email, customer.name
    identity = (
        Identity.objects.filter(customer=customer, kind=ticket.channel)
        .order_by("-created_at", "-id")
        .first()
    )
    if identity is None:
        raise RecipientMissingError(
            f"The customer has no {ChannelKind(ticket.channel).label} address to send to."
        )
    return identity.address, identity.display_name or customer.name


def build_outbound_message(message: Message) -> OutboundMessage:
    """The record an adapter sends, from a queued message and its ticket. Raises
    RecipientMissingError when there is nobody to send to."""
    ticket = message.ticket
    to_address, to_name = recipient_of(ticket)
    attachments = []
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            content = handle.read()
        attachments.append(
            OutboundAttachment(
                name=attachment.name, content_type=attachment.content_type, content=content
            )
        )
    thread_provider_ids = tuple(
        Message.objects.filter(ticket=ticket, created_at__lte=message.created_at)
        .exclude(pk=message.pk)
        .exclude(provider_message_id="")
        .exclude(direction=Message.Direction.INTERNAL)
        .order_by("created_at", "id")
        .values_list("provider_message_id", flat=True)
    )
    template_reply = TemplateReply.objects.filter(message=message).first()
    template = (
        OutboundTemplate(
            name=template_reply.name,
            language=template_reply.language,
            parameters=tuple(template_reply.parameters),
        )
        if template_reply is not None
        else None
    )
    return OutboundMessage(
        message_id=message.pk,
        ticket_id=ticket.pk,
        ticket_number=ticket.number,
        subject=ticket.subject,
        text=message.text,
        html=message.html,
        to_address=to_address,
        to_name=to_name,
        attachments=tuple(attachments),
        thread_provider_ids=thread_provider_ids,
        is_automatic=message.is_automated,
        template=template,
    )
