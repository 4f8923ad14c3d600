"""Forms of the routing and teams settings pages: they read and check the request; the
services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from automation.models import TeamRouting
from automation.models.routing import CAPACITY_STATUS_CHOICES
from automation.routing.services import check_languages
from helpdesk.models import Team, User

MAX_CAPACITY = 500


class RoutingForm(forms.Form):
    mode = forms.ChoiceField(choices=TeamRouting.Mode.choices, label="Routing")
    match_skills = forms.BooleanField(
        required=False,
        label="Match skills",
        help_text="A ticket goes to the agents whose skills cover most of its tags.",
    )
    match_language = forms.BooleanField(
        required=False,
        label="Match language",
        help_text="A ticket goes to agents who speak the customer's language, when one does.",
    )
    hand_back_on_offline = forms.BooleanField(
        required=False,
        label="Hand back open tickets when an agent goes offline",
    )
    escalation_team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        empty_label="None",
        label="Escalation team",
        help_text="Tier escalation moves tickets to this team.",
    )
    capacity_statuses = forms.MultipleChoiceField(
        choices=CAPACITY_STATUS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Statuses that count toward capacity",
        error_messages={"required": "Choose at least one status."},
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["escalation_team"].queryset = Team.objects.exclude(pk=team.pk)  # type: ignore[attr-defined]


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, label="Team name")
    slug = forms.SlugField(
        max_length=100, required=False, label="Slug", help_text="Leave empty to derive it."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = (data.get("name") or "").strip()
        if "name" in data and not data.get("slug"):
            data["slug"] = slugify(name)
            if not data["slug"]:
                self.add_error("slug", "Give the team a slug of letters and digits.")
        return data


class AddMemberForm(forms.Form):
    agent = forms.ModelChoiceField(queryset=User.objects.none(), label="Agent")

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(is_active=True).exclude(teams=team).order_by("username")
        )


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


class AgentRoutingForm(forms.Form):
    capacity = forms.IntegerField(
        min_value=0,
        max_value=MAX_CAPACITY,
        label="Capacity",
        help_text="How many open tickets routing may give this agent at once.",
    )
    skills = forms.CharField(
        required=False,
        label="Skills",
        help_text="Ticket tags this agent handles, separated by commas, e.g. refund, wholesale.",
    )
    languages = forms.CharField(
        required=False,
        label="Languages",
        help_text="Language codes, separated by commas, e.g. en, de, pt-BR.",
    )
    availability = forms.ChoiceField(choices=User.Availability.choices, label="Availability")

    def clean_skills(self) -> list[str]:
        skills: list[str] = []
        for raw in _split(self.cleaned_data.get("skills") or ""):
            skill = raw.lower()
            if len(skill) > 50:
                raise ValidationError(f"“{raw[:20]}…” is longer than 50 characters.")
            if skill not in skills:
                skills.append(skill)
        return skills

    def clean_languages(self) -> list[str]:
        return check_languages(_split(self.cleaned_data.get("languages") or ""))


class AvailabilityForm(forms.Form):
    availability = forms.ChoiceField(choices=User.Availability.choices)
