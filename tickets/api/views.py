"""The ticket REST API: ``/api/v1/tickets/`` and the actions on one ticket.

Status codes, the same on every endpoint:

- **400**: the request itself is wrong: an unknown or read-only field, a value of the wrong
  type, an id in the body that names no row, a bad filter value or unknown query parameter.
  The body maps each field (or ``non_field_errors``) to its messages.
- **404**: the ticket in the URL does not exist (or, for an unlink, the order is not linked).
- **409**: the request is well formed but the ticket's state forbids it, i.e.
  ``tickets.services`` raised ``TicketError`` (the ticket is closed or merged, the agent is
  deactivated, ...). The body is ``{"detail": "<the service's message>"}``.

Every write calls ``tickets.services`` inside one transaction, so any error response leaves
the database as it was.
"""

from __future__ import annotations

import mimetypes
from typing import Any, cast

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.exceptions import ServiceErrorsMixin
from helpdesk.api.views import ID_PATTERN, METHODS_WITHOUT_PUT, request_user
from helpdesk.models import User
from tickets import services
from tickets.api.filters import TicketFilter, TicketFilterBackend
from tickets.api.pagination import TicketPagination, TimelinePagination
from tickets.api.serializers import (
    MessageMoveSerializer,
    MessageSerializer,
    MessageSplitSerializer,
    NoteSerializer,
    ReplySerializer,
    TicketActivitySerializer,
    TicketCreateSerializer,
    TicketMergeSerializer,
    TicketOrderLinkSerializer,
    TicketSerializer,
    TicketTagsSerializer,
    TicketUpdateSerializer,
)
from tickets.models import Message, Ticket
from tickets.queries import (
    TicketRow,
    attach_related,
    ticket_activities_queryset,
    ticket_list_queryset,
    ticket_messages_queryset,
    ticket_rows,
)

CONFLICT = OpenApiResponse(description="The ticket's state forbids the change (TicketError).")


@extend_schema_view(
    list=extend_schema(summary="List tickets"),
    retrieve=extend_schema(summary="Show a ticket"),
)
class TicketViewSet(
    ServiceErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Tickets: list and filter, open one for a customer, change it, and work its timeline.
    Status codes are described in this module's docstring (400 / 404 / 409)."""

    serializer_class = TicketSerializer
    filter_backends = [TicketFilterBackend]
    filterset_class = TicketFilter
    pagination_class = TicketPagination
    parser_classes = [JSONParser]
    lookup_value_regex = ID_PATTERN
    http_method_names = METHODS_WITHOUT_PUT
    conflict_errors = (services.TicketError,)

    def get_queryset(self) -> Any:
        return ticket_list_queryset()

    # --- Helpers -------------------------------------------------------------------------------

    @property
    def agent(self) -> User:
        return request_user(self.request)

    def _ticket(self) -> Ticket:
        """The ticket named in the URL, unlocked and without relations: the services lock
        and reload it themselves."""
        return get_object_or_404(Ticket, pk=self.kwargs["pk"])

    def _ticket_response(self, ticket_id: int, code: int = status.HTTP_200_OK) -> Response:
        (ticket,) = ticket_rows([ticket_id])
        return Response(TicketSerializer(ticket, context=self.get_serializer_context()).data, code)

    def _message_response(self, message: Message, code: int = status.HTTP_201_CREATED) -> Response:
        message = ticket_messages_queryset(message.ticket_id).get(pk=message.pk)
        data = MessageSerializer(message, context=self.get_serializer_context()).data
        return Response(data, status=code)

    def _message(self, ticket: Ticket) -> Message:
        """The message named in the URL; 404 unless it is on the ticket named there."""
        return get_object_or_404(Message, pk=self.kwargs["message_id"], ticket=ticket)

    @staticmethod
    def _validated(serializer_class: type[Any], data: Any, **context: Any) -> dict[str, Any]:
        serializer = serializer_class(data=data, context=context)
        serializer.is_valid(raise_exception=True)
        return cast(dict[str, Any], serializer.validated_data)

    # --- Tickets -------------------------------------------------------------------------------

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        attach_related(rows)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        # Not get_object(): the list's filters narrow lists, and a ticket's own URL shows the
        # ticket whatever the query string says.
        # django-stubs types get_object_or_404 for querysets of instances; this one gives dicts.
        found = get_object_or_404(ticket_list_queryset(), pk=pk)  # type: ignore[type-var]
        row = cast(TicketRow, found)
        attach_related([row])
        return Response(self.get_serializer(row).data)

    @extend_schema(
        summary="Open a ticket for a customer",
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self._validated(TicketCreateSerializer, request.data)
        with transaction.atomic():
            ticket = services.open_ticket(
                customer=data["customer"],
                channel=data["channel"],
                subject=data["subject"],
                channel_account=data.get("channel_account"),
                priority=data["priority"],
                team=data.get("team"),
                actor=self.agent,
            )
            if data.get("note", "").strip():
                services.add_note(ticket, author=self.agent, text=data["note"])
        return self._ticket_response(ticket.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a ticket's status, priority, assignee or team",
        request=TicketUpdateSerializer,
        responses={200: TicketSerializer, 409: CONFLICT},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        ticket = self._ticket()
        data = self._validated(TicketUpdateSerializer, request.data)
        actor = self.agent
        # Status goes last: closing a ticket and handing it over in one request assigns it
        # while it is still open, which the services require.
        with transaction.atomic():
            if "team" in data:
                ticket = services.assign_team(ticket, data["team"], actor=actor)
            if "assignee" in data:
                if data["assignee"] is None:
                    ticket = services.unassign_ticket(ticket, actor=actor)
                else:
                    ticket = services.assign_ticket(ticket, data["assignee"], actor=actor)
            if "priority" in data:
                ticket = services.change_priority(ticket, data["priority"], actor=actor)
            if "status" in data:
                ticket = services.change_status(ticket, data["status"], actor=actor)
        return self._ticket_response(ticket.pk)

    @extend_schema(
        summary="Add and remove tags",
        request=TicketTagsSerializer,
        responses={200: TicketSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def tags(self, request: Request, pk: str | None = None) -> Response:
        ticket = self._ticket()
        data = self._validated(TicketTagsSerializer, request.data)
        with transaction.atomic():
            if data["add"]:
                ticket = services.tag_ticket(ticket, data["add"], actor=self.agent)
            if data["remove"]:
                ticket = services.untag_ticket(ticket, data["remove"], actor=self.agent)
        return self._ticket_response(ticket.pk)

    @extend_schema(
        summary="Merge this ticket into another",
        description="Moves this ticket's messages, tags and orders into the other ticket and "
        "closes this one. Returns the ticket merged into.",
        request=TicketMergeSerializer,
        responses={200: TicketSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        ticket = self._ticket()
        data = self._validated(TicketMergeSerializer, request.data, ticket=ticket)
        target = services.merge_tickets(ticket, data["into"], actor=self.agent)
        return self._ticket_response(target.pk)

    @extend_schema(
        summary="Link an order",
        request=TicketOrderLinkSerializer,
        responses={200: TicketSerializer},
    )
    @action(detail=True, methods=["post"])
    def orders(self, request: Request, pk: str | None = None) -> Response:
        ticket = self._ticket()
        data = self._validated(TicketOrderLinkSerializer, request.data)
        ticket = services.link_order(ticket, data["order"], actor=self.agent)
        return self._ticket_response(ticket.pk)

    @extend_schema(
        summary="Unlink an order",
        parameters=[OpenApiParameter("order_id", int, OpenApiParameter.PATH)],
        request=None,
        responses={204: None},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"orders/(?P<order_id>[0-9]+)",
        url_name="order",
    )
    def unlink_order(
        self, request: Request, pk: str | None = None, order_id: str | None = None
    ) -> Response:
        ticket = self._ticket()
        order = ticket.orders.filter(pk=int(order_id or 0)).first()
        if order is None:
            raise NotFound(f"Order {order_id} is not linked to ticket #{ticket.number}.")
        services.unlink_order(ticket, order, actor=self.agent)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- Timeline ------------------------------------------------------------------------------

    @extend_schema(
        summary="List a ticket's messages, oldest first",
        responses=MessageSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=MessageSerializer,
        pagination_class=TimelinePagination,
        filterset_class=None,
    )
    def messages(self, request: Request, pk: str | None = None) -> Response:
        ticket = self._ticket()
        page = self.paginate_queryset(self.filter_queryset(ticket_messages_queryset(ticket)))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Reply to the customer",
        description="JSON, or multipart/form-data with files under `attachments`. The reply "
        "is queued and sent by the channel's delivery task.",
        request={
            "application/json": ReplySerializer,
            "multipart/form-data": ReplySerializer,
        },
        responses={201: MessageSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def reply(self, request: Request, pk: str | None = None) -> Response:
        ticket = self._ticket()
        data = self._validated(ReplySerializer, request.data)
        attachments = [
            services.OutboundAttachment(
                name=upload.name or "",
                content_type=upload.content_type
                or mimetypes.guess_type(upload.name or "")[0]
                or "application/octet-stream",
                content=upload.read(),
            )
            for upload in data.get("attachments", [])
        ]
        message = services.add_reply(
            ticket,
            author=self.agent,
            text=data.get("text", ""),
            html=data.get("html", ""),
            status=data.get("status"),
            attachments=attachments,
        )
        return self._message_response(message)

    @extend_schema(
        summary="Add an internal note",
        request=NoteSerializer,
        responses={201: MessageSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str | None = None) -> Response:
        ticket = self._ticket()
        data = self._validated(NoteSerializer, request.data)
        message = services.add_note(
            ticket, author=self.agent, text=data.get("text", ""), html=data.get("html", "")
        )
        return self._message_response(message)

    @extend_schema(
        summary="Split a customer message into a new ticket",
        description="Moves the message and its attachments to a new ticket of the same "
        "customer, channel and account. Returns the new ticket. Replies, notes and a ticket's "
        "only message do not split (409).",
        parameters=[OpenApiParameter("message_id", int, OpenApiParameter.PATH)],
        request=None,
        responses={201: TicketSerializer, 409: CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"messages/(?P<message_id>[0-9]+)/split",
        url_name="message-split",
    )
    def split_message(
        self, request: Request, pk: str | None = None, message_id: str | None = None
    ) -> Response:
        ticket = self._ticket()
        message = self._message(ticket)
        self._validated(MessageSplitSerializer, request.data)
        new_ticket = services.split_message_to_new_ticket(message, actor=self.agent)
        return self._ticket_response(new_ticket.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move a message to another ticket of the same customer",
        description="Customer messages and notes move, with their attachments; replies do "
        "not (409). Returns the moved message.",
        parameters=[OpenApiParameter("message_id", int, OpenApiParameter.PATH)],
        request=MessageMoveSerializer,
        responses={200: MessageSerializer, 409: CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"messages/(?P<message_id>[0-9]+)/move",
        url_name="message-move",
    )
    def move_message(
        self, request: Request, pk: str | None = None, message_id: str | None = None
    ) -> Response:
        ticket = self._ticket()
        message = self._message(ticket)
        data = self._validated(MessageMoveSerializer, request.data, ticket=ticket)
        moved = services.move_message(message, data["ticket"], actor=self.agent)
        return self._message_response(moved, status.HTTP_200_OK)

    @extend_schema(
        summary="Send a failed reply again",
        description="Queues the reply again through the delivery pipeline, with its error "
        "cleared. 409 unless the message is a reply whose delivery failed.",
        parameters=[OpenApiParameter("message_id", int, OpenApiParameter.PATH)],
        request=None,
        responses={200: MessageSerializer, 409: CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"messages/(?P<message_id>[0-9]+)/retry",
        url_name="message-retry",
    )
    def retry_message(
        self, request: Request, pk: str | None = None, message_id: str | None = None
    ) -> Response:
        ticket = self._ticket()
        message = self._message(ticket)
        self._validated(MessageSplitSerializer, request.data)
        retried = services.retry_delivery(message, actor=self.agent)
        return self._message_response(retried, status.HTTP_200_OK)

    @extend_schema(
        summary="List a ticket's activities (the audit trail), oldest first",
        responses=TicketActivitySerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=TicketActivitySerializer,
        pagination_class=TimelinePagination,
        filterset_class=None,
    )
    def activities(self, request: Request, pk: str | None = None) -> Response:
        ticket = self._ticket()
        page = self.paginate_queryset(self.filter_queryset(ticket_activities_queryset(ticket)))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
