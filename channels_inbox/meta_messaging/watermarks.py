"""Turning a delivery or read watermark into reports about our messages.

Messenger does not say which messages a receipt is about: it says that everything the Page
sent to the person up to a moment (the watermark) was delivered, or read. The pipeline
applies reports one message at a time (``tickets.services.apply_status_update``, which only
moves a message forward), so the adapter lists the messages a watermark covers, as a read
of the rows it is about to report on; the reports themselves are written by the pipeline
in its transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from channels_inbox.models import ChannelAccount
from customers.models import Identity
from tickets.models import Message
from tickets.services import DELIVERY_PROGRESS

# A conversation holds a handful of unreported replies at a time; the newest go first, so a
# backlog beyond this (receipts switched off for months) cannot make one event huge.
MAX_COVERED_MESSAGES = 500


def outbound_ids_up_to(
    account: ChannelAccount, customer_address: str, *, status: str, up_to: datetime
) -> list[str]:
    """Provider ids of the outbound messages ``account`` sent to the customer at
    ``customer_address`` (their PSID or IGSID) at or before ``up_to`` that are sent but
    have not reached ``status`` ("delivered" or "read") yet, newest first.

    A message counts as sent at or before ``up_to`` when it was created by then (a reply is
    queued before it goes out) or, while still only sent, when it went out by then: a
    message sent from elsewhere is imported after it was sent, with its own send time."""
    customer_id = (
        Identity.objects.filter(kind=account.kind, address=customer_address)
        .values_list("customer_id", flat=True)
        .first()
    )
    if customer_id is None:
        return []
    rank = DELIVERY_PROGRESS[Message.DeliveryStatus(status)]
    below = [value for value, place in DELIVERY_PROGRESS.items() if 0 < place < rank]
    covered = (
        Message.objects.filter(
            channel_account=account,
            direction=Message.Direction.OUTBOUND,
            ticket__customer_id=customer_id,
            delivery_status__in=below,
        )
        .filter(
            Q(created_at__lte=up_to)
            | Q(delivery_status=Message.DeliveryStatus.SENT, delivery_updated_at__lte=up_to)
        )
        .exclude(provider_message_id="")
        .order_by("-id")
        .values_list("provider_message_id", flat=True)
    )
    return list(covered[:MAX_COVERED_MESSAGES])
