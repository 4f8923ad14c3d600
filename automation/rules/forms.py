"""The rule form of the settings page. Conditions and actions arrive as JSON written by the
builder (static/settings/rules.js) or typed into the fallback text areas; ``Rule.clean``
checks them with the one schema the API uses too."""

from __future__ import annotations

from typing import Any

from django import forms

from automation.models import Rule
from automation.rules.schema import (
    ACTIONS,
    FIELDS,
    OP_LABELS,
    TICKET_UPDATE_FIELDS,
    ref_options,
)
from tickets.models import Ticket


class RuleForm(forms.ModelForm):
    trigger_fields = forms.MultipleChoiceField(
        choices=[(name, name.replace("_", " ").capitalize()) for name in TICKET_UPDATE_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only when these fields changed",
        help_text="Ticket updated only; none checked means any change.",
    )
    time_status = forms.ChoiceField(
        choices=[("", "—"), *[(c, label) for c, label in Ticket.Status.choices if c != "closed"]],
        required=False,
        label="Status",
    )
    time_minutes = forms.IntegerField(
        required=False, min_value=1, label="Minutes", help_text="e.g. 4320 for 3 days."
    )
    conditions = forms.JSONField(
        required=False,
        label="Conditions (JSON)",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text='{"all": [{"field": "priority", "op": "in", "value": ["urgent"]}]}',
    )
    actions = forms.JSONField(
        label="Actions (JSON)",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text='[{"type": "set_status", "status": "pending"}]',
    )

    class Meta:
        model = Rule
        fields = [
            "name",
            "description",
            "active",
            "trigger",
            "trigger_fields",
            "time_basis",
            "time_status",
            "time_minutes",
            "conditions",
            "actions",
            "stop_processing",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"active": "On", "time_basis": "Measured as"}

    def clean_conditions(self) -> Any:
        value = self.cleaned_data.get("conditions")
        return value if value is not None else {}


def _options(pairs: list[tuple[Any, str]]) -> list[list[Any]]:
    return [[value, label] for value, label in pairs]


def builder_schema() -> dict[str, Any]:
    """What the builder offers: fields with their operators and options, action types with
    their parameters, and the objects (agents, teams ...) a rule can name."""
    refs: dict[str, list[tuple[Any, str]]] = {
        kind: list(ref_options(kind)) for kind in ("team", "agent", "channel_account", "macro")
    }
    refs["business_hours"] = list(ref_options("business_hours"))
    fields: dict[str, dict[str, Any]] = {
        name: {
            "label": spec.label,
            "ops": [{"value": op, "label": OP_LABELS[op]} for op in spec.ops],
            "kind": spec.kind,
            "unit": spec.unit,
            "options": _options(spec.choices() if spec.choices else refs.get(spec.ref, [])),
        }
        for name, spec in FIELDS.items()
    }
    statuses = [[code, label] for code, label in Ticket.Status.choices]
    priorities = [[code, label] for code, label in Ticket.Priority.choices]
    actions = {}
    for name, action_spec in ACTIONS.items():
        params = []
        for param, kind in action_spec.params.items():
            options: list[list[Any]] = []
            if kind.startswith(("ref:", "refs:")):
                options = [[pk, label] for pk, label in refs[kind.split(":")[1]]]
            elif kind == "choice:status":
                options = statuses
            elif kind == "choice:priority":
                options = priorities
            params.append({"name": param, "kind": kind, "options": options})
        actions[name] = {"label": action_spec.label, "params": params}
    return {"fields": fields, "actions": actions}
