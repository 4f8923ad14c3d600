"""An agent's saved inbox views: a name for the current view, filters and sort.

A saved view is the agent's own screen setting rather than ticket data, so it is written
here, next to the form that checks it, and never touches a ticket.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict

from helpdesk.models import User
from tickets.models import SavedView
from tickets.workspace.forms import InboxQueryForm

MAX_SAVED_VIEWS = 50
# What a saved view keeps of the list's query: never the page it was on.
KEPT_PARAMETERS = ("view", "sort", "channel", "status", "priority", "assignee", "team", "tag", "q")


def normalized_query(query: QueryDict) -> str:
    """The list's query string as a saved view stores it: known, non-empty parameters in a
    fixed order, so one list has one spelling."""
    kept = QueryDict(mutable=True)
    for name in KEPT_PARAMETERS:
        value = query.get(name, "")
        if value:
            kept[name] = value
    return kept.urlencode()


class SaveViewForm(forms.Form):
    name = forms.CharField(max_length=60, error_messages={"required": "Give the view a name."})
    query = forms.CharField(max_length=1000, required=False)

    def clean_query(self) -> str:
        query = normalized_query(QueryDict(self.cleaned_data["query"]))
        checked = InboxQueryForm(QueryDict(query))
        if not checked.is_valid():
            raise ValidationError(f"The view cannot be saved: {checked.error_text()}")
        return query


def saved_views(owner: User) -> list[SavedView]:
    return list(SavedView.objects.filter(owner=owner).only("id", "name", "query"))


def save_view(owner: User, *, name: str, query: str) -> SavedView:
    """Save ``query`` under ``name``; a view of the same name is replaced. Raises
    ``ValidationError`` past ``MAX_SAVED_VIEWS``."""
    with transaction.atomic():
        # The owner's row serializes saves, so two tabs cannot pass the limit together.
        User.objects.select_for_update().filter(pk=owner.pk).first()
        view, created = SavedView.objects.get_or_create(
            owner=owner, name=name, defaults={"query": query}
        )
        if not created:
            SavedView.objects.filter(pk=view.pk).update(query=query)
            view.query = query
        elif SavedView.objects.filter(owner=owner).count() > MAX_SAVED_VIEWS:
            raise ValidationError(f"Keep at most {MAX_SAVED_VIEWS} saved views; delete one first.")
    return view


def delete_view(owner: User, view_id: int) -> bool:
    """Delete one of the owner's views; False when it is not theirs or already gone."""
    deleted, _by_model = SavedView.objects.filter(owner=owner, pk=view_id).delete()
    return bool(deleted)


def nav_context(owner: User, list_query: QueryDict) -> dict[str, Any]:
    return {"saved_views": saved_views(owner), "current_saved_query": normalized_query(list_query)}
