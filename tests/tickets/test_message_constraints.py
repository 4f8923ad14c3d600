from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from channels_inbox.models import ChannelAccount
from tickets.models import Message, Ticket
from tickets.services import InboundMessage, receive_message


def _inbound(provider_id: str) -> InboundMessage:
    return InboundMessage(
        channel="whatsapp",
        sender_address="+4915112345678",
        text="Is my parcel lost?",
        provider_message_id=provider_id,
    )


def test_database_refuses_a_second_inbound_message_with_the_same_provider_id(
    whatsapp_account: ChannelAccount,
) -> None:
    """Two workers racing past the duplicate check still cannot both save the message."""
    first = receive_message(_inbound("wamid.1"), channel_account=whatsapp_account)

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            ticket=first.ticket,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.CUSTOMER,
            channel_account=whatsapp_account,
            provider_message_id="wamid.1",
        )

    assert Message.objects.filter(provider_message_id="wamid.1").count() == 1


def test_outbound_and_blank_provider_ids_are_not_constrained(
    whatsapp_account: ChannelAccount, ticket: Ticket
) -> None:
    for _ in range(2):
        Message.objects.create(
            ticket=ticket,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.REPLY,
            channel_account=whatsapp_account,
            provider_message_id="wamid.out",
        )
        Message.objects.create(
            ticket=ticket,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.CUSTOMER,
            channel_account=whatsapp_account,
        )

    assert ticket.messages.filter(provider_message_id="wamid.out").count() == 2
