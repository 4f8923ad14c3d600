"""Business-time maths: weekends, holidays (library and custom), DST changes in
Europe/Berlin, several intervals a day, and 24/7."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from automation.models import BusinessHours, Holiday
from automation.models.calendars import validate_weekly_hours
from automation.sla.calendar import (
    add_business_minutes,
    business_minutes_between,
    is_open,
    next_opening,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = {
    day: [["09:00", "17:00"]] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def office() -> BusinessHours:
    return BusinessHours.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", weekly_hours=OFFICE, holiday_country="DE"
    )


def test_adding_over_a_weekend_and_the_spring_dst_change(office: BusinessHours) -> None:
    """Fri 27 Mar 2026 16:00 CET + 120 min: 60 on Friday, then Monday 30 Mar (CEST, since
    Sunday 29 Mar) 09:00 + 60 = 10:00 CEST = 08:00 UTC."""
    start = berlin(2026, 3, 27, 16, 0)
    assert add_business_minutes(office, start, 120) == utc(2026, 3, 30, 8, 0)
    assert business_minutes_between(office, start, utc(2026, 3, 30, 8, 0)) == 120


def test_adding_over_the_autumn_dst_change(office: BusinessHours) -> None:
    """Fri 23 Oct 2026 16:00 CEST + 120 min → Mon 26 Oct 10:00 CET (clocks went back on
    Sunday 25 Oct) = 09:00 UTC."""
    assert add_business_minutes(office, berlin(2026, 10, 23, 16, 0), 120) == utc(2026, 10, 26, 9, 0)


def test_public_holidays_of_the_country_are_closed(office: BusinessHours) -> None:
    """Thu 2 Apr 2026 16:00 CEST + 120: Good Friday (3 Apr) and Easter Monday (6 Apr) are
    closed, so the second hour is Tue 7 Apr 09:00–10:00 CEST = 08:00 UTC."""
    assert add_business_minutes(office, berlin(2026, 4, 2, 16, 0), 120) == utc(2026, 4, 7, 8, 0)
    assert not is_open(office, berlin(2026, 4, 3, 10, 0))


def test_custom_holidays_are_closed(office: BusinessHours) -> None:
    """With a company day off on Tue 7 Apr the same two hours end Wed 8 Apr 10:00 CEST."""
    Holiday.objects.create(business_hours=office, date=date(2026, 4, 7), name="Team offsite")
    assert add_business_minutes(office, berlin(2026, 4, 2, 16, 0), 120) == utc(2026, 4, 8, 8, 0)


def test_subdivision_holidays(office: BusinessHours) -> None:
    """Epiphany (6 Jan) is a holiday in Bavaria, not in Berlin."""
    assert is_open(office, berlin(2026, 1, 6, 10, 0))
    office.holiday_subdivision = "BY"
    office.save()
    assert not is_open(office, berlin(2026, 1, 6, 10, 0))


def test_several_intervals_a_day() -> None:
    """Mon 09–12 and 13–17: 11:30 + 60 min is 13:30 (the lunch hour does not count)."""
    hours = BusinessHours.objects.create(
        name="Split", time_zone="Europe/Berlin",
        weekly_hours={"monday": [["09:00", "12:00"], ["13:00", "17:00"]]},
    )  # fmt: skip
    assert add_business_minutes(hours, berlin(2026, 6, 1, 11, 30), 60) == berlin(2026, 6, 1, 13, 30)
    assert (
        business_minutes_between(hours, berlin(2026, 6, 1, 8, 0), berlin(2026, 6, 1, 18, 0)) == 420
    )
    assert not is_open(hours, berlin(2026, 6, 1, 12, 30))
    assert next_opening(hours, berlin(2026, 6, 1, 12, 30)) == berlin(2026, 6, 1, 13, 0)
    # After Monday's close the next opening is the next Monday.
    assert next_opening(hours, berlin(2026, 6, 1, 17, 0)) == berlin(2026, 6, 8, 9, 0)


def test_open_all_day_across_dst_counts_real_minutes() -> None:
    """00:00–24:00 every day: Sat 28 Mar 12:00 CET to Sun 29 Mar 12:00 CEST is 23 hours."""
    hours = BusinessHours.objects.create(
        name="Always",
        time_zone="Europe/Berlin",
        weekly_hours={day: [["00:00", "24:00"]] for day in ("saturday", "sunday")},
    )
    minutes = business_minutes_between(
        hours, berlin(2026, 3, 28, 12, 0), berlin(2026, 3, 29, 12, 0)
    )
    assert minutes == 23 * 60


def test_no_calendar_is_always_open() -> None:
    start = berlin(2026, 3, 28, 23, 0)
    assert is_open(None, start)
    assert next_opening(None, start) == start
    assert add_business_minutes(None, start, 240) == utc(2026, 3, 29, 2, 0)
    assert business_minutes_between(None, start, utc(2026, 3, 29, 2, 0)) == 240


def test_open_and_next_opening(office: BusinessHours) -> None:
    assert is_open(office, berlin(2026, 3, 27, 9, 0))
    assert not is_open(office, berlin(2026, 3, 27, 17, 0))  # the end is not open
    assert next_opening(office, berlin(2026, 3, 27, 17, 0)) == utc(2026, 3, 30, 7, 0)
    assert next_opening(office, berlin(2026, 3, 27, 10, 0)) == berlin(2026, 3, 27, 10, 0)


def test_naive_datetimes_are_refused(office: BusinessHours) -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(office, datetime(2026, 3, 27, 10, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "object keyed by weekday"),
        ({"funday": [["09:00", "17:00"]]}, "Unknown weekday"),
        ({"monday": [["9:00", "17:00"]]}, "HH:MM"),
        ({"monday": [["09:00", "24:30"]]}, "after 24:00"),
        ({"monday": [["17:00", "09:00"]]}, "ends before it starts"),
        ({"monday": [["09:00", "13:00"], ["12:00", "17:00"]]}, "must not overlap"),
        ({"monday": "09:00-17:00"}, "list of [start, end]"),
        ({"monday": [["09:00"]]}, "not a [start, end] pair"),
        ({"monday": []}, "at least one interval"),
    ],
)
def test_weekly_hours_are_validated_strictly(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        validate_weekly_hours(value)


def test_a_full_day_validates_and_is_open_until_midnight() -> None:
    weekly = {"sunday": [["00:00", "24:00"]]}
    validate_weekly_hours(weekly)  # raises on a refusal
    hours = BusinessHours.objects.create(
        name="Sundays", time_zone="Europe/Berlin", weekly_hours=weekly
    )

    assert is_open(hours, berlin(2026, 6, 7, 23, 59))
    assert not is_open(hours, berlin(2026, 6, 8, 0, 0))
