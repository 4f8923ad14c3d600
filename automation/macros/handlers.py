"""How macros reacts to domain events (called by automation.tasks.handle_events_task): a new
customer message gets the channel account's auto-acknowledgement."""

from __future__ import annotations

from automation.macros.services import send_auto_acknowledgement
from helpdesk.events import Event, MessageCreated, TicketCreated
from tickets.models import Message


def handle_event(event: Event) -> None:
    """Cheap for every other event: no query unless a ticket was created or a customer
    wrote. Idempotent: ``send_auto_acknowledgement`` sends at most once per message and
    per period, however often the event arrives."""
    if isinstance(event, TicketCreated):
        send_auto_acknowledgement(event.ticket_id)
    elif isinstance(event, MessageCreated) and event.kind == Message.Kind.CUSTOMER:
        send_auto_acknowledgement(event.ticket_id, message_id=event.message_id)
