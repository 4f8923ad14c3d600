"""Bulk actions on the inbox: one change applied to the selected tickets.

Each ticket goes through the same service call as the ticket page's inline edit, one call
per ticket, each in its own transaction: one ticket the service refuses does not undo the
others, and the agent is told which were changed, which already were so and which were
refused, with the service's reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from helpdesk.models import User
from tickets import inbox, services
from tickets.models import Ticket
from tickets.workspace.forms import AssigneeForm, PriorityForm, StatusForm, TagsForm

# Enough for any screen of rows an agent selects by hand; a bigger change is a job for rules.
MAX_BULK_TICKETS = 100


class BulkForm(forms.Form):
    """Which tickets, and which change; the change's own value is read by its own form."""

    ASSIGN = "assignee"
    STATUS = "status"
    PRIORITY = "priority"
    TAG = "tags"
    MERGE = "merge"

    action = forms.ChoiceField(
        choices=[
            (ASSIGN, "Assign"),
            (STATUS, "Set status"),
            (PRIORITY, "Set priority"),
            (TAG, "Add tags"),
            (MERGE, "Merge"),
        ],
        error_messages={"required": "Choose what to do with the selected tickets."},
    )
    ticket = forms.TypedMultipleChoiceField(
        coerce=int,
        choices=[],
        error_messages={"required": "Select at least one ticket."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any number is a valid choice here; clean_ticket checks the tickets exist.
        self.fields["ticket"].valid_value = lambda value: str(value).isdigit()  # type: ignore[attr-defined]

    def clean_ticket(self) -> list[Ticket]:
        ids = list(dict.fromkeys(self.cleaned_data["ticket"]))
        if len(ids) > MAX_BULK_TICKETS:
            raise ValidationError(f"Select at most {MAX_BULK_TICKETS} tickets at a time.")
        tickets = list(inbox.visible_tickets().filter(pk__in=ids).order_by("number"))
        if len(tickets) != len(ids):
            raise ValidationError("Some selected tickets no longer exist; reload the list.")
        return tickets

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == self.MERGE and len(data.get("ticket") or []) < 2:
            raise ValidationError("Select at least two tickets to merge.")
        return data


VALUE_FORMS: dict[str, type[forms.Form]] = {
    BulkForm.ASSIGN: AssigneeForm,
    BulkForm.STATUS: StatusForm,
    BulkForm.PRIORITY: PriorityForm,
    BulkForm.TAG: TagsForm,
}


@dataclass
class BulkOutcome:
    """What a bulk action did, ticket by ticket, for the summary shown to the agent."""

    action: str
    description: str
    changed: list[Ticket] = field(default_factory=list)
    unchanged: list[Ticket] = field(default_factory=list)
    refused: list[tuple[Ticket, str]] = field(default_factory=list)


def _already(ticket: Ticket, action: str, data: dict[str, Any]) -> bool:
    """Whether ``ticket`` already is as the action would make it, so nothing is recorded."""
    if action == BulkForm.STATUS:
        return bool(ticket.status == data["status"])
    if action == BulkForm.PRIORITY:
        return bool(ticket.priority == data["priority"])
    if action == BulkForm.ASSIGN:
        assignee = data["assignee"]
        return ticket.assignee_id == (assignee.pk if assignee else None)
    return False


def _describe(action: str, data: dict[str, Any], target: Ticket | None) -> str:
    if action == BulkForm.STATUS:
        return f"Status set to {Ticket.Status(data['status']).label}"
    if action == BulkForm.PRIORITY:
        return f"Priority set to {Ticket.Priority(data['priority']).label}"
    if action == BulkForm.ASSIGN:
        assignee = data["assignee"]
        return f"Assigned to {assignee.name}" if assignee else "Unassigned"
    if action == BulkForm.TAG:
        return "Tagged " + ", ".join(data["add"])
    assert target is not None
    return f"Merged into #{target.number}"


def apply_bulk(
    tickets: list[Ticket],
    action: str,
    data: dict[str, Any],
    actor: User,
    change: Callable[[Ticket, str, dict[str, Any], User], None],
) -> BulkOutcome:
    """Apply ``action`` to each ticket through ``change`` (the inline edit's service call),
    or merge every ticket into the oldest one, and say how each went. ``tickets`` are in
    number order."""
    target = tickets[0] if action == BulkForm.MERGE else None
    outcome = BulkOutcome(action, _describe(action, data, target))
    for ticket in tickets:
        if ticket is target:
            continue
        if _already(ticket, action, data):
            outcome.unchanged.append(ticket)
            continue
        try:
            if target is not None:
                services.merge_tickets(ticket, target, actor=actor)
            else:
                change(ticket, action, data, actor)
        except services.TicketError as refusal:
            outcome.refused.append((ticket, str(refusal)))
        else:
            outcome.changed.append(ticket)
    return outcome
