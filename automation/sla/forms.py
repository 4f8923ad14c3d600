"""Forms of the SLA settings pages. They read the request into model fields; the services
validate the whole object (``full_clean``) and save it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from automation.models import WEEKDAYS, BusinessHours, SlaPolicy
from automation.models.calendars import parse_clock, validate_weekly_hours
from automation.models.sla import PAUSABLE_STATUSES
from automation.sla.services import HolidayInput
from helpdesk.channel_kinds import ChannelKind
from tickets.models import Ticket

# What an admin sets on an SLA policy, on the settings page and in the REST API alike.
SLA_POLICY_FIELDS = (
    "name",
    "position",
    "active",
    "priorities",
    "channels",
    "customer_tags",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "business_hours",
    "pause_statuses",
    "warning_minutes",
    "escalate_raise_priority",
    "escalate_to_team",
)


class SlaPolicyForm(forms.ModelForm):
    priorities = forms.MultipleChoiceField(
        choices=Ticket.Priority.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any priority.",
    )
    channels = forms.MultipleChoiceField(
        choices=ChannelKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any channel.",
    )
    customer_tags = forms.CharField(
        required=False,
        max_length=500,
        help_text="Comma-separated, e.g. vip, wholesale. The customer has at least one. "
        "Empty: any customer.",
    )
    pause_statuses = forms.MultipleChoiceField(
        choices=[(status.value, status.label) for status in PAUSABLE_STATUSES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Pause the clocks while the ticket is",
    )

    class Meta:
        model = SlaPolicy
        fields = SLA_POLICY_FIELDS
        labels = {
            "first_response_minutes": "First response (minutes)",
            "next_response_minutes": "Next response (minutes)",
            "resolution_minutes": "Resolution (minutes)",
            "warning_minutes": "Warn before due (minutes)",
            "escalate_raise_priority": "Raise the priority one step",
            "escalate_to_team": "Move to team",
        }
        help_texts = {
            "first_response_minutes": "Business minutes from creation to the first reply.",
            "next_response_minutes": "Business minutes from a customer message to the next reply.",
            "resolution_minutes": "Business minutes from creation to solved.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, empty in (
            ("business_hours", "Around the clock (24/7)"),
            ("escalate_to_team", "Keep the team"),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.empty_label = empty
        if not self.is_bound:
            self.initial["customer_tags"] = ", ".join(self.instance.customer_tags)
            if self.instance.pk is None:
                # A new policy pauses in both by default, which is what most desks want.
                self.initial["pause_statuses"] = [str(status) for status in PAUSABLE_STATUSES]

    def clean_customer_tags(self) -> list[str]:
        raw = self.cleaned_data.get("customer_tags") or ""
        tags: list[str] = []
        for part in raw.split(","):
            tag = " ".join(part.split()).lower()
            if not tag:
                continue
            if len(tag) > 50:
                raise forms.ValidationError(f"“{tag[:20]}…” is longer than 50 characters.")
            if tag not in tags:
                tags.append(tag)
        return tags


def _format_intervals(intervals: list[list[str]]) -> str:
    return ", ".join(f"{start}–{end}" for start, end in intervals)


def parse_intervals(raw: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-17:00" → [["09:00", "12:00"], ["13:00", "17:00"]]; blank is
    closed. Order and overlaps are checked by the model's validator."""
    result: list[list[str]] = []
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        pieces = [piece.strip() for piece in part.replace("–", "-").split("-")]
        if len(pieces) != 2:
            raise forms.ValidationError(f"“{part}” is not a range like 09:00-17:00.")
        for piece in pieces:
            try:
                parse_clock(piece)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from error
        result.append(pieces)
    return result


class BusinessHoursForm(forms.ModelForm):
    """Opening hours as one text field per weekday ("09:00-12:00, 13:00-17:00") and custom
    holidays as lines of "YYYY-MM-DD Name"."""

    holidays_text = forms.CharField(
        label="Custom holidays",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line: 2026-12-24 Christmas Eve. Closed all day.",
    )

    class Meta:
        model = BusinessHours
        fields = ["name", "time_zone", "holiday_country", "holiday_subdivision"]
        labels = {"holiday_country": "Public holidays of", "holiday_subdivision": "Region"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        weekly = self.instance.weekly_hours if self.instance.pk else {}
        for day in WEEKDAYS:
            self.fields[day] = forms.CharField(
                label=day.title(),
                required=False,
                max_length=200,
                initial=_format_intervals(weekly.get(day, []))
                if self.instance.pk
                else ("09:00-17:00" if day not in ("saturday", "sunday") else ""),
                help_text="e.g. 09:00-12:00, 13:00-17:00; empty: closed.",
            )
        if self.instance.pk and not self.is_bound:
            self.initial["holidays_text"] = "\n".join(
                f"{holiday.date:%Y-%m-%d} {holiday.name}"
                for holiday in self.instance.holidays.all()
            )
        self.fields["time_zone"].widget.attrs["list"] = "time-zones"

    def weekday_fields(self) -> list[forms.BoundField]:
        return [self[day] for day in WEEKDAYS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        weekly: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            if day in self.errors:
                continue
            try:
                intervals = parse_intervals(cleaned.get(day) or "")
            except forms.ValidationError as error:
                self.add_error(day, error)
                continue
            if not intervals:
                continue
            try:
                # Order and overlaps, shown next to the day they concern.
                validate_weekly_hours({day: intervals})
            except forms.ValidationError as error:
                messages = [message.split(": ", 1)[-1] for message in error.messages]
                self.add_error(day, [message[:1].upper() + message[1:] for message in messages])
                continue
            weekly[day] = intervals
        if not weekly and not any(day in self.errors for day in WEEKDAYS):
            self.add_error(None, "Open at least one interval in the week.")
        self.instance.weekly_hours = weekly
        return cleaned

    def clean_holidays_text(self) -> list[HolidayInput]:
        holidays: list[HolidayInput] = []
        for number, line in enumerate(
            (self.cleaned_data.get("holidays_text") or "").splitlines(), 1
        ):
            line = line.strip()
            if not line:
                continue
            day, _, name = line.partition(" ")
            try:
                date = dt.date.fromisoformat(day)
            except ValueError as error:
                raise forms.ValidationError(
                    f"Line {number}: “{day}” is not a date like 2026-12-24."
                ) from error
            if not name.strip():
                raise forms.ValidationError(f"Line {number}: give the holiday a name.")
            holidays.append(HolidayInput(date, name.strip()))
        return holidays
