"""Query-string filters for agents, and the filter pieces every app's list uses.

A value a list cannot honour is a 400 naming the parameter, never a 500 and never ignored.
Shared pieces (import them from any app's ``api/``):

- ``StrictDjangoFilterBackend``: django-filter's backend that also refuses a query parameter
  that is not a filter at all (a typo such as ``?stauts=open`` would otherwise list every row).
  Every list view uses it.
- ``StrictBooleanFilter``: ``true``/``false``/``1``/``0`` and nothing else.
- ``InFilter``: any of several choices, repeated or comma-separated.
- ``IdOrKeywordFilter``: a row id that must exist, or ``me`` / ``none``.
- ``UpdatedSinceFilter``: rows changed at or after a datetime that carries a time zone.
- ``documented``: gives a filter its type and help text in the API schema.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar, cast

import django_filters
from django import forms
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from helpdesk.models import Team, User

# Query parameters every list accepts besides its filters (DRF's renderer switch).
GLOBAL_QUERY_PARAMS = frozenset({"format"})

# "+01:00" arrives as " 01:00" when a client forgets to percent-encode the plus sign.
_UNENCODED_PLUS_OFFSET = re.compile(r" (\d{2}:?\d{2})$")

DATE_TIME_SCHEMA = {"type": "string", "format": "date-time"}

TRUE_WORDS = frozenset({"true", "1"})
FALSE_WORDS = frozenset({"false", "0"})


# --- Form fields -----------------------------------------------------------------------------


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``); anything else is an error, where Django's
    NullBooleanField would quietly read ``?is_active=yse`` as "no filter"."""

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")


class CommaSeparatedMultipleChoiceField(forms.MultipleChoiceField):
    """Several values, repeated (``?status=open&status=pending``) or comma-separated
    (``?status=open,pending``), or both."""

    def to_python(self, value: Any) -> list[str]:
        values = super().to_python(value)
        return [part.strip() for item in values for part in item.split(",") if part.strip()]


class IdOrKeywordField(forms.Field):
    """A row id that must exist, or one of a few keywords (``me``, ``none``)."""

    def __init__(
        self,
        *,
        queryset: QuerySet[Any],
        noun: str,
        keywords: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        self.queryset = queryset
        self.noun = noun
        self.keywords = tuple(keywords)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | str | None:
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in self.keywords:
            return text
        if text.isascii() and text.isdigit() and int(text) > 0:
            return int(text)
        accepted = " or ".join(["an id", *(repr(keyword) for keyword in self.keywords)])
        raise forms.ValidationError(f"Enter {accepted}; got {str(value)[:50]!r}.")

    def validate(self, value: int | str | None) -> None:
        super().validate(value)
        if isinstance(value, int) and not self._exists(value):
            raise forms.ValidationError(f"No {self.noun} with id {value}.")

    def _exists(self, pk: int) -> bool:
        """``queryset.filter(pk=pk).exists()`` through a statement composed once per field:
        the ORM spends several times longer building that one-row query than the database
        spends answering it, on every filtered list request."""
        connection = connections[self.queryset.db]
        low, high = connection.ops.integer_field_range(
            self.queryset.model._meta.pk.get_internal_type()
        )
        if not low <= pk <= high:
            # No row has it, and SQLite could not even bind it.
            return False
        sql, params = self._exists_statement
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, pk])
            return cursor.fetchone() is not None

    @cached_property
    def _exists_statement(self) -> tuple[str, tuple[Any, ...]]:
        candidates = self.queryset.order_by().values("pk")
        sql, params = candidates.query.get_compiler(using=candidates.db).as_sql()
        pk = connections[candidates.db].ops.quote_name("pk")
        # The queryset's own SQL, compiled by the ORM, with its parameters before ours.
        return f"SELECT 1 FROM ({sql}) candidates WHERE candidates.{pk} = %s", tuple(params)  # noqa: S608


class AwareDateTimeField(forms.Field):
    """An ISO 8601 datetime with a time zone; a naive one is refused, because the server
    cannot know which zone the client meant."""

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        parsed = self._parse(text) or self._parse(_UNENCODED_PLUS_OFFSET.sub(r"+\1", text))
        if parsed is None:
            raise forms.ValidationError(
                "Enter an ISO 8601 datetime with a time zone, e.g. 2025-01-31T09:00:00Z."
            )
        if timezone.is_naive(parsed):
            raise forms.ValidationError(
                "Add a time zone to the datetime, e.g. 2025-01-31T09:00:00Z or "
                "2025-01-31T10:00:00+01:00."
            )
        return parsed

    @staticmethod
    def _parse(text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None


# --- Filters ---------------------------------------------------------------------------------


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class InFilter(filters.MultipleChoiceFilter):
    """Rows whose field is any of the given choices."""

    field_class = CommaSeparatedMultipleChoiceField

    def filter(self, qs: QuerySet[Any], value: list[str]) -> QuerySet[Any]:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class IdOrKeywordFilter(filters.Filter):
    """An id, ``none`` for an empty field and ``me`` for the requesting agent."""

    field_class = IdOrKeywordField

    def filter(self, qs: QuerySet[Any], value: int | str | None) -> QuerySet[Any]:
        if value is None:
            return qs
        if value == "none":
            return qs.filter(**{f"{self.field_name}__isnull": True})
        if value == "me":
            request = self.parent.request if self.parent is not None else None
            user = getattr(request, "user", None)
            return qs.filter(**{f"{self.field_name}_id": getattr(user, "pk", None)})
        return qs.filter(**{f"{self.field_name}_id": value})


class UpdatedSinceFilter(filters.Filter):
    """Rows whose ``field_name`` is at or after the given aware datetime."""

    field_class = AwareDateTimeField

    def filter(self, qs: QuerySet[Any], value: datetime | None) -> QuerySet[Any]:
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": value})


_Filter = TypeVar("_Filter", bound=filters.Filter)


def documented(filter_: _Filter, schema: dict[str, Any]) -> _Filter:
    """Give the API schema the filter's type and help text. (Annotating the filter class
    instead would drop the help text, and the annotation would be shared by every
    instance.)"""
    description = filter_.extra.get("help_text", "")
    return cast(_Filter, extend_schema_field({**schema, "description": description})(filter_))


class StrictDjangoFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, refusing query parameters that are neither a filter of the
    view's FilterSet (if it has one) nor a pagination parameter of the view."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        allowed = set(filterset_class.base_filters) if filterset_class is not None else set()
        allowed |= GLOBAL_QUERY_PARAMS
        paginator = getattr(view, "paginator", None)
        if paginator is not None and hasattr(paginator, "query_param_names"):
            allowed |= paginator.query_param_names()
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed - GLOBAL_QUERY_PARAMS)) or "no parameters"
            message = f"Unknown query parameter; this list accepts {known}."
            raise ValidationError({name: [message] for name in unknown})
        return super().filter_queryset(request, queryset, view)


# --- Agents ----------------------------------------------------------------------------------


class AgentFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=User.Role.choices)
    availability = django_filters.ChoiceFilter(choices=User.Availability.choices)
    is_active = StrictBooleanFilter()
    team = django_filters.ModelChoiceFilter(field_name="teams", queryset=Team.objects.all())

    class Meta:
        model = User
        fields = ["role", "availability", "is_active", "team"]
