"""Forms of the macro and auto-acknowledgement settings pages."""

from __future__ import annotations

from typing import Any

from django import forms

from automation.macros.templating import AUTO_ACK_VARIABLES, VARIABLES
from automation.models import AutoAcknowledgement, BusinessHours, Macro
from helpdesk.models import User
from tickets.models import Ticket


def _tag_list(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class MacroForm(forms.ModelForm):
    """A macro; the body template and the actions are checked by ``Macro.clean``. Admins
    choose, when creating one, whether it is shared or their own."""

    SHARED, PERSONAL = "shared", "personal"

    add_tags = forms.CharField(
        required=False, max_length=1100, help_text="Comma-separated, e.g. shipping, wismo."
    )
    remove_tags = forms.CharField(required=False, max_length=1100, help_text="Comma-separated.")
    assign_agent = AgentChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("display_name", "username"),
        required=False,
        label="Agent",
        help_text="With “Assign to a chosen agent”.",
    )
    scope = forms.ChoiceField(
        choices=[(SHARED, "Shared with every agent"), (PERSONAL, "Personal: only I see it")],
        initial=SHARED,
        widget=forms.RadioSelect,
        label="Who can use it",
    )

    class Meta:
        model = Macro
        fields = [
            "name",
            "body",
            "set_status",
            "set_priority",
            "add_tags",
            "remove_tags",
            "assign",
            "assign_agent",
            "assign_team",
            "is_active",
        ]
        labels = {
            "set_status": "Set status",
            "set_priority": "Set priority",
            "assign": "Assignee",
            "assign_team": "Move to team",
            "is_active": "Active (offered in the ticket's macro picker)",
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = "Variables: " + ", ".join(
            "{{ " + name + " }}" for name in VARIABLES
        )
        self.initial["add_tags"] = ", ".join(self.instance.add_tags or [])
        self.initial["remove_tags"] = ", ".join(self.instance.remove_tags or [])
        for name, values in (
            ("set_status", Ticket.Status.choices),
            ("set_priority", Ticket.Priority.choices),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "Leave unchanged"), *values]
        for name, empty in (("assign_agent", "Choose an agent"), ("assign_team", "Leave the team")):
            choice_field = self.fields[name]
            assert isinstance(choice_field, forms.ModelChoiceField)
            choice_field.empty_label = empty
        # Only an admin creating a macro chooses; otherwise the scope is what it is.
        if not (user.is_admin and self.instance.pk is None):
            del self.fields["scope"]

    def clean_add_tags(self) -> list[str]:
        return _tag_list(self.cleaned_data["add_tags"])

    def clean_remove_tags(self) -> list[str]:
        return _tag_list(self.cleaned_data["remove_tags"])


class AutoAcknowledgementForm(forms.ModelForm):
    class Meta:
        model = AutoAcknowledgement
        fields = ["enabled", "body", "business_hours", "expected_reply_minutes", "period_hours"]
        labels = {
            "enabled": "Send an acknowledgement to new customer messages",
            "body": "Message",
            "expected_reply_minutes": "Expected reply time (minutes, in business hours)",
            "period_hours": "At most one per ticket every (hours)",
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hours_field = self.fields["business_hours"]
        assert isinstance(hours_field, forms.ModelChoiceField)
        hours_field.queryset = BusinessHours.objects.order_by("name")
        hours_field.empty_label = "Always open"
        self.fields["body"].help_text = "Variables: " + ", ".join(
            "{{ " + name + " }}" for name in AUTO_ACK_VARIABLES
        )
