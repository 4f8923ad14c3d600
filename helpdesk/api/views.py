"""Teams and agents: every agent reads them, admins change them (``/api/v1/teams/``,
``/api/v1/agents/``). An agent changes their own availability at ``/api/v1/agents/me/``.

Shared pieces (import them from any app's ``api/``):

- ``ID_PATTERN`` / ``METHODS_WITHOUT_PUT``: what a viewset's ``lookup_value_regex`` and
  ``http_method_names`` are unless it has a reason to differ.
- ``request_user``: the signed-in user of a request that the permissions let through.
- ``ReadWriteSerializerMixin``: a read shape and a write shape on one viewset.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from helpdesk.api.exceptions import ServiceErrorsMixin
from helpdesk.api.filters import AgentFilter
from helpdesk.api.serializers import (
    AgentSerializer,
    AgentWriteSerializer,
    AvailabilitySerializer,
    TeamSerializer,
    TeamWriteSerializer,
)
from helpdesk.models import Team, User
from helpdesk.pagination import DefaultCursorPagination
from helpdesk.permissions import IsAdminOrReadOnly, IsStaffMember
from helpdesk.services import (
    HelpdeskError,
    create_agent,
    create_team,
    deactivate_agent,
    delete_team,
    set_availability,
    update_agent,
    update_team,
)

# Primary keys only, so /agents/me/ and /teams/abc/ never reach a detail lookup.
ID_PATTERN = "[0-9]+"
# Changes are PATCHes of the fields sent; a PUT would have to resend every field.
METHODS_WITHOUT_PUT = ["get", "post", "patch", "delete", "head", "options"]


class NameCursorPagination(DefaultCursorPagination):
    ordering = "name"


class UsernameCursorPagination(DefaultCursorPagination):
    ordering = "username"


def request_user(request: Request) -> User:
    """The signed-in user; every API view's permissions let only signed-in users this far."""
    return cast(User, request.user)


class ReadWriteSerializerMixin:
    """Reads answer with ``serializer_class``; create and update validate the body with
    ``write_serializer_class`` and answer with the read shape of the saved row."""

    serializer_class: type[BaseSerializer[Any]]
    write_serializer_class: type[BaseSerializer[Any]]

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if getattr(self, "action", None) in ("create", "partial_update", "update"):
            return self.write_serializer_class
        return self.serializer_class


@extend_schema_view(
    create=extend_schema(request=TeamWriteSerializer, responses={201: TeamSerializer}),
    partial_update=extend_schema(request=TeamWriteSerializer, responses={200: TeamSerializer}),
)
class TeamViewSet(ServiceErrorsMixin, ReadWriteSerializerMixin, viewsets.ModelViewSet):
    """Teams with their members. Deleting a team leaves its tickets without a team."""

    serializer_class = TeamSerializer
    write_serializer_class = TeamWriteSerializer
    permission_classes = [IsAdminOrReadOnly]
    pagination_class = NameCursorPagination
    lookup_value_regex = ID_PATTERN
    http_method_names = METHODS_WITHOUT_PUT

    def get_queryset(self) -> QuerySet[Team]:
        members = User.objects.only("id", "username", "display_name", "first_name", "last_name")
        return Team.objects.prefetch_related(Prefetch("members", queryset=members))

    def _answer(self, team: Team, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(
            TeamSerializer(self.get_queryset().get(pk=team.pk)).data, status=status_code
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TeamWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = create_team(actor=request_user(request), **serializer.validated_data)
        return self._answer(team, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.get_object()
        serializer = TeamWriteSerializer(team, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        team = update_team(team, actor=request_user(request), **serializer.validated_data)
        return self._answer(team)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        delete_team(self.get_object(), actor=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(request=AgentWriteSerializer, responses={201: AgentSerializer}),
    partial_update=extend_schema(request=AgentWriteSerializer, responses={200: AgentSerializer}),
    destroy=extend_schema(
        description="Deactivates the agent (is_active becomes false); their tickets stay.",
        responses={204: None},
    ),
)
class AgentViewSet(ServiceErrorsMixin, ReadWriteSerializerMixin, viewsets.ModelViewSet):
    """Agents and admins. Every agent reads them; only admins create, change or deactivate
    them. Nobody is deleted: DELETE deactivates, so tickets and history keep their author."""

    serializer_class = AgentSerializer
    write_serializer_class = AgentWriteSerializer
    pagination_class = UsernameCursorPagination
    filterset_class = AgentFilter
    lookup_value_regex = ID_PATTERN
    http_method_names = METHODS_WITHOUT_PUT
    conflict_errors = (HelpdeskError,)

    def get_permissions(self) -> list[BasePermission]:
        # The route, not the action: an unsupported method on /me/ has no action and must
        # still be a 405 for an agent, not a 403.
        if "me" in getattr(self, "action_map", {}).values():
            return [IsStaffMember()]
        return [IsAdminOrReadOnly()]

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.prefetch_related(
            Prefetch("teams", queryset=Team.objects.only("id", "name"))
        )

    def _answer(self, agent: User, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(
            AgentSerializer(self.get_queryset().get(pk=agent.pk)).data, status=status_code
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = AgentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent = create_agent(actor=request_user(request), **serializer.validated_data)
        return self._answer(agent, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        agent = self.get_object()
        serializer = AgentWriteSerializer(agent, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        agent = update_agent(agent, actor=request_user(request), **serializer.validated_data)
        return self._answer(agent)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deactivate_agent(self.get_object(), actor=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"], request=None, responses={200: AgentSerializer}, operation_id="agents_me"
    )
    @extend_schema(
        methods=["PATCH"],
        request=AvailabilitySerializer,
        responses={200: AgentSerializer},
        operation_id="agents_me_partial_update",
        description="The signed-in agent changes their own availability, and nothing else.",
    )
    @action(detail=False, methods=["get", "patch"], url_path="me")
    def me(self, request: Request) -> Response:
        user = request_user(request)
        if request.method == "PATCH":
            serializer = AvailabilitySerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            set_availability(user, serializer.validated_data["availability"], actor=user)
        return self._answer(user)
