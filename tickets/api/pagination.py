"""The ticket list's and the ticket timeline's sort orders; the keyset pagination itself is
``helpdesk.pagination.KeysetCursorPagination``."""

from __future__ import annotations

from helpdesk.pagination import KeysetCursorPagination
from tickets.queries import PRIORITY_RANK


class TicketPagination(KeysetCursorPagination):
    """Most recently changed tickets first, as the inbox shows them."""

    ordering_fields = {
        "id": "id",
        "created_at": "created_at",
        "updated_at": "updated_at",
        "last_message_at": "last_message_at",
        "priority": PRIORITY_RANK,
    }
    default_ordering = "-updated_at"


class TimelinePagination(KeysetCursorPagination):
    """Messages and activities of one ticket, oldest first, as the conversation reads."""

    ordering_query_param = None
    ordering_fields = {"created_at": "created_at"}
    default_ordering = "created_at"
