"""Rules REST API at ``/api/v1/rules/`` (admins only).

Conditions and actions are checked by ``schema.validate_rule_definition``, the same check
as the settings page and ``Rule.clean``: a bad definition is a 400 whose errors are keyed by
field. ``POST /api/v1/rules/simulate/`` runs the simulator on an unsaved definition;
``GET /api/v1/rules/<id>/simulate/`` on a saved rule.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from automation.models import Rule
from automation.rules.schema import validate_rule_definition
from automation.rules.services import Simulation, save_rule, simulate_rule
from helpdesk.api.views import ID_PATTERN, METHODS_WITHOUT_PUT
from helpdesk.models import User
from helpdesk.permissions import IsAdmin


class RuleSerializer(serializers.ModelSerializer[Rule]):
    conditions = serializers.JSONField(required=False)
    actions = serializers.JSONField()
    trigger_fields = serializers.JSONField(required=False)

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "description",
            "active",
            "position",
            "trigger",
            "trigger_fields",
            "time_basis",
            "time_status",
            "time_minutes",
            "conditions",
            "actions",
            "stop_processing",
            "webhook_secret",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "webhook_secret", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance

        def current(name: str, default: Any) -> Any:
            if name in attrs:
                return attrs[name]
            return getattr(instance, name) if instance is not None else default

        try:
            cleaned = validate_rule_definition(
                trigger=current("trigger", ""),
                trigger_fields=current("trigger_fields", []),
                time_basis=current("time_basis", ""),
                time_status=current("time_status", ""),
                time_minutes=current("time_minutes", None),
                conditions=current("conditions", {}),
                actions=current("actions", []),
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        attrs["trigger_fields"] = cleaned.trigger_fields
        attrs["conditions"] = cleaned.conditions
        attrs["actions"] = cleaned.actions
        return attrs


class RulePagination(CursorPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = ("position", "id")


def _simulation_data(simulation: Simulation) -> dict[str, Any]:
    return {
        "since": simulation.since,
        "scanned": simulation.scanned,
        "truncated": simulation.truncated,
        "matches": [
            {
                "ticket_id": match.ticket_id,
                "number": match.number,
                "subject": match.subject,
                "status": match.status,
                "created_at": match.created_at,
                "actions": match.actions,
            }
            for match in simulation.matches
        ],
    }


class RuleViewSet(viewsets.ModelViewSet):
    """Rules in the order they run. Admins only."""

    serializer_class = RuleSerializer
    permission_classes = [IsAdmin]
    pagination_class = RulePagination
    lookup_value_regex = ID_PATTERN
    http_method_names = METHODS_WITHOUT_PUT

    def get_queryset(self) -> QuerySet[Rule]:
        return Rule.objects.order_by("position", "id")

    def _actor(self) -> User:
        user = self.request.user
        assert isinstance(user, User)
        return user

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = save_rule(Rule(**serializer.validated_data), actor=self._actor())

    def perform_update(self, serializer: Any) -> None:
        rule = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(rule, name, value)
        save_rule(rule, actor=self._actor())

    @action(detail=False, methods=["post"])
    def simulate(self, request: Request) -> Response:
        serializer = RuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(_simulation_data(simulate_rule(Rule(**serializer.validated_data))))

    @action(detail=True, methods=["get"], url_path="simulate")
    def simulate_saved(self, request: Request, pk: str) -> Response:
        return Response(_simulation_data(simulate_rule(self.get_object())))


router = SimpleRouter()
router.register("rules", RuleViewSet, basename="rule")

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
