"""Pagination every list of the API uses.

- ``DefaultCursorPagination``: DRF's cursor pagination over one unique ordering (``-id``,
  ``name``), for lists with no user-chosen sort.
- ``KeysetCursorPagination``: keyset (cursor) pagination over any sortable column, with the
  row id breaking ties, for lists the client may sort (tickets by priority or last message).

Both name the query parameters they read in ``query_param_names()``, so that
``helpdesk.api.filters.StrictDjangoFilterBackend`` accepts them and refuses any other.

Why keyset: DRF's ``CursorPagination`` keeps its place by the first ordering column plus an
offset. That breaks on columns with many equal values (four priorities across thousands of
tickets pass its offset cap) and on nullable columns (a ticket with no message yet has no
``last_message_at`` to compare with). Here the cursor holds the last row's sort value *and*
its id, so every page is one indexed range query whatever the duplicates, and rows added
or removed before the cursor never shift the next page (no row shown twice, none skipped;
only a row whose own sort value changes meanwhile can move past the cursor).

NULL sorts below every value, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Expression, F, Field, Model, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

POSITION = "keyset_position"


class DefaultCursorPagination(CursorPagination):
    """Stable pages over lists that change while an agent pages through them."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"

    def query_param_names(self) -> set[str]:
        """The query parameters this paginator reads (see ``StrictDjangoFilterBackend``)."""
        return {self.cursor_query_param, self.page_size_query_param}


def _encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode_value(raw: Any, output_field: Field[Any, Any]) -> Any:
    """The cursor's sort value as the column's type; ValueError when it is not one."""
    if raw is None:
        return None
    if not isinstance(raw, int | str):
        raise ValueError("unexpected cursor value")
    try:
        value = output_field.to_python(raw)
    except (DjangoValidationError, TypeError) as error:
        raise ValueError(str(error)) from None
    if isinstance(value, datetime) and timezone.is_naive(value):
        raise ValueError("naive datetime in cursor")
    return value


class KeysetCursorPagination(BasePagination):
    """Subclasses name what may be sorted on in ``ordering_fields`` (query value → model
    field or expression) and the ``default_ordering``; a leading ``-`` sorts descending.

    The queryset may give model instances or, from ``.values()``, dicts; a row must carry
    the primary key and, when the ordering is a field, that field (a dict under the
    field's name).

    Bad input is a 400 naming the parameter: an unknown ordering, a page size that is not a
    positive integer, a cursor that was not issued for this ordering. A page size above
    ``max_page_size`` is lowered to it.
    """

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    ordering_query_param: str | None = "ordering"
    page_size = 25
    max_page_size = 100
    ordering_fields: dict[str, str | Expression] = {"id": "id"}
    default_ordering = "-id"

    # --- Query parameters ----------------------------------------------------------------

    def query_param_names(self) -> set[str]:
        names = {self.cursor_query_param, self.page_size_query_param}
        if self.ordering_query_param:
            names.add(self.ordering_query_param)
        return names

    def _read_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() else 0
        if size < 1:
            raise ValidationError({self.page_size_query_param: ["Must be a positive integer."]})
        return min(size, self.max_page_size)

    def _read_ordering(self, request: Request) -> str:
        param = self.ordering_query_param
        raw = request.query_params.get(param) if param else None
        if not param or not raw:
            return self.default_ordering
        if raw.removeprefix("-") not in self.ordering_fields:
            choices = ", ".join(sorted(self.ordering_fields))
            message = f"Unknown ordering {raw!r}; use one of {choices}, with - for descending."
            raise ValidationError({param: [message]})
        return raw

    def _read_cursor(
        self, request: Request, output_field: Field[Any, Any]
    ) -> tuple[bool, Any, int] | None:
        """(reverse, position value, id) of the row the page starts after, or None."""
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            decoded = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
            if decoded["o"] != self.ordering:
                raise ValueError("cursor issued for another ordering")
            reverse = bool(decoded["r"])
            value = _decode_value(decoded["v"], output_field)
            row_id = decoded["i"]
            if not isinstance(row_id, int):
                raise ValueError("cursor id is not an integer")
        except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
            raise ValidationError(
                {self.cursor_query_param: ["Invalid cursor: follow the next and previous links."]}
            ) from None
        return reverse, value, row_id

    def _encode_cursor(self, *, reverse: bool, row: Model | Mapping[str, Any]) -> str:
        if isinstance(row, Mapping):
            value, row_id = row[self.position_name], row[self.pk_name]
        else:
            value, row_id = getattr(row, self.position_name), row.pk
        payload = {"o": self.ordering, "r": int(reverse), "v": _encode_value(value), "i": row_id}
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii")

    # --- Ordering and filtering ------------------------------------------------------------

    def _key(self, queryset: QuerySet[Any]) -> tuple[str | Expression, bool]:
        """The sort expression and whether it can be NULL."""
        key = self.ordering_fields[self.ordering.removeprefix("-")]
        if isinstance(key, str):
            return key, bool(queryset.model._meta.get_field(key).null)
        # Expressions are expected to give a value for every row.
        return key, False

    @staticmethod
    def _order_by(descending: bool, nullable: bool) -> list[OrderBy]:
        position = F(POSITION)
        pk = F("pk")
        if descending:
            first = position.desc(nulls_last=True) if nullable else position.desc()
            return [first, pk.desc()]
        first = position.asc(nulls_first=True) if nullable else position.asc()
        return [first, pk.asc()]

    @staticmethod
    def _after(descending: bool, nullable: bool, value: Any, row_id: int) -> Q:
        """The rows that come after (value, row_id) in this direction."""
        if value is None:
            # Descending, NULLs come last, so only NULL rows with a further id follow; ascending,
            # NULLs come first, so every row with a value follows too.
            nulls = Q(**{f"{POSITION}__isnull": True, "pk__lt" if descending else "pk__gt": row_id})
            return nulls if descending else nulls | Q(**{f"{POSITION}__isnull": False})
        if descending:
            # The first conjunct is redundant but sargable: it lets the database range-scan
            # the (column, id) index instead of evaluating the OR on every row.
            after = Q(**{f"{POSITION}__lte": value}) & (
                Q(**{f"{POSITION}__lt": value}) | Q(**{POSITION: value, "pk__lt": row_id})
            )
            if nullable:
                after |= Q(**{f"{POSITION}__isnull": True})
            return after
        return Q(**{f"{POSITION}__gte": value}) & (
            Q(**{f"{POSITION}__gt": value}) | Q(**{POSITION: value, "pk__gt": row_id})
        )

    # --- Paginating --------------------------------------------------------------------------

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self._read_page_size(request)
        self.ordering = self._read_ordering(request)
        self.pk_name = queryset.model._meta.pk.attname
        key, nullable = self._key(queryset)
        if isinstance(key, str):
            # The row carries the field already; selecting it again as POSITION would have
            # the database send, and the driver convert, every value twice.
            queryset = queryset.alias(**{POSITION: F(key)})
            self.position_name = queryset.model._meta.get_field(key).attname
        else:
            queryset = queryset.annotate(**{POSITION: key})
            self.position_name = POSITION
        cursor = self._read_cursor(request, queryset.query.annotations[POSITION].output_field)

        descending = self.ordering.startswith("-")
        reverse = cursor is not None and cursor[0]
        # A previous page is the next page of the same list read backwards.
        walk_descending = descending != reverse
        if cursor is not None:
            _, value, row_id = cursor
            if value is None and not nullable:
                raise ValidationError({self.cursor_query_param: ["Invalid cursor."]})
            queryset = queryset.filter(self._after(walk_descending, nullable, value, row_id))
        queryset = queryset.order_by(*self._order_by(walk_descending, nullable))

        rows = list(queryset[: self.page_size + 1])
        has_more = len(rows) > self.page_size
        page = rows[: self.page_size]
        if reverse:
            page.reverse()
            self.has_next, self.has_previous = True, has_more
        else:
            self.has_next, self.has_previous = has_more, cursor is not None
        self.page = page
        return page

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        cursor = self._encode_cursor(reverse=False, row=self.page[-1])
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.page:
            return remove_query_param(self.base_url, self.cursor_query_param)
        cursor = self._encode_cursor(reverse=True, row=self.page[0])
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Sequence[Any]) -> Response:
        return Response(
            OrderedDict(
                [
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    # --- Schema ------------------------------------------------------------------------------

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The position to continue from: follow the next and previous links.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
        if self.ordering_query_param and len(self.ordering_fields) > 1:
            choices = sorted(self.ordering_fields)
            parameters.append(
                {
                    "name": self.ordering_query_param,
                    "required": False,
                    "in": "query",
                    "description": f"Sort order; {self.default_ordering} when absent. Ties "
                    "are broken by id in the same direction.",
                    "schema": {
                        "type": "string",
                        "enum": [*choices, *(f"-{choice}" for choice in choices)],
                    },
                }
            )
        return parameters
