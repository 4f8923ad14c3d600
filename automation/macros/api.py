"""Macros in the REST API (``/api/v1/macros/``), admins only: the shared macros and the
requesting admin's own personal ones (another agent's personal macros stay private)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from automation.macros import services
from automation.models import Macro
from helpdesk.api.views import ID_PATTERN, METHODS_WITHOUT_PUT, NameCursorPagination, request_user
from helpdesk.models import Team, User
from helpdesk.permissions import IsAdmin


class MacroSerializer(serializers.ModelSerializer):
    """``shared``: true for a macro every agent sees (owner empty), false for the
    requesting admin's personal macro. The body and the actions are validated by the
    model (``Macro.clean``): an unknown variable or template syntax is a 400 naming it."""

    shared = serializers.BooleanField(default=True)
    add_tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    remove_tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    assign_agent = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, required=False
    )
    assign_team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Macro
        fields = [
            "id",
            "name",
            "shared",
            "body",
            "set_status",
            "set_priority",
            "add_tags",
            "remove_tags",
            "assign",
            "assign_agent",
            "assign_team",
            "is_active",
            "usage_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["usage_count", "created_at", "updated_at"]
        # The model's conditional unique constraints are checked by full_clean instead.
        validators: list[Any] = []

    def to_representation(self, instance: Macro) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["shared"] = instance.owner_id is None
        return data

    def build(self, user: User) -> Macro:
        """The validated macro, unsaved: the instance with the sent fields applied, checked
        with ``full_clean`` (errors become a 400)."""
        data = dict(self.validated_data)
        macro = self.instance if self.instance is not None else Macro()
        shared = data.pop("shared", None)
        if shared is not None or macro.pk is None:
            macro.owner = None if (shared is None or shared) else user
        for field, value in data.items():
            setattr(macro, field, value)
        try:
            macro.full_clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(
                error.message_dict if hasattr(error, "error_dict") else error.messages
            ) from error
        return macro


class MacroViewSet(viewsets.ModelViewSet):
    serializer_class = MacroSerializer
    permission_classes = [IsAdmin]
    pagination_class = NameCursorPagination
    lookup_value_regex = ID_PATTERN
    http_method_names = METHODS_WITHOUT_PUT

    def get_queryset(self) -> QuerySet[Macro]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Macro.objects.none()
        return services.visible_macros(request_user(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = MacroSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        macro = services.save_macro(serializer.build(request_user(request)))
        return Response(MacroSerializer(macro).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = MacroSerializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        macro = services.save_macro(serializer.build(request_user(request)))
        return Response(MacroSerializer(macro).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.delete_macro(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.register("macros", MacroViewSet, basename="macro")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
