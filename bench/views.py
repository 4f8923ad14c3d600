"""The baseline the ticket list is measured against: the cheapest useful DRF endpoint.

It goes through the same middleware, the same DRF request cycle and the same authentication
and permission classes as the ticket list (taken from the ticket list's own view class, so the
two cannot drift apart), reads one row and renders it as JSON. Whatever the ticket list costs
above this is the cost of listing tickets.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.urls import resolve
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.models import Team

TICKET_LIST_PATH = "/api/v1/tickets/"


@cache
def ticket_list_view_class() -> type[APIView]:
    """The view class serving the ticket list (an APIView or a ViewSet)."""
    view = resolve(TICKET_LIST_PATH).func
    view_class = getattr(view, "cls", None)
    if view_class is None:
        raise RuntimeError(f"{TICKET_LIST_PATH} is not served by a DRF view")
    return view_class


class OneTeamSerializer(serializers.ModelSerializer[Team]):
    class Meta:
        model = Team
        fields = ["id", "name", "slug"]


class OneRowView(APIView):
    def get_authenticators(self) -> list[BaseAuthentication]:
        return [auth() for auth in ticket_list_view_class().authentication_classes]

    def get_permissions(self) -> list[Any]:
        return [permission() for permission in ticket_list_view_class().permission_classes]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = Team.objects.order_by("pk").first()
        return Response(OneTeamSerializer(team).data)
