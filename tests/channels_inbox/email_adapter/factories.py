"""Builders shared by the email adapter tests."""

from __future__ import annotations

from typing import Any

from channels_inbox.adapters.base import OutboundMessage
from channels_inbox.models import ChannelAccount


def email_account_row(**overrides: Any) -> ChannelAccount:
    fields: dict[str, Any] = {
        "kind": "email",
        "name": "Acme Support",
        "slug": "acme-support",
        "address": "support@acme.test",
        "credentials": {},
    }
    fields.update(overrides)
    return ChannelAccount.objects.create(**fields)


def outbound_message(**overrides: Any) -> OutboundMessage:
    fields: dict[str, Any] = {
        "message_id": 42,
        "ticket_id": 7,
        "ticket_number": 1234,
        "subject": "Order #1001 arrived damaged",
        "text": "Hello Ana,\n\nWe are sending a new one.\nBest, Bob",
        "html": "",
        "to_address": "ana@example.com",
        "to_name": "Ana Souza",
        "attachments": (),
        "thread_provider_ids": ("CAF=xy12+ab@mail.gmail.com",),
        "is_automatic": False,
    }
    fields.update(overrides)
    return OutboundMessage(**fields)
