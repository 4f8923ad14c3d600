"""SLA policies and business-hours calendars in the REST API (``/api/v1/sla-policies/``,
``/api/v1/business-hours/``), admins only. Fields are validated by the models
(``full_clean``), so a bad value is a 400 naming the field, as on the settings pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from automation.models import BusinessHours, SlaPolicy
from automation.sla import services
from automation.sla.forms import SLA_POLICY_FIELDS
from helpdesk.api.views import ID_PATTERN, METHODS_WITHOUT_PUT, NameCursorPagination
from helpdesk.pagination import DefaultCursorPagination
from helpdesk.permissions import IsAdmin


def _drf_error(error: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(
        error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
    )


class PositionCursorPagination(DefaultCursorPagination):
    ordering = "position"


class SlaPolicySerializer(serializers.ModelSerializer):
    # JSON lists: their items are checked by the model's validators on full_clean.
    priorities = serializers.JSONField(required=False)
    channels = serializers.JSONField(required=False)
    customer_tags = serializers.JSONField(required=False)
    pause_statuses = serializers.JSONField(required=False)

    class Meta:
        model = SlaPolicy
        fields = ["id", *SLA_POLICY_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators: list[Any] = []  # the name's uniqueness is checked by full_clean

    def build(self) -> SlaPolicy:
        policy = self.instance if self.instance is not None else SlaPolicy()
        for field, value in self.validated_data.items():
            setattr(policy, field, value)
        return policy


class SlaPolicyViewSet(viewsets.ModelViewSet):
    serializer_class = SlaPolicySerializer
    permission_classes = [IsAdmin]
    pagination_class = PositionCursorPagination
    lookup_value_regex = ID_PATTERN
    http_method_names = METHODS_WITHOUT_PUT

    def get_queryset(self) -> QuerySet[SlaPolicy]:
        return SlaPolicy.objects.all()

    def _save(self, serializer: SlaPolicySerializer) -> SlaPolicy:
        serializer.is_valid(raise_exception=True)
        try:
            return services.save_sla_policy(serializer.build())
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self._save(SlaPolicySerializer(data=request.data))
        return Response(SlaPolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = SlaPolicySerializer(self.get_object(), data=request.data, partial=True)
        return Response(SlaPolicySerializer(self._save(serializer)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.delete_sla_policy(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=100)


class BusinessHoursSerializer(serializers.ModelSerializer):
    weekly_hours = serializers.JSONField()
    holidays = HolidaySerializer(many=True, required=False)

    class Meta:
        model = BusinessHours
        fields = [
            "id",
            "name",
            "time_zone",
            "weekly_hours",
            "holiday_country",
            "holiday_subdivision",
            "holidays",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list[Any] = []

    def validate_holidays(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > 366:
            raise serializers.ValidationError("At most 366 holidays.")
        return value

    def build(self) -> tuple[BusinessHours, list[services.HolidayInput] | None]:
        data = dict(self.validated_data)
        holidays = data.pop("holidays", None)
        hours = self.instance if self.instance is not None else BusinessHours()
        for field, value in data.items():
            setattr(hours, field, value)
        wanted = (
            None
            if holidays is None
            else [services.HolidayInput(item["date"], item["name"]) for item in holidays]
        )
        return hours, wanted


class BusinessHoursViewSet(viewsets.ModelViewSet):
    serializer_class = BusinessHoursSerializer
    permission_classes = [IsAdmin]
    pagination_class = NameCursorPagination
    lookup_value_regex = ID_PATTERN
    http_method_names = METHODS_WITHOUT_PUT

    def get_queryset(self) -> QuerySet[BusinessHours]:
        return BusinessHours.objects.prefetch_related("holidays")

    def _save(self, serializer: BusinessHoursSerializer) -> BusinessHours:
        serializer.is_valid(raise_exception=True)
        hours, holidays = serializer.build()
        try:
            saved = services.save_business_hours(hours, holidays)
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        return self.get_queryset().get(pk=saved.pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        hours = self._save(BusinessHoursSerializer(data=request.data))
        return Response(BusinessHoursSerializer(hours).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = BusinessHoursSerializer(self.get_object(), data=request.data, partial=True)
        return Response(BusinessHoursSerializer(self._save(serializer)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            services.delete_business_hours(self.get_object())
        except services.SlaConfigError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("business-hours", BusinessHoursViewSet, basename="business-hours")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
