"""Business-hours calendars: when a team works, in which time zone, and which days it is
closed. ``automation.sla.calendar`` does the maths over them."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

import holidays as holidays_library
from django.core.exceptions import ValidationError
from django.db import models

__all__ = ["WEEKDAYS", "BusinessHours", "Holiday", "parse_clock", "validate_weekly_hours"]

# Keys of ``BusinessHours.weekly_hours``, Monday first (``date.weekday()`` order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_INTERVALS_PER_DAY = 6
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def parse_clock(value: Any) -> int:
    """Minutes after midnight of an "HH:MM" wall-clock time; "24:00" is the end of the day.
    Raises ValueError for anything else."""
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a time of the form HH:MM.")
    hours, minutes = int(match[1]), int(match[2])
    if hours == 24 and minutes:
        raise ValueError(f"{value!r} is after 24:00.")
    return hours * 60 + minutes


def validate_weekly_hours(value: Any) -> None:
    """``{"monday": [["09:00", "12:00"], ["13:00", "17:00"]], ...}``: weekday names as keys
    (a missing day is closed), each a list of [start, end) intervals in increasing order that
    do not overlap; an interval ends at "24:00" at the latest and never crosses midnight. At
    least one interval in the week, or nothing would ever be open."""
    if not isinstance(value, dict):
        raise ValidationError("Weekly hours must be an object keyed by weekday name.")
    errors: list[str] = []
    unknown = sorted(str(key) for key in value if key not in WEEKDAYS)
    if unknown:
        errors.append(f"Unknown weekday(s): {', '.join(unknown)}; use {', '.join(WEEKDAYS)}.")
    total = 0
    for day in WEEKDAYS:
        intervals = value.get(day, [])
        if not isinstance(intervals, list):
            errors.append(f"{day.title()}: a list of [start, end] intervals is required.")
            continue
        if len(intervals) > MAX_INTERVALS_PER_DAY:
            errors.append(f"{day.title()}: at most {MAX_INTERVALS_PER_DAY} intervals.")
            continue
        previous_end = -1
        for interval in intervals:
            if not (isinstance(interval, list | tuple) and len(interval) == 2):
                errors.append(f"{day.title()}: {interval!r} is not a [start, end] pair.")
                break
            try:
                start, end = parse_clock(interval[0]), parse_clock(interval[1])
            except ValueError as error:
                errors.append(f"{day.title()}: {error}")
                break
            if start >= end:
                errors.append(f"{day.title()}: {interval[0]}–{interval[1]} ends before it starts.")
                break
            if start < previous_end:
                errors.append(
                    f"{day.title()}: intervals must be in order and must not overlap "
                    f"({interval[0]} starts before the previous one ends)."
                )
                break
            previous_end = end
            total += 1
    if not errors and total == 0:
        errors.append("Open at least one interval in the week.")
    if errors:
        raise ValidationError(errors)


def validate_time_zone(value: str) -> None:
    if not isinstance(value, str) or value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin).")


def validate_holiday_country(value: str) -> None:
    if value and value not in holidays_library.list_supported_countries():
        raise ValidationError(f"{value!r} is not a country the holidays library knows (ISO code).")


class BusinessHours(models.Model):
    """A weekly schedule in one time zone, minus public holidays of a country (optionally a
    subdivision, e.g. DE/BY) and the calendar's own ``Holiday`` dates."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, validators=[validate_time_zone], help_text="IANA name, e.g. Europe/Berlin."
    )
    weekly_hours = models.JSONField(
        default=dict,
        blank=True,  # validators skip an empty week; save_business_hours refuses it
        validators=[validate_weekly_hours],
        help_text='{"monday": [["09:00", "17:00"]], ...}; a missing day is closed.',
    )
    holiday_country = models.CharField(
        max_length=3,
        blank=True,
        validators=[validate_holiday_country],
        help_text="Country (ISO code) whose public holidays close it, e.g. DE.",
    )
    holiday_subdivision = models.CharField(
        max_length=10, blank=True, help_text="Optional region of that country, e.g. BY."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.holiday_subdivision and not self.holiday_country:
            raise ValidationError({"holiday_subdivision": "Choose the country first."})
        if self.holiday_country and self.holiday_subdivision:
            supported = holidays_library.list_supported_countries().get(self.holiday_country, [])
            if self.holiday_subdivision not in supported:
                raise ValidationError(
                    {
                        "holiday_subdivision": (
                            f"{self.holiday_subdivision!r} is not a subdivision of "
                            f"{self.holiday_country}."
                        )
                    }
                )

    def intervals_for(self, weekday: int) -> list[tuple[int, int]]:
        """The opening intervals of a weekday (0 = Monday) as minutes after midnight."""
        return [
            (parse_clock(start), parse_clock(end))
            for start, end in self.weekly_hours.get(WEEKDAYS[weekday], [])
        ]


class Holiday(models.Model):
    """A day the calendar is closed all day, besides the country's public holidays."""

    business_hours = models.ForeignKey(
        BusinessHours, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["business_hours", "date"], name="holiday_unique_date_per_calendar"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date:%Y-%m-%d})"
