"""Filters of the ticket list.

A value the list cannot honour is a 400 naming the parameter, never a 500 and never ignored:
an unknown status, an id that is not a number or names no row, a datetime without a time
zone, and a query parameter that is not a filter at all (``StrictDjangoFilterBackend``).
The generic filters live in ``helpdesk.api.filters``; only the tag filter is the ticket's own.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django_filters import rest_framework as filters

from channels_inbox.models import ChannelAccount
from customers.models import Customer
from helpdesk.api.filters import (
    DATE_TIME_SCHEMA,
    IdOrKeywordFilter,
    InFilter,
    UpdatedSinceFilter,
    documented,
)
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import Team, User
from tickets.models import Ticket
from tickets.services import MAX_TAG_LENGTH

# --- Form fields -----------------------------------------------------------------------------


class MultipleCharField(forms.Field):
    """Several free-text values from a repeated parameter."""

    widget = forms.SelectMultiple

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        self.max_length = max_length
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            raise forms.ValidationError("Enter a list of values.")
        cleaned = [" ".join(str(item).split()).lower() for item in value]
        return [item for item in cleaned if item]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        for item in value:
            if len(item) > self.max_length:
                raise forms.ValidationError(
                    f"{item[:20]!r}… is longer than {self.max_length} characters."
                )


# --- Filters ---------------------------------------------------------------------------------


class AllTagsFilter(filters.Filter):
    """Tickets carrying every one of the given tags."""

    field_class = MultipleCharField

    def filter(self, qs: QuerySet[Any], value: list[str]) -> QuerySet[Any]:
        # One join per tag: a ticket holds each tag once, so no row repeats.
        for name in value:
            qs = qs.filter(tags__name=name)
        return qs


ID_OR_KEYWORD = {"type": "string"}


class TicketFilter(filters.FilterSet):
    status = InFilter(
        choices=Ticket.Status.choices,
        help_text="One or more statuses, repeated or comma-separated.",
    )
    priority = InFilter(
        choices=Ticket.Priority.choices,
        help_text="One or more priorities, repeated or comma-separated.",
    )
    channel = InFilter(
        choices=ChannelKind.choices, help_text="One or more channels, repeated or comma-separated."
    )
    assignee = documented(
        IdOrKeywordFilter(
            queryset=User.objects.all(),
            noun="agent",
            keywords=("me", "none"),
            help_text="An agent's id, 'me' for your own tickets or 'none' for unassigned ones.",
        ),
        ID_OR_KEYWORD,
    )
    team = documented(
        IdOrKeywordFilter(
            queryset=Team.objects.all(),
            noun="team",
            keywords=("none",),
            help_text="A team's id, or 'none' for tickets without a team.",
        ),
        ID_OR_KEYWORD,
    )
    channel_account = documented(
        IdOrKeywordFilter(
            queryset=ChannelAccount.objects.all(),
            noun="channel account",
            keywords=("none",),
            help_text="A channel account's id, or 'none' for tickets opened without one.",
        ),
        ID_OR_KEYWORD,
    )
    customer = documented(
        IdOrKeywordFilter(
            queryset=Customer.objects.all(), noun="customer", help_text="A customer's id."
        ),
        {"type": "integer", "minimum": 1},
    )
    tag = documented(
        AllTagsFilter(
            max_length=MAX_TAG_LENGTH,
            help_text="A tag name; repeat it for tickets carrying every one of the tags.",
        ),
        {"type": "array", "items": {"type": "string", "maxLength": MAX_TAG_LENGTH}},
    )
    updated_since = documented(
        UpdatedSinceFilter(
            field_name="updated_at",
            help_text="Tickets changed at or after this ISO 8601 datetime, which must carry a "
            "time zone (2025-01-31T09:00:00Z).",
        ),
        DATE_TIME_SCHEMA,
    )

    class Meta:
        model = Ticket
        fields: list[str] = []
