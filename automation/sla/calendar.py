"""Business-time maths over a ``BusinessHours`` calendar; ``None`` means open 24/7.

Opening intervals are wall-clock times of the calendar's own time zone, so each day is
turned into absolute instants with ``zoneinfo`` before anything is added or measured: on the
Sunday clocks go forward, 00:00–24:00 lasts 23 hours, and 09:00 in winter and in summer are
different UTC hours. A business minute is a real minute inside an opening interval. A wall
time that does not exist (02:30 on the spring-forward night) is read with the offset before
the change, as ``zoneinfo`` does with ``fold=0``.

All functions take and return aware datetimes (any zone; results are in UTC).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_library

from automation.models import BusinessHours

# A calendar with at least one weekly interval opens within a week, holidays aside; two
# years is far past any run of holidays and bounds a search that would otherwise not end.
MAX_SEARCH_DAYS = 800


class CalendarError(ValueError):
    """The calendar never opens (within ``MAX_SEARCH_DAYS``)."""


@functools.lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    found = holidays_library.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(found.keys())


@dataclass
class Calendar:
    """One calendar's schedule loaded once per call: weekly intervals in minutes after
    midnight and the custom holiday dates."""

    zone: ZoneInfo
    weekly: list[list[tuple[int, int]]]
    country: str
    subdivision: str
    custom_closed: frozenset[date]
    _days: dict[date, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    @classmethod
    def load(cls, hours: BusinessHours) -> Calendar:
        return cls(
            zone=ZoneInfo(hours.time_zone),
            weekly=[hours.intervals_for(weekday) for weekday in range(7)],
            country=hours.holiday_country,
            subdivision=hours.holiday_subdivision,
            custom_closed=frozenset(hours.holidays.values_list("date", flat=True))
            if hours.pk
            else frozenset(),
        )

    def is_closed_day(self, day: date) -> bool:
        if day in self.custom_closed:
            return True
        return bool(self.country) and day in _public_holidays(
            self.country, self.subdivision, day.year
        )

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening intervals as UTC instants, in order."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        result: list[tuple[datetime, datetime]] = []
        if not self.is_closed_day(day):
            midnight = datetime(day.year, day.month, day.day)  # noqa: DTZ001  (wall clock)
            for start, end in self.weekly[day.weekday()]:
                result.append((self._instant(midnight, start), self._instant(midnight, end)))
        self._days[day] = result
        return result

    def _instant(self, midnight: datetime, minutes: int) -> datetime:
        # 24:00 is the next day's midnight, which has its own offset after a change.
        wall = midnight + timedelta(minutes=minutes)
        return wall.replace(tzinfo=self.zone).astimezone(UTC)

    def duration_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time from ``start`` to ``end`` (aware, UTC); zero if ``end`` is not after."""
        total = timedelta()
        if end <= start:
            return total
        day = self.local_day(start)
        last_day = self.local_day(end)
        while day <= last_day:
            for interval_start, interval_end in self.intervals(day):
                overlap = min(interval_end, end) - max(interval_start, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total

    def add_duration(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of open time after ``start`` (aware, UTC); a zero duration
        gives the next opening."""
        remaining = duration
        for interval_start, interval_end in self.intervals_from(start):
            begin = max(interval_start, start)
            available = interval_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise CalendarError(f"The calendar does not open within {MAX_SEARCH_DAYS} days of {start}.")

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening intervals that end after ``moment``, in order, for up to
        ``MAX_SEARCH_DAYS`` days."""
        # A day's intervals all lie within that local day, so nothing of the day before can
        # still be open at ``moment``.
        day = self.local_day(moment)
        for offset in range(MAX_SEARCH_DAYS):
            for start, end in self.intervals(day + timedelta(days=offset)):
                if end > moment:
                    yield start, end


class AlwaysOpen:
    """The 24/7 calendar, with ``Calendar``'s duration methods."""

    def duration_between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta())

    def add_duration(self, start: datetime, duration: timedelta) -> datetime:
        return start + duration


def load_calendar(hours: BusinessHours | None) -> Calendar | AlwaysOpen:
    """The calendar's schedule loaded once, for callers doing many computations."""
    return AlwaysOpen() if hours is None else Calendar.load(hours)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("Business-time maths needs aware datetimes.")
    return moment.astimezone(UTC)


def is_open(hours: BusinessHours | None, moment: datetime) -> bool:
    """Whether the calendar is open at ``moment`` (intervals include their start, not their
    end)."""
    moment = _aware(moment)
    if hours is None:
        return True
    calendar = Calendar.load(hours)
    return any(
        start <= moment < end for start, end in calendar.intervals(calendar.local_day(moment))
    )


def next_opening(hours: BusinessHours | None, moment: datetime) -> datetime:
    """``moment`` itself when the calendar is open then, else the start of its next opening
    interval."""
    moment = _aware(moment)
    if hours is None:
        return moment
    for start, _end in Calendar.load(hours).intervals_from(moment):
        return max(start, moment)
    raise CalendarError(f"{hours} does not open within {MAX_SEARCH_DAYS} days of {moment}.")


def add_business_minutes(hours: BusinessHours | None, start: datetime, minutes: float) -> datetime:
    """The moment ``minutes`` business minutes after ``start``. Zero minutes gives the next
    opening (the clock has not run at all until the calendar opens)."""
    start = _aware(start)
    if minutes < 0:
        raise ValueError("minutes must not be negative.")
    if hours is None:
        return start + timedelta(minutes=minutes)
    return Calendar.load(hours).add_duration(start, timedelta(minutes=minutes))


def business_minutes_between(hours: BusinessHours | None, start: datetime, end: datetime) -> float:
    """Business minutes from ``start`` to ``end``; 0 when ``end`` is not after ``start``."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0.0
    if hours is None:
        return (end - start).total_seconds() / 60
    return Calendar.load(hours).duration_between(start, end).total_seconds() / 60
