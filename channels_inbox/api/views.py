"""Channel accounts (``/api/v1/channel-accounts/``) and the deliveries they received
(``/api/v1/inbound-events/``): admins only, for every method, because even the lists tell
which inboxes exist, where their webhooks are and what failed.

What a ticket's channel allows an agent to send (``/api/v1/tickets/<id>/can-send/``) and
template replies (``/api/v1/tickets/<id>/template-reply/``): every agent, like the tickets
API these sit next to (they live here because only this app knows the channels)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import IntegerField, QuerySet
from django.db.models.functions import Coalesce, Length
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from channels_inbox.api.serializers import (
    ChannelAccountSerializer,
    ChannelAccountWriteSerializer,
    InboundEventDetailSerializer,
    InboundEventReprocessSerializer,
    InboundEventSerializer,
    SendCheckSerializer,
    TemplateReplySerializer,
)
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import (
    create_channel_account,
    deactivate_channel_account,
    reply_send_check,
    requeue_inbound_events,
    update_channel_account,
)
from channels_inbox.whatsapp.templates import add_template_reply
from helpdesk.api.exceptions import Conflict, ServiceErrorsMixin
from helpdesk.api.filters import (
    DATE_TIME_SCHEMA,
    IdOrKeywordFilter,
    InFilter,
    StrictBooleanFilter,
    UpdatedSinceFilter,
    documented,
)
from helpdesk.api.views import (
    ID_PATTERN,
    METHODS_WITHOUT_PUT,
    ReadWriteSerializerMixin,
    request_user,
)
from helpdesk.channel_kinds import ChannelKind
from helpdesk.permissions import IsAdmin
from tickets.api.serializers import MessageSerializer
from tickets.models import Ticket
from tickets.queries import ticket_messages_queryset
from tickets.services import TicketError


class ChannelAccountFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ChannelKind.choices)
    is_active = StrictBooleanFilter()

    class Meta:
        model = ChannelAccount
        fields = ["kind", "is_active"]


@extend_schema_view(
    create=extend_schema(
        request=ChannelAccountWriteSerializer, responses={201: ChannelAccountSerializer}
    ),
    partial_update=extend_schema(
        request=ChannelAccountWriteSerializer, responses={200: ChannelAccountSerializer}
    ),
    destroy=extend_schema(
        description="Deactivates the account (is_active becomes false); its tickets stay.",
        responses={204: None},
    ),
)
class ChannelAccountViewSet(ServiceErrorsMixin, ReadWriteSerializerMixin, viewsets.ModelViewSet):
    """Connected inboxes. Responses carry the webhook URL to give the provider and the names
    of the stored credentials, never their values."""

    serializer_class = ChannelAccountSerializer
    write_serializer_class = ChannelAccountWriteSerializer
    permission_classes = [IsAdmin]
    filterset_class = ChannelAccountFilter
    lookup_value_regex = ID_PATTERN
    http_method_names = METHODS_WITHOUT_PUT

    def get_queryset(self) -> QuerySet[ChannelAccount]:
        return ChannelAccount.objects.all()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ChannelAccountWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = create_channel_account(actor=request_user(request), **serializer.validated_data)
        return Response(ChannelAccountSerializer(account).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        account = self.get_object()
        serializer = ChannelAccountWriteSerializer(account, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        account = update_channel_account(
            account, actor=request_user(request), **serializer.validated_data
        )
        return Response(ChannelAccountSerializer(account).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deactivate_channel_account(self.get_object(), actor=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Inbound events ----------------------------------------------------------------------------


class InboundEventFilter(django_filters.FilterSet):
    status = documented(
        InFilter(
            choices=InboundEvent.Status.choices,
            help_text="One or more statuses, repeated or comma-separated.",
        ),
        {"type": "string"},
    )
    channel_account = documented(
        IdOrKeywordFilter(
            queryset=ChannelAccount.objects.all(),
            noun="channel account",
            help_text="A channel account's id.",
        ),
        {"type": "integer"},
    )
    received_since = documented(
        UpdatedSinceFilter(
            field_name="received_at",
            help_text="Events received at or after this time (ISO 8601 with a time zone).",
        ),
        DATE_TIME_SCHEMA,
    )

    class Meta:
        model = InboundEvent
        fields = ["status", "channel_account", "received_since"]


# The body's media type for the raw download, by channel kind; anything else is plain bytes.
RAW_CONTENT_TYPES: dict[str, str] = {ChannelKind.EMAIL: "message/rfc822"}
RAW_EXTENSIONS: dict[str, str] = {ChannelKind.EMAIL: "eml"}

LIST_FIELDS = (
    "id",
    "channel_account__id",
    "channel_account__name",
    "channel_account__kind",
    "external_id",
    "status",
    "attempts",
    "error",
    "next_attempt_at",
    "received_at",
    "processed_at",
)
CONFLICT = OpenApiResponse(description="A worker is processing the event right now.")


class RawBodyRenderer(BaseRenderer):
    """Lets a client ask for the body by its own media type (``Accept: message/rfc822``);
    the view answers with the bytes itself, so this renders only an error's details."""

    media_type = "*/*"
    format = "raw"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return json.dumps(data).encode()


@extend_schema_view(
    list=extend_schema(summary="List stored inbound deliveries"),
    retrieve=extend_schema(
        summary="Show a stored inbound delivery", responses=InboundEventDetailSerializer
    ),
)
class InboundEventViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Deliveries from the providers as they were stored, with where each stands in the
    pipeline (status, attempts, the last error, the next attempt), so a failure is seen and
    can be run again. Admins only: the bodies are customers' messages and provider data."""

    serializer_class = InboundEventSerializer
    permission_classes = [IsAdmin]
    filterset_class = InboundEventFilter
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[InboundEvent]:
        events = InboundEvent.objects.select_related("channel_account")
        if self.action == "list":
            # The bodies and headers never reach a list; a body can be megabytes of MIME.
            return events.only(*LIST_FIELDS)
        return events.defer("payload", "channel_account__credentials").annotate(
            payload_size=Coalesce(Length("payload"), 0, output_field=IntegerField())
        )

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "list":
            return InboundEventSerializer
        return InboundEventDetailSerializer

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        # Not get_object(): the list's filters narrow the list, not an event's own URL.
        event = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(self.get_serializer(event).data)

    @extend_schema(
        summary="Process a stored delivery again",
        description="Resets the event (status pending, attempts 0, no error) and hands it to "
        "a worker once the reset is committed. 409 while a worker is processing it.",
        request=InboundEventReprocessSerializer,
        responses={202: InboundEventDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def reprocess(self, request: Request, pk: str | None = None) -> Response:
        event = get_object_or_404(InboundEvent.objects.only("id"), pk=pk)
        InboundEventReprocessSerializer(data=request.data).is_valid(raise_exception=True)
        if not requeue_inbound_events([event.pk], actor=request_user(request)):
            raise Conflict("A worker is processing this event right now; try again later.")
        event = self.get_queryset().get(pk=event.pk)
        serializer = InboundEventDetailSerializer(event, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download a stored delivery's body as received",
        description="message/rfc822 for email accounts, application/octet-stream otherwise.",
        responses={
            (200, "message/rfc822"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, RawBodyRenderer])
    def raw(self, request: Request, pk: str | None = None) -> HttpResponse:
        event = get_object_or_404(
            InboundEvent.objects.select_related("channel_account").only(
                "id", "payload", "channel_account__kind"
            ),
            pk=pk,
        )
        kind = event.channel_account.kind
        filename = f"inbound-event-{event.pk}.{RAW_EXTENSIONS.get(kind, 'bin')}"
        response = HttpResponse(
            bytes(event.payload),
            content_type=RAW_CONTENT_TYPES.get(kind, "application/octet-stream"),
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        # A customer's mail must never run as a page of the help desk's origin.
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


TICKET_CONFLICT = OpenApiResponse(description="The ticket cannot take the reply (TicketError).")


class TicketSendingViewSet(ServiceErrorsMixin, viewsets.GenericViewSet):
    """What an agent may send on a ticket's channel, and replies sent as templates."""

    lookup_value_regex = ID_PATTERN
    conflict_errors = (TicketError,)
    queryset = Ticket.objects.none()

    @extend_schema(
        summary="Whether a free-text reply can be sent now",
        description="Asked before the agent types. When `allowed` is false (a WhatsApp "
        "customer service window that closed, an SMS number that opted out), `reason` says "
        "why and `templates` lists the approved templates that may be sent instead "
        "(`template-reply`). The reply endpoint answers 409 with the same reason and "
        "templates.",
        responses={200: SendCheckSerializer},
    )
    @action(detail=True, methods=["get"], url_path="can-send")
    def can_send(self, request: Request, pk: str | None = None) -> Response:
        ticket = get_object_or_404(Ticket.objects.select_related("channel_account"), pk=pk)
        return Response(reply_send_check(ticket).as_dict())

    @extend_schema(
        summary="Reply with an approved WhatsApp template",
        description="Sends the account's approved template with its body parameters, which "
        "WhatsApp delivers also after the customer service window closed. The ticket shows "
        "the body with the parameters filled in. 400 when the template is unknown or the "
        "parameters do not fit it; 409 when the ticket is not on WhatsApp or cannot take a "
        "reply.",
        request=TemplateReplySerializer,
        responses={201: MessageSerializer, 409: TICKET_CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="template-reply")
    def template_reply(self, request: Request, pk: str | None = None) -> Response:
        ticket = get_object_or_404(Ticket.objects.select_related("channel_account"), pk=pk)
        serializer = TemplateReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message = add_template_reply(
            ticket,
            author=request_user(request),
            name=data["template"],
            language=data["language"],
            parameters=data["parameters"],
            status=data.get("status"),
        )
        message = ticket_messages_queryset(message.ticket_id).get(pk=message.pk)
        body = MessageSerializer(message, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)
