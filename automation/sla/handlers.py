"""How SLA reacts to domain events (called by automation.tasks.handle_events_task): every
event that can move a ticket's clocks or change its policy recomputes them. Recomputing is
idempotent, so a retried or repeated event changes nothing more."""

from __future__ import annotations

from automation.sla.services import RELEVANT_FIELDS, sync_ticket_sla
from helpdesk.events import Event, MessageCreated, TicketCreated, TicketsMerged, TicketUpdated
from tickets.models import Message

CLOCK_MESSAGE_KINDS = frozenset({Message.Kind.CUSTOMER.value, Message.Kind.REPLY.value})


def handle_event(event: Event) -> None:
    if isinstance(event, TicketCreated):
        sync_ticket_sla(event.ticket_id)
    elif isinstance(event, TicketUpdated):
        # Our own due-time writes come back as ticket.updated too; they name no field here.
        if RELEVANT_FIELDS.intersection(event.fields):
            sync_ticket_sla(event.ticket_id)
    elif isinstance(event, MessageCreated):
        if event.kind in CLOCK_MESSAGE_KINDS:
            sync_ticket_sla(event.ticket_id)
    elif isinstance(event, TicketsMerged):
        sync_ticket_sla(event.source_ticket_id)
        sync_ticket_sla(event.target_ticket_id)
