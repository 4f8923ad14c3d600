"""The workspace's forms: they read and check what the browser sends; the services decide.

Every form here turns bad input into a message fit to show the agent, never a 500."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import Team, User
from tickets import inbox
from tickets.models import Ticket
from tickets.services import MAX_TAG_LENGTH, REPLY_STATUSES

MAX_SEARCH_LENGTH = 200
MAX_CURSOR_LENGTH = 1000


def _choices(values: Any, blank: str = "") -> list[tuple[str, str]]:
    return [("", blank), *[(value, str(label)) for value, label in values]]


def _id_or_keyword(value: str, keywords: tuple[str, ...], noun: str, exists: Any) -> str:
    if value in keywords:
        return value
    if not value.isdigit() or len(value) > 18:
        raise ValidationError(f"Choose an {noun} from the list.")
    if not exists(int(value)):
        raise ValidationError(f"That {noun} does not exist.")
    return value


class InboxQueryForm(forms.Form):
    """The inbox's query string: view, sort, filters, search and the page cursor."""

    view = forms.ChoiceField(
        required=False, choices=[(slug, view.label) for slug, view in inbox.VIEWS.items()]
    )
    sort = forms.ChoiceField(
        required=False, choices=[(slug, sort.label) for slug, sort in inbox.SORTS.items()]
    )
    channel = forms.ChoiceField(required=False, choices=_choices(ChannelKind.choices))
    priority = forms.ChoiceField(required=False, choices=_choices(Ticket.Priority.choices))
    status = forms.ChoiceField(required=False, choices=_choices(Ticket.Status.choices))
    tag = forms.CharField(required=False, max_length=MAX_TAG_LENGTH)
    assignee = forms.CharField(required=False, max_length=20)
    team = forms.CharField(required=False, max_length=20)
    q = forms.CharField(required=False, max_length=MAX_SEARCH_LENGTH)
    cursor = forms.CharField(required=False, max_length=MAX_CURSOR_LENGTH)

    def clean_tag(self) -> str:
        return " ".join(self.cleaned_data["tag"].split()).lower()

    def clean_assignee(self) -> str:
        value = self.cleaned_data["assignee"].strip()
        if not value:
            return ""
        return _id_or_keyword(
            value, ("me", "none"), "agent", lambda pk: User.objects.filter(pk=pk).exists()
        )

    def clean_team(self) -> str:
        value = self.cleaned_data["team"].strip()
        if not value:
            return ""
        return _id_or_keyword(
            value, ("none",), "team", lambda pk: Team.objects.filter(pk=pk).exists()
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        cursor = data.get("cursor")
        if cursor and "view" not in self.errors and "sort" not in self.errors:
            try:
                inbox.decode_cursor(self.sort_order, cursor)
            except inbox.CursorError as error:
                self.add_error("cursor", str(error))
        return data

    @property
    def inbox_view(self) -> inbox.InboxView:
        return inbox.VIEWS[self.cleaned_data.get("view") or inbox.DEFAULT_VIEW]

    @property
    def sort_order(self) -> inbox.SortOrder:
        return inbox.SORTS[self.cleaned_data.get("sort") or self.inbox_view.default_sort]

    @property
    def filters(self) -> inbox.InboxFilters:
        data = self.cleaned_data
        return inbox.InboxFilters(
            channel=data.get("channel", ""),
            tag=data.get("tag", ""),
            priority=data.get("priority", ""),
            status=data.get("status", ""),
            assignee=data.get("assignee", ""),
            team=data.get("team", ""),
            text=" ".join(data.get("q", "").split()),
        )

    def error_text(self) -> str:
        """Every problem in one line, naming the parameter: "priority: Select a valid
        choice. bogus is not one of the available choices." """
        parts = []
        for name, messages in self.errors.items():
            text = " ".join(str(message) for message in messages)
            parts.append(text if name == "__all__" else f"{name}: {text}")
        return " ".join(parts)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class ComposerForm(forms.Form):
    """A reply to the customer or an internal note."""

    REPLY = "reply"
    NOTE = "note"

    mode = forms.ChoiceField(choices=[(REPLY, "Reply"), (NOTE, "Internal note")])
    text = forms.CharField(strip=False, max_length=100_000)
    then_status = forms.ChoiceField(
        required=False,
        choices=_choices(
            [(value, label) for value, label in Ticket.Status.choices if value in REPLY_STATUSES]
        ),
    )
    attachments = MultipleFileField(required=False)

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text.strip():
            raise ValidationError("Write something first.")
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == self.NOTE and data.get("attachments"):
            self.add_error("attachments", "Notes cannot carry attachments; send them in a reply.")
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Ticket.Priority.choices)


class AssigneeForm(forms.Form):
    """An active agent, or nobody (the empty choice)."""

    assignee = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        error_messages={"invalid_choice": "Choose an active agent from the list."},
    )


class TeamForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        error_messages={"invalid_choice": "Choose a team from the list."},
    )


class TagsForm(forms.Form):
    """Tags to add (comma-separated, as typed) and one to remove (a button)."""

    add = forms.CharField(required=False, max_length=500)
    remove = forms.CharField(required=False, max_length=MAX_TAG_LENGTH)

    def clean_add(self) -> list[str]:
        names = [" ".join(part.split()).lower() for part in self.cleaned_data["add"].split(",")]
        names = [name for name in names if name]
        for name in names:
            if len(name) > MAX_TAG_LENGTH:
                raise ValidationError(f"A tag is at most {MAX_TAG_LENGTH} characters.")
        return names

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("add") and not data.get("remove") and not self.errors:
            raise ValidationError("Type a tag to add.")
        return data


def first_error(form: forms.Form) -> str:
    """The form's first message, for a one-line error."""
    for messages in form.errors.values():
        if messages:
            return str(messages[0])
    return "The request could not be read."
