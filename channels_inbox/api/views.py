"""Channel accounts (``/api/v1/channel-accounts/``): admins only, for every method, because
even the list tells which inboxes exist and where their webhooks are."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from channels_inbox.api.serializers import ChannelAccountSerializer, ChannelAccountWriteSerializer
from channels_inbox.models import ChannelAccount
from channels_inbox.services import (
    create_channel_account,
    deactivate_channel_account,
    update_channel_account,
)
from helpdesk.api.exceptions import ServiceErrorsMixin
from helpdesk.api.filters import StrictBooleanFilter
from helpdesk.api.views import (
    ID_PATTERN,
    METHODS_WITHOUT_PUT,
    ReadWriteSerializerMixin,
    request_user,
)
from helpdesk.channel_kinds import ChannelKind
from helpdesk.permissions import IsAdmin


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
